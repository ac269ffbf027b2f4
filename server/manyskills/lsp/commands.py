"""workspace/executeCommand: `manyskills.scanWorkspace` and `manyskills.search`.

A scan runs on a worker thread with a cancellation token; a new scan, `$/cancelRequest` or a
progress cancel stops the old one between batches. Scanned files that are not open get pushed
diagnostics too, so the Problems list covers the workspace.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path

import numpy as np
from lsprotocol import types as lsp
from pygls.uris import from_fs_path, to_fs_path

from manyskills.analysis.files import iter_source_files
from manyskills.analysis.scan import scan_files
from manyskills.analysis.search_rank import TokenCache, hybrid_order
from manyskills.lsp.diagnostics import to_diagnostic
from manyskills.lsp.positions import span_to_range
from manyskills.lsp.protocol import release, request_token
from manyskills.lsp.server import ManySkillsServer
from manyskills.model.engine import Cancelled

log = logging.getLogger(__name__)
CMD_SCAN = "manyskills.scanWorkspace"
CMD_SEARCH = "manyskills.search"
CMD_STATS = "manyskills.stats"
CMD_DOCUMENT = "manyskills.documentState"
_SEARCH_TOKENS = TokenCache()  # function texts tokenised once for BM25, across searches


def _workspace_roots(server: ManySkillsServer) -> list[Path]:
    roots = []
    for folder in server.workspace.folders.values():
        path = to_fs_path(folder.uri)
        if path:
            roots.append(Path(path))
    if not roots and server.workspace.root_path:
        roots.append(Path(server.workspace.root_path))
    return roots


async def scan_workspace(server: ManySkillsServer) -> dict:
    if server.scan_token is not None:
        server.scan_token.cancel()  # a newer scan supersedes the running one
    token = request_token(server)
    server.scan_token = token
    progress_token = None
    if server.client_features.work_done_progress:
        progress_token = f"manyskills-scan-{uuid.uuid4().hex[:8]}"
        try:
            await server.work_done_progress.create_async(progress_token)
            server.work_done_progress.begin(progress_token, lsp.WorkDoneProgressBegin(
                title="ManySkills: scanning workspace", cancellable=True, percentage=0))
        except Exception:  # noqa: BLE001 - progress is a nicety
            progress_token = None
    loop = asyncio.get_running_loop()

    def report(done: int, total: int) -> None:
        if progress_token is not None:
            loop.call_soon_threadsafe(server.work_done_progress.report, progress_token, lsp.WorkDoneProgressReport(
                message=f"{done}/{total} functions", percentage=int(100 * done / max(total, 1))))

    open_paths = {to_fs_path(uri) for uri in (s.uri for s in server.documents.all())}
    files = [(p, lang) for p, lang in iter_source_files(_workspace_roots(server), server.settings.languages)
             if str(p) not in open_paths]
    try:
        results = await asyncio.to_thread(
            scan_files, server.analyzer, files, server.settings, token, lambda p: from_fs_path(str(p.resolve())),
            report)
    except (Cancelled, asyncio.CancelledError):
        token.cancel()
        if progress_token is not None:
            server.work_done_progress.end(progress_token, lsp.WorkDoneProgressEnd(message="cancelled"))
        raise asyncio.CancelledError() from None
    finally:
        release(server, token)
        if server.scan_token is token:
            server.scan_token = None
    findings = 0
    for result in results:
        findings += len(result.findings)
        server.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
            uri=result.source,
            diagnostics=[to_diagnostic(f, result.lines, server.position_encoding) for f in result.findings]))
    if progress_token is not None:
        server.work_done_progress.end(progress_token, lsp.WorkDoneProgressEnd(message=f"{findings} findings"))
    return {"files": len(results), "functions": sum(len(r.functions) for r in results), "findings": findings}


async def search(server: ManySkillsServer, query: str, limit: int = 20) -> list[dict]:
    if not query.strip():
        return []
    if server.analyzer is None:
        return []
    if len(server.analyzer.embeddings) == 0:
        await scan_workspace(server)
    vector = (await asyncio.wrap_future(server.engine.embed_queries([query])))[0]
    index = server.analyzer.embeddings
    matches = index.search(vector, len(index))  # every function: the lexical side may lift any of them
    # BM25 fused with the embedding ranking (search_rank.py); off the event loop: a large workspace's
    # first tokenisation takes a moment.
    order, fused = await asyncio.to_thread(hybrid_order, query, [m.entry.function.text for m in matches],
                                           np.array([m.score for m in matches]), None, _SEARCH_TOKENS)
    results = []
    for position, score in zip(order[:limit], fused[:limit]):
        match = matches[position]
        entry = match.entry
        state = server.documents.get(entry.source)
        lines = state.lines if state else []
        rng = span_to_range(lines, entry.function.span, server.position_encoding)
        results.append({"uri": entry.source, "range": server.protocol._converter.unstructure(rng),
                        "name": entry.function.qualified_name, "score": round(float(score), 6),
                        "similarity": round(match.score, 6)})
    return results


def register(server: ManySkillsServer) -> None:
    @server.command(CMD_SCAN)
    async def scan_command(ls: ManySkillsServer, *_args) -> dict:
        if ls.analyzer is None:
            return {"files": 0, "functions": 0, "findings": 0}
        return await scan_workspace(ls)

    @server.command(CMD_SEARCH)
    async def search_command(ls: ManySkillsServer, *args) -> list[dict]:
        query = args[0] if args and isinstance(args[0], str) else ""
        limit = args[1] if len(args) > 1 and isinstance(args[1], int) and args[1] > 0 else 20
        if not ls.settings.skills.search:
            return []
        return await search(ls, query, min(limit, 200))

    @server.command(CMD_STATS)
    def stats_command(ls: ManySkillsServer, *_args) -> dict:
        """Counters for tests and benchmarks: how much work reached the model."""
        engine, analyzer = ls.engine, ls.analyzer
        return {
            "state": engine.status.state if engine else "idle",
            "backend": type(engine.backend).__name__ if engine and engine.backend else None,
            "functionsAnalysed": engine.functions_analysed if engine else 0,
            "tokensAnalysed": engine.tokens_analysed if engine else 0,
            "queue": engine.queue_length() if engine else 0,
            "cacheEntries": len(analyzer.cache) if analyzer else 0,
            "cacheHits": analyzer.cache.hits if analyzer else 0,
            "cacheMisses": analyzer.cache.misses if analyzer else 0,
            "documents": len(ls.documents.all()),
            "handlersInFlight": ls.protocol.handlers_in_flight(),  # must not grow with traffic
        }

    @server.command(CMD_DOCUMENT)
    def document_command(ls: ManySkillsServer, *args) -> dict | None:
        """Read-only view of one open document as the server holds it (fault tests, bug reports):
        lets a client check that no edit was lost or misapplied."""
        uri = args[0] if args and isinstance(args[0], str) else None
        state = ls.documents.get(uri) if uri else None
        if state is None:
            return None
        return {"uri": state.uri, "version": state.version, "language": state.language,
                "text": state.text, "skipped": state.skip_reason,
                "functions": len(state.index.functions) if state.index else 0,
                "findingsVersion": state.findings_version}

    @server.feature(lsp.WINDOW_WORK_DONE_PROGRESS_CANCEL)
    def progress_cancel(ls: ManySkillsServer, params: lsp.WorkDoneProgressCancelParams) -> None:
        if str(params.token).startswith("manyskills-scan") and ls.scan_token is not None:
            ls.scan_token.cancel()
