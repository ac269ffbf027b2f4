"""Exit codes of every `manyskills` command, in one place (imports nothing, so any CLI module can use it).

0 success (for `check`: no findings), 1 `check` found something, 2 usage or runtime error.
"""

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2
