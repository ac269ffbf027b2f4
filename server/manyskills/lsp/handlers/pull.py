"""textDocument/diagnostic: pull clients get the findings the scheduler last computed."""

from __future__ import annotations

from lsprotocol import types as lsp

from manyskills.lsp.diagnostics import diagnostics_for, result_id
from manyskills.lsp.session import Session


def document_diagnostic(session: Session, params: lsp.DocumentDiagnosticParams):
    state = session.documents.get(params.text_document.uri)
    if state is None:
        return lsp.RelatedFullDocumentDiagnosticReport(items=[])
    items = diagnostics_for(session, state)
    rid = result_id(state, items)
    if params.previous_result_id == rid:
        return lsp.RelatedUnchangedDocumentDiagnosticReport(result_id=rid)
    return lsp.RelatedFullDocumentDiagnosticReport(items=items, result_id=rid)
