"""Findings from model results (analysis/findings.py): placed only on real lines inside the function
the model read, only above the threshold, and never where the user suppressed them."""

import attrs
import numpy as np
from manyskills.analysis.findings import RelatedLocation, clone_finding, function_findings, line_span
from manyskills.index.functions import index_functions
from manyskills.index.types import Position, Span
from manyskills.model.types import FunctionAnalysis
from manyskills.settings import Settings, SkillToggles

DOCUMENT = """\
import time


@pytest.mark.slow
def test_waits():
    time.sleep(1)
    assert poll() == 1


def add(a, b):
    total = a - b
    return total
"""
SETTINGS = Settings(threshold=0.5, flaky_threshold=0.5)


def _functions():
    return {f.name: f for f in index_functions("python", DOCUMENT)}


def _analysis(defect: float, bug_line: int, n_lines: int, flaky: float | None = None) -> FunctionAnalysis:
    line_scores = tuple(0.9 if i == bug_line else 0.01 for i in range(n_lines))
    return FunctionAnalysis(defect, line_scores, bug_line, flaky, np.zeros(4, dtype=np.float32))


def test_line_span_covers_the_text_without_indentation_or_line_break():
    assert line_span(["    return x\r\n"], 0) == Span(Position(0, 4), Position(0, 12))
    assert line_span(["", "   "], 1) == Span(Position(1, 0), Position(1, 3))
    assert line_span(["x"], 5) == Span(Position(5, 0), Position(5, 0))  # past the end: empty, never an error


def test_a_defect_lands_on_the_flagged_line_of_the_document():
    lines, add = DOCUMENT.split("\n"), _functions()["add"]
    (finding,) = function_findings(add, _analysis(0.8, 1, 3), SETTINGS, lines, "#")
    assert finding.skill == "defect" and finding.severity == "warning" and finding.line_in_function == 1
    assert finding.span == Span(Position(10, 4), Position(10, 17))  # "total = a - b", document line 10
    assert "`add`" in finding.message and "score 0.80" in finding.message and "line confidence 0.90" in finding.message


def test_below_the_threshold_or_with_the_skill_off_there_is_no_finding():
    lines, add = DOCUMENT.split("\n"), _functions()["add"]
    assert function_findings(add, _analysis(0.49, 1, 3), SETTINGS, lines, "#") == []
    assert function_findings(add, _analysis(0.5, 1, 3), SETTINGS, lines, "#")  # the threshold itself warns
    off = attrs.evolve(SETTINGS, skills=SkillToggles(defect=False))
    assert function_findings(add, _analysis(0.9, 1, 3), off, lines, "#") == []
    no_lines = FunctionAnalysis(0.9, (), 0, None, np.zeros(4, dtype=np.float32))
    assert function_findings(add, no_lines, SETTINGS, lines, "#") == []


def test_a_flaky_test_is_marked_on_the_line_that_names_it_past_its_decorators():
    lines, test = DOCUMENT.split("\n"), _functions()["test_waits"]
    assert test.span.start.line == 3  # the decorator belongs to the function
    (finding,) = function_findings(test, _analysis(0.1, 0, 4, flaky=0.7), SETTINGS, lines, "#")
    assert finding.skill == "flaky" and finding.span.start.line == 4 and finding.line_in_function == 1
    assert function_findings(test, _analysis(0.1, 0, 4, flaky=0.69), attrs.evolve(SETTINGS, flaky_threshold=0.7),
                             lines, "#") == []


def test_suppressed_findings_are_dropped():
    lines, add = DOCUMENT.split("\n"), _functions()["add"]
    lines[10] += "  # manyskills: ignore[defect]"
    assert function_findings(add, _analysis(0.9, 1, 3), SETTINGS, lines, "#") == []
    lines[9] += "  # manyskills: ignore[clone]"
    other = RelatedLocation("other.py", Span(Position(0, 0), Position(2, 0)), "plus")
    assert clone_finding(add, other, 0.97, lines, "#") is None


def test_a_clone_finding_names_the_other_function_and_points_at_it():
    lines, add = DOCUMENT.split("\n"), _functions()["add"]
    other = RelatedLocation("other.py", Span(Position(0, 0), Position(2, 0)), "plus")
    finding = clone_finding(add, other, 0.971, lines, "#")
    assert finding.related == (other,) and finding.span.start.line == 9 and finding.severity == "information"
    assert "`plus`" in finding.message and "similarity 0.97" in finding.message
