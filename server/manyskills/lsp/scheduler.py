"""The analysis scheduler: when an open document's functions go to the model, and when findings are
republished.

On every change: republish findings of unchanged functions at once from the cache (shifted to their
new lines, no model), cancel the document's stale run, and after the debounce send only the changed
functions to the model, in chunks of `CHUNK_FUNCTIONS` in file order, publishing after each chunk: a
1,000-function file shows its first warnings after one chunk instead of after a minute, and other
documents' edits and interactive requests (which queue by priority between jobs, never inside one)
wait for one chunk, not for the whole file.
"""

from __future__ import annotations

import asyncio
import logging

from manyskills.lsp.diagnostics import publish
from manyskills.lsp.documents import DocumentState
from manyskills.lsp.session import Session
from manyskills.model.engine import EngineUnavailable
from manyskills.model.jobs import PRIORITY_EDIT, Cancelled, CancelToken

log = logging.getLogger(__name__)

CHUNK_FUNCTIONS = 32  # two batches of 16: ~2-4 s of CPU, amortises the per-job padding and publishing


def refresh_from_cache(session: Session, state: DocumentState) -> list:
    """Recompute findings from cached results only; returns the functions that still need the model."""
    if state.index is None or session.analyzer is None or state.language not in session.settings.languages:
        state.findings = []
        state.findings_version = state.version
        return []
    functions = state.index.functions
    hits, misses = session.analyzer.cached(functions)
    state.findings = session.analyzer.findings(state.uri, functions, hits, session.settings, state.lines,
                                               state.comment_prefix)
    state.findings_version = state.version
    return misses


def schedule(session: Session, state: DocumentState, debounce: bool = True) -> None:
    """Publish what the cache knows now; analyse the rest after the debounce (at once if `debounce` is off)."""
    if state.pending is not None:
        state.pending.cancel()  # stale: a newer version supersedes it
    misses = refresh_from_cache(session, state)
    publish(session, state)
    if not misses or session.analyzer is None:
        state.pending = None
        return
    token = CancelToken()
    state.pending = token
    delay = session.settings.debounce_ms / 1000 if debounce else 0.0
    asyncio.get_running_loop().create_task(_run(session, state, token, delay))


async def _run(session: Session, state: DocumentState, token: CancelToken, delay: float) -> None:
    try:
        if delay:
            await asyncio.sleep(delay)
        if token.cancelled:
            return
        misses = refresh_from_cache(session, state)  # the cache may have filled meanwhile
        chunks = [misses[i:i + CHUNK_FUNCTIONS] for i in range(0, len(misses), CHUNK_FUNCTIONS)]
        running = session.analyzer.submit(chunks[0], PRIORITY_EDIT, token) if chunks else None
        for i in range(len(chunks)):
            await asyncio.wrap_future(running)
            if token.cancelled or session.documents.get(state.uri) is not state:
                return
            if i + 1 < len(chunks):
                # The next chunk goes in first (the model never waits for us); work queued meanwhile by
                # other documents runs before it. Then publish what is analysed so far.
                running = session.analyzer.submit(chunks[i + 1], PRIORITY_EDIT, token)
                refresh_from_cache(session, state)
                publish(session, state)
        refresh_from_cache(session, state)
        publish(session, state)
        if session.client_features.pull_diagnostics and session.client_features.diagnostic_refresh:
            session.refresh_diagnostics()  # pull clients re-ask now that results are in
    except (Cancelled, asyncio.CancelledError):
        return
    except EngineUnavailable as exc:
        log.info("analysis of %s skipped: %s", state.uri, exc)
    except Exception:  # noqa: BLE001 - one failing document must not take the server down
        log.exception("analysis of %s failed", state.uri)
    finally:
        if state.pending is token:
            state.pending = None


def reanalyse_all(session: Session) -> None:
    for state in session.documents.all():
        schedule(session, state, debounce=False)
