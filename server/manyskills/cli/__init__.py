"""The `manyskills` command line: serve, check, info, train, eval."""
