"""The workspace's functions, found three ways: a scan that indexes every file (on a worker thread),
semantic search (BM25 fused with the embedding, search_rank.py), and name matching over the functions
already indexed. `manyskills.search` and `workspace/symbol` both answer from here.

A search that needs the model while it is still loading waits for it, with work-done progress, up to
MODEL_WAIT_S; then it fails with a message that says the model is still loading (an empty list would
read as "nothing matches"). Name matching needs no model and never waits.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass

import numpy as np
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pygls.uris import from_fs_path, to_fs_path

from manyskills.analysis.files import iter_source_files
from manyskills.analysis.scan import scan_files
from manyskills.analysis.search_rank import TokenCache, hybrid_order
from manyskills.index.types import FunctionInfo
from manyskills.lsp.diagnostics import to_diagnostic
from manyskills.lsp.positions import span_to_range
from manyskills.lsp.session import Session
from manyskills.model.jobs import Cancelled

SCAN_PROGRESS_PREFIX = "manyskills-scan"
WAIT_PROGRESS_PREFIX = "manyskills-search-wait"
# How long a search waits for a loading model. The environment variable exists for tests, which
# cannot wait a minute to see the error.
MODEL_WAIT_S = float(os.environ.get("MANYSKILLS_SEARCH_MODEL_WAIT_S", "60"))
_POLL_S = 0.1
_SEARCH_TOKENS = TokenCache()  # function texts tokenised once for BM25, across searches


class ModelNotReady(JsonRpcException):
    """The answer to a search while the model loads past the wait, or failed to load (LSP RequestFailed)."""

    CODE = lsp.LSPErrorCodes.RequestFailed.value


@dataclass(frozen=True)
class FoundFunction:
    uri: str
    function: FunctionInfo
    range: lsp.Range
    score: float
    similarity: float | None = None  # the embedding's cosine, for semantic results


async def scan(session: Session) -> dict:
    if session.scan_token is not None:
        session.scan_token.cancel()  # a newer scan supersedes the running one
    token = session.request_token()
    session.scan_token = token
    progress_token = await _begin_progress(session, SCAN_PROGRESS_PREFIX, "ManySkills: scanning workspace", True)
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
    session.workspace_scanned = True
    findings = 0
    for result in results:
        findings += len(result.findings)
        session.publish_diagnostics(
            result.source, [to_diagnostic(f, result.lines, session.position_encoding) for f in result.findings])
    if progress_token is not None:
        session.progress.end(progress_token, lsp.WorkDoneProgressEnd(message=f"{findings} findings"))
    return {"files": len(results), "functions": sum(len(r.functions) for r in results), "findings": findings}


async def _begin_progress(session: Session, prefix: str, title: str, cancellable: bool) -> str | None:
    if not session.client_features.work_done_progress:
        return None
    progress_token = f"{prefix}-{uuid.uuid4().hex[:8]}"
    try:
        await session.progress.create_async(progress_token)
        session.progress.begin(progress_token, lsp.WorkDoneProgressBegin(
            title=title, cancellable=cancellable, percentage=0))
    except Exception:  # noqa: BLE001 - progress is a nicety
        return None
    return progress_token


async def wait_for_model(session: Session, wait_s: float | None = None) -> None:
    """Returns once the model is ready; raises ModelNotReady if it is still loading after the wait
    (MODEL_WAIT_S unless given) or failed to load. A search that arrives before the engine has even
    been started (right after `initialize`, while the server still asks for its configuration) waits
    the same way: answering it with nothing would look like "no matches"."""
    loop = asyncio.get_running_loop()
    wait_s = MODEL_WAIT_S if wait_s is None else wait_s

    def ready() -> bool:
        return session.engine is not None and session.analyzer is not None and session.engine.wait_ready(0)

    progress_token = None
    if not ready():
        progress_token = await _begin_progress(session, WAIT_PROGRESS_PREFIX, "ManySkills: waiting for the model "
                                               "to load before searching", False)
        deadline = loop.time() + wait_s
        try:
            while not ready() and loop.time() < deadline:
                await asyncio.sleep(_POLL_S)
        finally:
            if progress_token is not None:
                session.progress.end(progress_token, lsp.WorkDoneProgressEnd(
                    message="model ready" if ready() else "model still loading"))
    engine = session.engine
    if not ready():
        raise ModelNotReady(f"ManySkills: the model is still loading (waited {wait_s:g} s); "
                            "search again in a moment")
    if engine.backend is None:
        raise ModelNotReady(f"ManySkills: search is unavailable, the model could not be loaded: "
                            f"{engine.status.message}")


async def semantic(session: Session, query: str, limit: int) -> list[FoundFunction]:
    """Open and workspace functions nearest to the query, best first (the first search scans the workspace)."""
    if not query.strip():
        return []
    await wait_for_model(session)
    if not session.workspace_scanned:  # open documents alone are not the workspace
        await scan(session)
    vector = (await asyncio.wrap_future(session.engine.embed_queries([query])))[0]
    index = session.analyzer.embeddings
    matches = index.search(vector, len(index))  # every function: the lexical side may lift any of them
    # BM25 fused with the embedding ranking (search_rank.py); off the event loop: a large workspace's
    # first tokenisation takes a moment.
    order, fused = await asyncio.to_thread(hybrid_order, query, [m.entry.function.text for m in matches],
                                           np.array([m.score for m in matches]), None, _SEARCH_TOKENS)
    found = []
    for position, score in zip(order[:limit], fused[:limit]):
        match = matches[position]
        entry = match.entry
        found.append(FoundFunction(entry.source, entry.function, _range(session, entry.source, entry.function),
                                   float(score), float(match.score)))
    return found


def by_name(session: Session, query: str, limit: int) -> list[FoundFunction]:
    """Functions of open documents and of the scanned workspace whose name matches the query, best
    first: an exact name, then a prefix, then a substring, then a subsequence (`gtusr` -> `get_user`);
    case-insensitive. No model needed."""
    needle = query.strip().lower()
    candidates: dict[tuple[str, int, int], tuple[str, FunctionInfo]] = {}
    for state in session.documents.all():
        if state.index is not None:
            for function in state.index.functions:
                candidates[(state.uri, function.span.start.line, function.span.start.character)] = (state.uri, function)
    if session.analyzer is not None:
        for entry in session.analyzer.embeddings.entries():
            key = (entry.source, entry.function.span.start.line, entry.function.span.start.character)
            if entry.source not in session.documents:  # an open document's own index is the current one
                candidates.setdefault(key, (entry.source, entry.function))
    scored = []
    for uri, function in candidates.values():
        score = _name_score(needle, function.name.lower(), function.qualified_name.lower())
        if score > 0:
            scored.append((score, uri, function))
    scored.sort(key=lambda item: (-item[0], len(item[2].qualified_name), item[2].qualified_name, item[1]))
    return [FoundFunction(uri, function, _range(session, uri, function), score)
            for score, uri, function in scored[:limit]]


def _name_score(needle: str, name: str, qualified: str) -> float:
    if not needle:
        return 0.0
    if name == needle or qualified == needle:
        return 4.0
    if name.startswith(needle):
        return 3.0
    if needle in qualified:
        return 2.0
    remaining = iter(qualified)
    if all(char in remaining for char in needle):  # a subsequence: each letter found after the last
        return 1.0
    return 0.0


def _range(session: Session, uri: str, function: FunctionInfo) -> lsp.Range:
    state = session.documents.get(uri)
    return span_to_range(state.lines if state else [], function.span, session.position_encoding)
