"""Shared by tests/ and bench/ (neither imports the other's helpers): a raw JSON-RPC client over a
real `manyskills serve` (raw_lsp), an independent reference for what an editor's buffer holds after
LSP content changes (text_reference), and a tiny random model built locally (tinymodel).

It lives at the top of the repository, outside `server/`, because it is development tooling, not part
of the installed package; tests/conftest.py and bench/_common.py put the repository root on sys.path.
"""
