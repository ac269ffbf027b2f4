"""LSP handlers: plain functions `handler(session, params)`, one module per area.

Only routes.py imports these modules, and none imports another (tests/test_architecture.py checks both):
what handlers share lives beside the session (scheduler, diagnostics, actions, review, configuration).
"""
