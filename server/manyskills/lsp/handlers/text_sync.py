"""didOpen / didChange / didClose: keep the session's copy of each document and hand it to the scheduler."""

from __future__ import annotations

import logging

from lsprotocol import types as lsp

from manyskills.index.languages import language_for_lsp_id, language_for_path
from manyskills.lsp.scheduler import schedule
from manyskills.lsp.session import Session

log = logging.getLogger(__name__)


def did_open(session: Session, params: lsp.DidOpenTextDocumentParams) -> None:
    doc = params.text_document
    language = language_for_lsp_id(doc.language_id) or language_for_path(doc.uri)
    if language is None:
        log.info("not analysing %s: unsupported language %r", doc.uri, doc.language_id)
        return
    state = session.documents.open(doc.uri, language, doc.version, doc.text, session.settings.max_file_bytes)
    schedule(session, state, debounce=False)


def did_change(session: Session, params: lsp.DidChangeTextDocumentParams) -> None:
    state = session.documents.get(params.text_document.uri)
    if state is None:
        return
    session.documents.change(state, params.text_document.version, list(params.content_changes),
                             session.position_encoding, session.settings.max_file_bytes)
    schedule(session, state)


def did_close(session: Session, params: lsp.DidCloseTextDocumentParams) -> None:
    state = session.documents.close(params.text_document.uri)
    if state is not None and session.analyzer is not None:
        session.analyzer.embeddings.remove(state.uri)
    session.publish_diagnostics(params.text_document.uri, [])
