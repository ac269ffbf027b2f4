"""Findings -> LSP diagnostics: pushed on every change (always), pulled when the client asks."""

from __future__ import annotations

import hashlib

from lsprotocol import types as lsp

from manyskills.analysis.findings import Finding
from manyskills.lsp.documents import DocumentState
from manyskills.lsp.positions import span_to_range
from manyskills.lsp.server import ManySkillsServer

SOURCE = "manyskills"
_SEVERITY = {
    "warning": lsp.DiagnosticSeverity.Warning,
    "information": lsp.DiagnosticSeverity.Information,
    "hint": lsp.DiagnosticSeverity.Hint,
}


def to_diagnostic(finding: Finding, lines: list[str], encoding: str, uri_lines=None) -> lsp.Diagnostic:
    related = None
    if finding.related:
        related = []
        for other in finding.related:
            other_lines = uri_lines(other.path) if uri_lines else None
            rng = span_to_range(other_lines or [], other.span, encoding) if other_lines else lsp.Range(
                start=lsp.Position(other.span.start.line, other.span.start.character),
                end=lsp.Position(other.span.end.line, other.span.end.character))
            related.append(lsp.DiagnosticRelatedInformation(
                location=lsp.Location(uri=other.path, range=rng), message=f"similar function `{other.name}`"))
    return lsp.Diagnostic(
        range=span_to_range(lines, finding.span, encoding),
        message=finding.message,
        severity=_SEVERITY[finding.severity],
        code=finding.skill,
        source=SOURCE,
        related_information=related,
        data={
            "skill": finding.skill,
            "score": round(finding.score, 4),
            "function": finding.function.qualified_name,
            "hash": finding.function.content_hash,
            "line": finding.line_in_function,
        },
    )


def diagnostics_for(server: ManySkillsServer, state: DocumentState) -> list[lsp.Diagnostic]:
    lines = state.lines

    def uri_lines(uri: str):
        other = server.documents.get(uri)
        return other.lines if other else None

    return [to_diagnostic(f, lines, server.position_encoding, uri_lines) for f in state.findings]


def publish(server: ManySkillsServer, state: DocumentState) -> None:
    server.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
        uri=state.uri, version=state.version, diagnostics=diagnostics_for(server, state)))


def _result_id(state: DocumentState, diagnostics: list[lsp.Diagnostic]) -> str:
    digest = hashlib.blake2b(digest_size=8)
    for d in diagnostics:
        digest.update(f"{d.range}{d.message}{d.code}".encode())
    return f"{state.version}-{digest.hexdigest()}"


def register(server: ManySkillsServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_DIAGNOSTIC,
                    lsp.DiagnosticOptions(identifier=SOURCE, inter_file_dependencies=True,
                                          workspace_diagnostics=False))
    def pull(ls: ManySkillsServer, params: lsp.DocumentDiagnosticParams):
        state = ls.documents.get(params.text_document.uri)
        if state is None:
            return lsp.RelatedFullDocumentDiagnosticReport(items=[])
        items = diagnostics_for(ls, state)
        result_id = _result_id(state, items)
        if params.previous_result_id == result_id:
            return lsp.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
        return lsp.RelatedFullDocumentDiagnosticReport(items=items, result_id=result_id)
