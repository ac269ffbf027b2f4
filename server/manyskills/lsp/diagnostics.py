"""Findings -> LSP diagnostics, and publishing them (the scheduler pushes on every change; the pull
handler answers `textDocument/diagnostic` from the same conversion)."""

from __future__ import annotations

import hashlib

from lsprotocol import types as lsp

from manyskills.analysis.findings import Finding
from manyskills.lsp.documents import DocumentState
from manyskills.lsp.positions import span_to_range
from manyskills.lsp.session import Session

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


def diagnostics_for(session: Session, state: DocumentState) -> list[lsp.Diagnostic]:
    lines = state.lines

    def uri_lines(uri: str):
        other = session.documents.get(uri)
        return other.lines if other else None

    return [to_diagnostic(f, lines, session.position_encoding, uri_lines) for f in state.findings]


def publish(session: Session, state: DocumentState) -> None:
    session.publish_diagnostics(state.uri, diagnostics_for(session, state), state.version)


def result_id(state: DocumentState, diagnostics: list[lsp.Diagnostic]) -> str:
    digest = hashlib.blake2b(digest_size=8)
    for d in diagnostics:
        digest.update(f"{d.range}{d.message}{d.code}".encode())
    return f"{state.version}-{digest.hexdigest()}"

