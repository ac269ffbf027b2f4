"""Every `workspace/executeCommand` command (names in command_names.py), each `handler(session, args)`
with the command's raw JSON arguments, plus the progress cancel that stops a running scan.

The scan and the search themselves live in workspace_search.py (workspace/symbol searches too). A scan
runs on a worker thread with a cancellation token; a new scan, `$/cancelRequest` or a progress cancel
stops the old one between batches.
"""

from __future__ import annotations

import logging

from lsprotocol import types as lsp

from manyskills.lsp import workspace_search
from manyskills.lsp.actions import resolve_action
from manyskills.lsp.session import Session
from manyskills.lsp.workspace_search import SCAN_PROGRESS_PREFIX

log = logging.getLogger(__name__)
SEARCH_LIMIT, SEARCH_LIMIT_MAX = 20, 200


async def scan_workspace(session: Session, _args: list) -> dict:
    if session.analyzer is None:
        return {"files": 0, "functions": 0, "findings": 0}
    return await workspace_search.scan(session)


async def search(session: Session, args: list) -> list[dict]:
    """`[query, limit?]`: open and workspace functions nearest to the query (the first search scans the
    workspace; waits for a loading model, then fails with a message)."""
    query = args[0] if args and isinstance(args[0], str) else ""
    limit = args[1] if len(args) > 1 and isinstance(args[1], int) and args[1] > 0 else SEARCH_LIMIT
    if not session.settings.skills.search:
        return []
    found = await workspace_search.semantic(session, query, min(limit, SEARCH_LIMIT_MAX))
    return [{"uri": f.uri, "range": session.to_json(f.range), "name": f.function.qualified_name,
             "score": round(f.score, 6), "similarity": round(f.similarity or 0.0, 6)} for f in found]


def stats(session: Session, _args: list) -> dict:
    """Counters for tests and benchmarks: how much work reached the model."""
    engine, analyzer = session.engine, session.analyzer
    return {
        "state": engine.status.state if engine else "idle",
        "backend": type(engine.backend).__name__ if engine and engine.backend else None,
        "functionsAnalysed": engine.functions_analysed if engine else 0,
        "tokensAnalysed": engine.tokens_analysed if engine else 0,
        "queue": engine.queue_length() if engine else 0,
        "cacheEntries": len(analyzer.cache) if analyzer else 0,
        "cacheHits": analyzer.cache.hits if analyzer else 0,
        "cacheMisses": analyzer.cache.misses if analyzer else 0,
        "documents": len(session.documents.all()),
        "handlersInFlight": session.handlers_in_flight(),  # must not grow with traffic
    }


def document_state(session: Session, args: list) -> dict | None:
    """Read-only view of one open document as the server holds it (fault tests, bug reports):
    lets a client check that no edit was lost or misapplied."""
    uri = args[0] if args and isinstance(args[0], str) else None
    state = session.documents.get(uri) if uri else None
    if state is None:
        return None
    return {"uri": state.uri, "version": state.version, "language": state.language,
            "text": state.text, "skipped": state.skip_reason,
            "functions": len(state.index.functions) if state.index else 0,
            "findingsVersion": state.findings_version}


async def show_note(session: Session, args: list) -> None:
    """`[{"message": ...}]` shows the message; `[action data]` resolves the "explain" action first."""
    data = args[0] if args else {}
    message = data.get("message") if isinstance(data, dict) else None
    if message is None and isinstance(data, dict):
        resolved = await resolve_action(session, lsp.CodeAction(title="", data={**data, "action": "explain"}))
        message = resolved.command.arguments[0]["message"] if resolved.command else None
    if message:
        session.show_message(message)


async def apply_fix(session: Session, args: list) -> None:
    """`[action data]`: resolve the "fix" action and apply its edit, or show why there is none."""
    data = args[0] if args and isinstance(args[0], dict) else {}
    resolved = await resolve_action(session, lsp.CodeAction(title="", data={**data, "action": "fix"}))
    if resolved.edit is not None:
        await session.apply_edit(resolved.edit, "ManySkills fix")
    elif resolved.command is not None:
        session.show_message(resolved.command.arguments[0]["message"])


def progress_cancel(session: Session, params: lsp.WorkDoneProgressCancelParams) -> None:
    """The user pressed cancel on the scan's progress notification."""
    if str(params.token).startswith(SCAN_PROGRESS_PREFIX) and session.scan_token is not None:
        session.scan_token.cancel()
