"""Turn per-function model results into findings anchored to real lines of the document.

A finding is only ever placed on a line inside the function the model read (peers' LLM notes that
land on wrong lines are a top complaint), and only above the user's threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from manyskills.index.types import FunctionInfo, Position, Span
from manyskills.model.types import FunctionAnalysis
from manyskills.settings import Settings
from manyskills.analysis.suppression import is_suppressed

SEVERITY = {"defect": "warning", "flaky": "information", "clone": "information"}


@dataclass(frozen=True)
class RelatedLocation:
    path: str  # uri (server) or file path (CLI)
    span: Span
    name: str


@dataclass(frozen=True)
class Finding:
    skill: str  # "defect" | "flaky" | "clone"
    function: FunctionInfo
    score: float
    message: str
    span: Span  # where the finding is shown (document coordinates, code points)
    line_in_function: int  # the flagged line relative to the function start
    related: tuple[RelatedLocation, ...] = field(default_factory=tuple)

    @property
    def severity(self) -> str:
        return SEVERITY[self.skill]


def line_span(lines: list[str], line: int) -> Span:
    """The non-blank part of a document line (so underlines do not cover indentation)."""
    text = lines[line] if 0 <= line < len(lines) else ""
    text = text.rstrip("\r\n")
    stripped = text.strip()
    start = len(text) - len(text.lstrip()) if stripped else 0
    end = start + len(stripped) if stripped else len(text)
    return Span(Position(line, start), Position(line, end))


def function_findings(function: FunctionInfo, analysis: FunctionAnalysis, settings: Settings, lines: list[str],
                      comment_prefix: str) -> list[Finding]:
    found: list[Finding] = []
    skills = settings.skills
    if skills.defect and analysis.defect_score >= settings.threshold and analysis.line_scores:
        line = function.span.start.line + analysis.bug_line
        if not is_suppressed(lines, function, line, "defect", comment_prefix):
            found.append(Finding(
                skill="defect",
                function=function,
                score=analysis.defect_score,
                message=f"Possible defect in `{function.qualified_name}` on this line "
                        f"(score {analysis.defect_score:.2f}, line confidence {max(analysis.line_scores):.2f})",
                span=line_span(lines, line),
                line_in_function=analysis.bug_line,
            ))
    if skills.flaky and analysis.flaky_score is not None and analysis.flaky_score >= settings.flaky_threshold:
        line = _name_line(function, lines)
        if not is_suppressed(lines, function, line, "flaky", comment_prefix):
            found.append(Finding(
                skill="flaky",
                function=function,
                score=analysis.flaky_score,
                message=f"Test `{function.qualified_name}` looks flaky (score {analysis.flaky_score:.2f}): "
                        "check for timing, randomness, network, ordering or shared state",
                span=line_span(lines, line),
                line_in_function=line - function.span.start.line,
            ))
    return found


def _name_line(function: FunctionInfo, lines: list[str]) -> int:
    """The line that names the function (past decorators and doc comments)."""
    for offset, text in enumerate(function.text.split("\n")):
        if function.name in text:
            return function.span.start.line + offset
    return function.span.start.line


def clone_finding(function: FunctionInfo, other: RelatedLocation, similarity: float, lines: list[str],
                  comment_prefix: str) -> Finding | None:
    line = _name_line(function, lines)
    if is_suppressed(lines, function, line, "clone", comment_prefix):
        return None
    return Finding(
        skill="clone",
        function=function,
        score=similarity,
        message=f"`{function.qualified_name}` looks like a clone of `{other.name}` (similarity {similarity:.2f})",
        span=line_span(lines, line),
        line_in_function=line - function.span.start.line,
        related=(other,),
    )
