"""The names of the workspace commands this server answers (routes.py maps each to its handler in
handlers/commands.py; the editor clients call them by these names)."""

SCAN_WORKSPACE = "manyskills.scanWorkspace"
SEARCH = "manyskills.search"
STATS = "manyskills.stats"
DOCUMENT_STATE = "manyskills.documentState"
SHOW_NOTE = "manyskills.showNote"  # code actions' fallback for clients without codeAction/resolve
APPLY_FIX = "manyskills.applyFix"  # likewise
