"""didOpen / didChange / didClose, and the per-document analysis run they schedule.

On every change: re-index incrementally, republish findings of unchanged functions at once from the
cache (shifted to their new lines, no model), cancel the document's stale run, and after the
debounce send only the changed functions to the model, in chunks of `CHUNK_FUNCTIONS` in file order,
publishing after each chunk: a 1,000-function file shows its first warnings after one chunk instead of
after a minute, and other documents' edits and interactive requests (which queue by priority between
jobs, never inside one) wait for one chunk, not for the whole file.
"""

from __future__ import annotations

import asyncio
import logging

from lsprotocol import types as lsp

from manyskills.index.languages import language_for_lsp_id, language_for_path
from manyskills.lsp.diagnostics import publish
from manyskills.lsp.documents import DocumentState
from manyskills.lsp.server import ManySkillsServer
from manyskills.model.engine import PRIORITY_EDIT, Cancelled, CancelToken, EngineUnavailable

log = logging.getLogger(__name__)

CHUNK_FUNCTIONS = 32  # two batches of 16: ~2-4 s of CPU, amortises the per-job padding and publishing


def _language(params_doc: lsp.TextDocumentItem) -> str | None:
    return language_for_lsp_id(params_doc.language_id) or language_for_path(params_doc.uri)


def refresh_from_cache(server: ManySkillsServer, state: DocumentState) -> list:
    """Recompute findings from cached results only; returns the functions that still need the model."""
    if state.index is None or server.analyzer is None or state.language not in server.settings.languages:
        state.findings = []
        state.findings_version = state.version
        return []
    functions = state.index.functions
    hits, misses = server.analyzer.cached(functions)
    state.findings = server.analyzer.findings(state.uri, functions, hits, server.settings, state.lines,
                                              state.comment_prefix)
    state.findings_version = state.version
    return misses


def schedule(server: ManySkillsServer, state: DocumentState, debounce: bool = True) -> None:
    if state.pending is not None:
        state.pending.cancel()  # stale: a newer version supersedes it
    misses = refresh_from_cache(server, state)
    publish(server, state)
    if not misses or server.analyzer is None:
        state.pending = None
        return
    token = CancelToken()
    state.pending = token
    delay = server.settings.debounce_ms / 1000 if debounce else 0.0
    asyncio.get_running_loop().create_task(_run(server, state, token, delay))


async def _run(server: ManySkillsServer, state: DocumentState, token: CancelToken, delay: float) -> None:
    try:
        if delay:
            await asyncio.sleep(delay)
        if token.cancelled:
            return
        misses = refresh_from_cache(server, state)  # the cache may have filled meanwhile
        chunks = [misses[i:i + CHUNK_FUNCTIONS] for i in range(0, len(misses), CHUNK_FUNCTIONS)]
        running = server.analyzer.submit(chunks[0], PRIORITY_EDIT, token) if chunks else None
        for i in range(len(chunks)):
            await asyncio.wrap_future(running)
            if token.cancelled or server.documents.get(state.uri) is not state:
                return
            if i + 1 < len(chunks):
                # The next chunk goes in first (the model never waits for us); work queued meanwhile by
                # other documents runs before it. Then publish what is analysed so far.
                running = server.analyzer.submit(chunks[i + 1], PRIORITY_EDIT, token)
                refresh_from_cache(server, state)
                publish(server, state)
        refresh_from_cache(server, state)
        publish(server, state)
        if server.client_features.pull_diagnostics and server.client_features.diagnostic_refresh:
            server.workspace_diagnostic_refresh(None)  # pull clients re-ask now that results are in
    except (Cancelled, asyncio.CancelledError):
        return
    except EngineUnavailable as exc:
        log.info("analysis of %s skipped: %s", state.uri, exc)
    except Exception:  # noqa: BLE001 - one failing document must not take the server down
        log.exception("analysis of %s failed", state.uri)
    finally:
        if state.pending is token:
            state.pending = None


def reanalyse_all(server: ManySkillsServer) -> None:
    for state in server.documents.all():
        schedule(server, state, debounce=False)


def register(server: ManySkillsServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: ManySkillsServer, params: lsp.DidOpenTextDocumentParams) -> None:
        doc = params.text_document
        language = _language(doc)
        if language is None:
            log.info("not analysing %s: unsupported language %r", doc.uri, doc.language_id)
            return
        state = ls.documents.open(doc.uri, language, doc.version, doc.text, ls.settings.max_file_bytes)
        schedule(ls, state, debounce=False)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: ManySkillsServer, params: lsp.DidChangeTextDocumentParams) -> None:
        state = ls.documents.get(params.text_document.uri)
        if state is None:
            return
        ls.documents.change(state, params.text_document.version, list(params.content_changes),
                            ls.position_encoding, ls.settings.max_file_bytes)
        schedule(ls, state)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: ManySkillsServer, params: lsp.DidCloseTextDocumentParams) -> None:
        state = ls.documents.close(params.text_document.uri)
        if state is not None and ls.analyzer is not None:
            ls.analyzer.embeddings.remove(state.uri)
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=params.text_document.uri,
                                                                          diagnostics=[]))
