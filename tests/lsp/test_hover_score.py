"""The score line of a hover (lsp/review.py): the raw score, or with a calibrated adapter the estimated
probability of a bug beside the raw score and the threshold it is compared with."""

from __future__ import annotations

from manyskills.analysis.findings import Finding, line_span
from manyskills.index.functions import index_functions
from manyskills.lsp.review import note_markdown, score_text
from manyskills.model.calibration import defect_probability

SOURCE = "def first(xs):\n    total = 0\n    return total\n"
PLATT = {"kind": "platt", "a": 2.0, "b": -3.0, "base_rate": 0.05}


def _finding(skill: str = "defect", score: float = 0.81) -> Finding:
    function = index_functions("python", SOURCE)[0]
    lines = SOURCE.split("\n")
    return Finding(skill, function, score, "Possible defect in `first` on this line", line_span(lines, 1), 1)


def test_without_calibration_the_hover_shows_the_raw_score_only():
    finding = _finding()
    assert score_text(finding) == "score 0.81"
    assert score_text(finding, None, 0.74) == "score 0.81"
    assert score_text(finding, {"kind": "isotonic"}, 0.74) == "score 0.81"  # a map this version cannot read
    assert note_markdown(finding, None).split("\n")[0] == "**ManySkills** · `defect` · score 0.81"


def test_with_calibration_the_hover_shows_the_probability_the_score_and_the_threshold():
    finding = _finding()
    probability = defect_probability(0.81, PLATT)
    assert 0.01 < probability < 0.99
    expected = f"estimated probability of a bug: {probability:.2f} (score 0.81, warns at ≥ 0.74)"
    assert score_text(finding, PLATT, 0.74) == expected
    assert note_markdown(finding, None, PLATT, 0.74).split("\n") == [
        f"**ManySkills** · `defect` · {expected}", "", finding.message]
    assert score_text(finding, PLATT, None) == f"estimated probability of a bug: {probability:.2f} (score 0.81)"


def test_probabilities_near_the_ends_are_not_rounded_to_certainty():
    steep = {"kind": "platt", "a": 1.0, "b": -9.0}
    assert score_text(_finding(score=0.5), steep, 0.9).startswith("estimated probability of a bug: < 0.01 (")
    assert score_text(_finding(score=0.5), {"kind": "platt", "a": 1.0, "b": 9.0}, 0.9).startswith(
        "estimated probability of a bug: > 0.99 (")


def test_other_skills_keep_their_score():
    assert score_text(_finding("flaky", 0.66), PLATT, 0.74) == "score 0.66"


def test_a_repair_in_the_hover_shows_both_signals_that_let_it_through():
    from manyskills.analysis.repair import Repair, Review

    finding = _finding()
    repair = Repair(1, "    total = 1", "", "`0` → `1`", "`0` here probably should be `1`.", 0.81, 0.52, "candidate", 5.25)
    lines = note_markdown(finding, Review(repair.note, repair.fixed_line, "", repair)).split("\n")
    assert lines[2:] == [finding.message, "", repair.note, "",
                         "Suggested line 2 (defect score 0.81 → 0.52; +5.2 nats to the language model):",
                         "```", "total = 1", "```"]
