"""From indexed functions and model results to findings, shared by the language server and the CLI."""
