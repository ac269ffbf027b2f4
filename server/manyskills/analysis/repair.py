"""Model-chosen repairs: which edit to propose for a finding, whether it is plausible enough to offer
as a quick fix, and which text it replaces. Shared by the server's quick fix and `check --review` so
both offer exactly the same edits.

A repair is chosen the way the published detectors that repair real bugs do it (RealiT, BugLab):
enumerate the single edits that undo a bug-injection operator at the suspect line(s)
(`repair_candidates`), score every repaired function with the defect skill in one batched call, and
keep the one that makes the function look most clean. It is offered only when it lowers the defect
score of the function by at least `REPAIR_MARGIN` (chosen on validation functions only, see
`bench/repair.py`); otherwise the finding keeps its note and no edit. Generation (the review skill) is
a fallback held to the same bar: its line must parse, differ, and pass the same margin.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from manyskills.analysis.findings import Finding
from manyskills.analysis.repair_candidates import Candidate, repair_candidates
from manyskills.index.functions import DocumentIndex
from manyskills.index.types import FunctionInfo, Position, Span
from manyskills.model.engine import PRIORITY_INTERACTIVE, CancelToken, ModelEngine
from manyskills.model.types import FunctionAnalysis, FunctionInput, ReviewNote

# Drop in the defect score (probability, original minus repaired) a repair must reach to be offered.
# Chosen on validation functions only (mutated functions of the stdlib modules in the `valid` split),
# never on test data or QuixBugs: the margin with the most right minus 3 x wrong offered fixes (a fix
# is worth offering when it is right 3 times out of 4). `python bench/repair.py tune` prints the curve.
REPAIR_MARGIN = 0.25
# Lines beside the flagged one whose line score reaches this share of the top line's are searched too
# (the line distribution is flat there), at most `MAX_LINES` lines in all.
FLAT_SHARE = 0.5
MAX_LINES = 3

Scorer = Callable[[list[FunctionInput]], list[FunctionAnalysis]]


@dataclass(frozen=True)
class Repair:
    line_in_function: int  # the line of the function the repair changes
    fixed_line: str  # that line's new text (indentation kept)
    text: str  # the whole repaired function
    description: str  # "`-` → `+`"
    note: str  # the review note naming the concrete change
    score_before: float  # defect score of the function as it is
    score_after: float  # and with the repair
    source: str  # "candidate" (an enumerated edit) | "generated" (the review skill's line)

    @property
    def drop(self) -> float:
        return self.score_before - self.score_after


def suspect_lines(line_scores: Sequence[float], flagged: int, flat_share: float = FLAT_SHARE,
                  most: int = MAX_LINES) -> list[int]:
    """The flagged line, then the next most suspicious lines while the distribution is flat."""
    lines = [flagged]
    if not line_scores or not 0 <= flagged < len(line_scores):
        return lines
    top = line_scores[flagged]
    for line in sorted(range(len(line_scores)), key=lambda i: -line_scores[i]):
        if len(lines) >= most:
            break
        if line != flagged and line_scores[line] >= flat_share * top and line_scores[line] > 0:
            lines.append(line)
    return lines


def candidate_note(candidate: Candidate) -> str:
    """The review note for a candidate: the concrete change, in words a reviewer would use."""
    if candidate.kind == "swap":
        return (f"The order here looks wrong: probably `{_one_line(candidate.new)}` "
                f"(not `{_one_line(candidate.old)}`).")
    return (f"`{_one_line(candidate.old)}` here probably should be `{_one_line(candidate.new)}`: "
            f"`{candidate.new_line.strip()}`.")


def _one_line(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def rank(candidates: Sequence[Candidate], after: Sequence[FunctionAnalysis]) -> list[tuple[float, Candidate]]:
    """Candidates by the defect score of the repaired function, lowest (most clean) first; ties keep
    the enumeration order (operator inverses before variable replacements)."""
    order = sorted(range(len(candidates)), key=lambda i: (after[i].defect_score, i))
    return [(after[i].defect_score, candidates[i]) for i in order]


def choose(candidates: Sequence[Candidate], before: FunctionAnalysis, after: Sequence[FunctionAnalysis],
           margin: float = REPAIR_MARGIN) -> Repair | None:
    """The candidate that makes the function look most clean, if it lowers the score by `margin`."""
    ranked = rank(candidates, after)
    if not ranked:
        return None
    score, best = ranked[0]
    if before.defect_score - score < margin:
        return None
    return Repair(best.line, best.new_line, best.text, best.description, candidate_note(best),
                  before.defect_score, score, "candidate")


def repair_for(score: Scorer, item: FunctionInput, flagged: int, analysis: FunctionAnalysis | None = None,
               margin: float = REPAIR_MARGIN, generate: Callable[[], ReviewNote] | None = None) -> Repair | None:
    """The repair to offer for a function flagged on line `flagged`, or None.

    `score` is the defect skill on a batch of functions (`engine_scorer` or a runtime's `analyse`): the
    original and every candidate go in one call, so they are scored alike. `analysis` (the original's
    result, when known) gives the line scores that decide how many lines to search. `generate` (the
    review skill, slow) runs only when no candidate passes the margin."""
    if analysis is None:
        analysis = score([item])[0]
    lines = suspect_lines(analysis.line_scores, flagged)
    candidates = repair_candidates(item.language, item.text, lines)
    scored = score([item] + [FunctionInput(item.language, c.text, item.is_test) for c in candidates])
    before, after = scored[0], scored[1:]
    repair = choose(candidates, before, after, margin)
    if repair is not None or generate is None:
        return repair
    return generated_repair(score, item, flagged, generate(), before, margin)


NO_REPAIR_NOTE = ("The model suspects a defect on this line, but none of the single edits it tried (operators, "
                  "off-by-one, negation, swapped arguments, other variables, literals) makes the function look "
                  "clean enough to propose a fix.")


@dataclass(frozen=True)
class Review(ReviewNote):
    """A finding's review: the note, and the repair when one passed the margin (`fixed_line` mirrors it)."""

    repair: Repair | None = None


def engine_scorer(engine: ModelEngine, token: CancelToken | None = None) -> Scorer:
    """The defect skill through the engine's queue, at interactive priority (the user is waiting)."""
    return lambda items: engine.analyse(items, PRIORITY_INTERACTIVE, token).result()


def review_finding(engine: ModelEngine, finding: Finding, analysis: FunctionAnalysis | None = None,
                   token: CancelToken | None = None, margin: float = REPAIR_MARGIN) -> Review:
    """The review of a defect finding, as the server and `check --review` show it. Blocks: call it
    off the event loop."""
    function = finding.function
    item = FunctionInput(function.language, function.text, function.is_test)
    repair = repair_for(engine_scorer(engine, token), item, finding.line_in_function, analysis, margin,
                        lambda: engine.review(item, finding.line_in_function, token).result())
    if repair is None:
        return Review(NO_REPAIR_NOTE, None, "")
    return Review(repair.note, repair.fixed_line, "", repair)


def generated_repair(score: Scorer, item: FunctionInput, flagged: int, note: ReviewNote,
                     before: FunctionAnalysis, margin: float = REPAIR_MARGIN) -> Repair | None:
    """The review skill's line as a repair, held to the candidates' bar: it must parse, differ and
    lower the defect score by `margin`."""
    repaired = replaced_line(item.text, flagged, note.fixed_line)
    if repaired is None or not _parses_as_well(item.language, item.text, repaired):
        return None
    after = score([FunctionInput(item.language, repaired, item.is_test)])[0]
    if before.defect_score - after.defect_score < margin:
        return None
    old = item.text.split("\n")[flagged].strip()
    new = note.fixed_line.strip()
    return Repair(flagged, note.fixed_line, repaired, f"`{_one_line(old)}` → `{_one_line(new)}`",
                  f"This line probably should read `{_one_line(new, 120)}`.", before.defect_score,
                  after.defect_score, "generated")


def replaced_line(text: str, line: int, fixed_line: str | None) -> str | None:
    """`text` with one line replaced, or None when that changes nothing."""
    lines = text.split("\n")
    if not fixed_line or not 0 <= line < len(lines) or lines[line].strip() == fixed_line.strip():
        return None
    return "\n".join(lines[:line] + [fixed_line] + lines[line + 1:])


def _parses_as_well(language: str, before: str, after: str) -> bool:
    return DocumentIndex(language, before).has_errors or not DocumentIndex(language, after).has_errors


def line_end(lines: list[str], line: int) -> Position:
    """End of a document line's text (before any `\\r`)."""
    return Position(line, len(lines[line].rstrip("\r")))


def repair_edit(function: FunctionInfo, lines: list[str], repair: Repair) -> tuple[Span, str]:
    """The document edit of a repair: the whole text of its line replaced by the repaired line."""
    line = function.span.start.line + repair.line_in_function
    return Span(Position(line, 0), line_end(lines, line)), repair.fixed_line
