"""Every `workspace/executeCommand` command (names in command_names.py), each `handler(session, args)`
with the command's raw JSON arguments, plus the progress cancel that stops a running scan.

A scan runs on a worker thread with a cancellation token; a new scan, `$/cancelRequest` or a progress
cancel stops the old one between batches. Scanned files that are not open get pushed diagnostics too,
so the Problems list covers the workspace.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

import numpy as np
from lsprotocol import types as lsp
from pygls.uris import from_fs_path, to_fs_path

from manyskills.analysis.files import iter_source_files
from manyskills.analysis.scan import scan_files
from manyskills.analysis.search_rank import TokenCache, hybrid_order
from manyskills.lsp.actions import resolve_action
from manyskills.lsp.diagnostics import to_diagnostic
from manyskills.lsp.positions import span_to_range
from manyskills.lsp.session import Session
from manyskills.model.jobs import Cancelled

log = logging.getLogger(__name__)
SCAN_PROGRESS_PREFIX = "manyskills-scan"
SEARCH_LIMIT, SEARCH_LIMIT_MAX = 20, 200
_SEARCH_TOKENS = TokenCache()  # function texts tokenised once for BM25, across searches


async def _scan(session: Session) -> dict:
    if session.scan_token is not None:
        session.scan_token.cancel()  # a newer scan supersedes the running one
    token = session.request_token()
    session.scan_token = token
    progress_token = None
    if session.client_features.work_done_progress:
        progress_token = f"{SCAN_PROGRESS_PREFIX}-{uuid.uuid4().hex[:8]}"
        try:
            await session.progress.create_async(progress_token)
            session.progress.begin(progress_token, lsp.WorkDoneProgressBegin(
                title="ManySkills: scanning workspace", cancellable=True, percentage=0))
        except Exception:  # noqa: BLE001 - progress is a nicety
            progress_token = None
    loop = asyncio.get_running_loop()

    def report(done: int, total: int) -> None:
        if progress_token is not None:
            loop.call_soon_threadsafe(session.progress.report, progress_token, lsp.WorkDoneProgressReport(
                message=f"{done}/{total} functions", percentage=int(100 * done / max(total, 1))))

    open_paths = {to_fs_path(uri) for uri in (s.uri for s in session.documents.all())}
    files = [(p, lang) for p, lang in iter_source_files(session.workspace_roots(), session.settings.languages)
             if str(p) not in open_paths]
    try:
        results = await asyncio.to_thread(
            scan_files, session.analyzer, files, session.settings, token, lambda p: from_fs_path(str(p.resolve())),
            report)
    except (Cancelled, asyncio.CancelledError):
        token.cancel()
        if progress_token is not None:
            session.progress.end(progress_token, lsp.WorkDoneProgressEnd(message="cancelled"))
        raise asyncio.CancelledError() from None
    finally:
        session.release(token)
        if session.scan_token is token:
            session.scan_token = None
    findings = 0
    for result in results:
        findings += len(result.findings)
        session.publish_diagnostics(
            result.source, [to_diagnostic(f, result.lines, session.position_encoding) for f in result.findings])
    if progress_token is not None:
        session.progress.end(progress_token, lsp.WorkDoneProgressEnd(message=f"{findings} findings"))
    return {"files": len(results), "functions": sum(len(r.functions) for r in results), "findings": findings}


async def _search(session: Session, query: str, limit: int) -> list[dict]:
    if not query.strip():
        return []
    if session.analyzer is None:
        return []
    if len(session.analyzer.embeddings) == 0:
        await _scan(session)
    vector = (await asyncio.wrap_future(session.engine.embed_queries([query])))[0]
    index = session.analyzer.embeddings
    matches = index.search(vector, len(index))  # every function: the lexical side may lift any of them
    # BM25 fused with the embedding ranking (search_rank.py); off the event loop: a large workspace's
    # first tokenisation takes a moment.
    order, fused = await asyncio.to_thread(hybrid_order, query, [m.entry.function.text for m in matches],
                                           np.array([m.score for m in matches]), None, _SEARCH_TOKENS)
    results = []
    for position, score in zip(order[:limit], fused[:limit]):
        match = matches[position]
        entry = match.entry
        state = session.documents.get(entry.source)
        lines = state.lines if state else []
        rng = span_to_range(lines, entry.function.span, session.position_encoding)
        results.append({"uri": entry.source, "range": session.to_json(rng),
                        "name": entry.function.qualified_name, "score": round(float(score), 6),
                        "similarity": round(match.score, 6)})
    return results


async def scan_workspace(session: Session, _args: list) -> dict:
    if session.analyzer is None:
        return {"files": 0, "functions": 0, "findings": 0}
    return await _scan(session)


async def search(session: Session, args: list) -> list[dict]:
    """`[query, limit?]`: open and workspace functions nearest to the query (scans first if nothing is indexed)."""
    query = args[0] if args and isinstance(args[0], str) else ""
    limit = args[1] if len(args) > 1 and isinstance(args[1], int) and args[1] > 0 else SEARCH_LIMIT
    if not session.settings.skills.search:
        return []
    return await _search(session, query, min(limit, SEARCH_LIMIT_MAX))


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
