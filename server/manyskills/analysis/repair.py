"""Model-suggested repairs: when one is safe to offer, and which text it replaces.
Shared by the server's quick fix and `check --review` so both offer exactly the same edits."""

from __future__ import annotations

from manyskills.analysis.findings import Finding
from manyskills.index.functions import DocumentIndex
from manyskills.index.types import Position, Span


def repair_is_valid(finding: Finding, fixed_line: str | None) -> bool:
    """A repair must change the flagged line and must not break the parse of the function."""
    if not fixed_line:
        return False
    lines = finding.function.text.split("\n")
    index = finding.line_in_function
    if not 0 <= index < len(lines) or lines[index].strip() == fixed_line.strip():
        return False
    repaired = "\n".join(lines[:index] + [fixed_line] + lines[index + 1:])
    before = DocumentIndex(finding.function.language, finding.function.text).has_errors
    after = DocumentIndex(finding.function.language, repaired).has_errors
    return before or not after


def line_end(lines: list[str], line: int) -> Position:
    """End of a document line's text (before any `\\r`)."""
    return Position(line, len(lines[line].rstrip("\r")))


def repair_span(finding: Finding, lines: list[str]) -> Span:
    """The whole flagged line, which the repaired line replaces."""
    line = finding.function.span.start.line + finding.line_in_function
    return Span(Position(line, 0), line_end(lines, line))
