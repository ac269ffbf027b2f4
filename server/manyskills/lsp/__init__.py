"""The language server: state in `session.Session`, every method and command in `routes.py`, handlers in
`handlers/`, the analysis scheduler in `scheduler.py` (see docs/architecture.md)."""
