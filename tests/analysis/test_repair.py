"""Choosing a repair: the candidate that makes the function look most clean, offered only past the margin;
generation only as a fallback held to the same bar."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from manyskills.analysis.findings import Finding
from manyskills.analysis.repair import (
    NO_REPAIR_NOTE,
    REPAIR_MARGIN,
    Repair,
    candidate_note,
    choose,
    repair_edit,
    repair_for,
    review_finding,
    suspect_lines,
)
from manyskills.analysis.repair_candidates import repair_candidates
from manyskills.index.functions import index_functions
from manyskills.index.types import Position, Span
from manyskills.model.engine import ModelEngine
from manyskills.model.runtime import LocalRuntime
from manyskills.model.types import FunctionAnalysis, FunctionInput

REPO = Path(__file__).resolve().parents[2]
RESTOCK = ("def restock(stock, item, amount):\n    if amount < 0:\n        raise ValueError(\"amount must be positive\")\n"
           "    stock[item] = stock.get(item, 0) - amount\n    return stock[item]")


def analysis(score: float, lines: tuple[float, ...] = (0.0, 0.0, 0.0, 1.0, 0.0)) -> FunctionAnalysis:
    return FunctionAnalysis(score, lines, int(np.argmax(lines)), None, np.zeros(4, np.float32))


def test_no_quick_fix_when_no_candidate_passes_the_margin():
    candidates = repair_candidates("python", RESTOCK, [3])
    plus = next(i for i, c in enumerate(candidates) if c.new_line and c.new_line.endswith("+ amount"))
    after = [analysis(0.93) for _ in candidates]
    after[plus] = analysis(0.94 - REPAIR_MARGIN + 0.01)  # the most clean, but not by enough
    assert choose(candidates, analysis(0.94), after) is None
    after[plus] = analysis(0.94 - REPAIR_MARGIN - 0.01)
    repair = choose(candidates, analysis(0.94), after)
    assert repair is not None and repair.fixed_line == "    stock[item] = stock.get(item, 0) + amount"
    assert repair.note.startswith("`-` here probably should be `+`: `stock[item] = stock.get(item, 0) + amount`")
    assert repair.description == "`-` → `+`" and repair.source == "candidate"


def test_the_most_clean_candidate_wins_and_ties_keep_enumeration_order():
    candidates = repair_candidates("python", RESTOCK, [3])
    after = [analysis(0.2) for _ in candidates]
    assert choose(candidates, analysis(0.9), after).text == candidates[0].text
    after[-1] = analysis(0.1)
    assert choose(candidates, analysis(0.9), after).text == candidates[-1].text


def test_flat_line_distributions_widen_the_search():
    assert suspect_lines((0.0, 0.05, 0.9, 0.05), 2) == [2]
    assert suspect_lines((0.3, 0.05, 0.35, 0.3), 2) == [2, 0, 3]
    assert suspect_lines((0.25,) * 8, 0, most=3) == [0, 1, 2]


def test_notes_name_the_concrete_change():
    by_kind = {c.kind: c for c in repair_candidates("python", RESTOCK, [3])}
    assert candidate_note(by_kind["literal"]) == \
        "`0` here probably should be `1`: `stock[item] = stock.get(item, 1) - amount`."
    assert candidate_note(by_kind["swap"]) == "The order here looks wrong: probably `0, item` (not `item, 0`)."


def test_repair_edits_replace_one_document_line():
    document = "x = 1\n\n" + RESTOCK + "\n"
    function = index_functions("python", document)[0]
    lines = document.split("\n")
    replace = Repair(3, "    stock[item] = stock.get(item, 0) + amount", "", "", "", 0.9, 0.1, "candidate")
    assert repair_edit(function, lines, replace) == (Span(Position(5, 0), Position(5, 45)), replace.fixed_line)


# ---------------------------------------------------------------------------------------------- with a model
@pytest.fixture(scope="module")
def tiny_engine(tiny_model_dir):
    runtime = LocalRuntime.load(str(tiny_model_dir), None, "cpu")
    engine = ModelEngine(lambda progress: runtime)
    engine.start()
    engine.wait_ready()
    yield engine
    engine.shutdown(wait=30)


def _finding(text: str, line: int) -> Finding:
    function = index_functions("python", text)[0]
    return Finding("defect", function, 0.9, "Possible defect", function.span, line)


def test_a_review_without_a_passing_repair_has_no_fix_even_from_generation(tiny_engine):
    """An impossible margin: neither a candidate nor the generated fallback (which does run) may pass."""
    review = review_finding(tiny_engine, _finding(RESTOCK, 3), margin=1.01)
    assert review.repair is None and review.fixed_line is None and review.note == NO_REPAIR_NOTE
    review = review_finding(tiny_engine, _finding(RESTOCK, 3), margin=-1.0)  # anything passes
    assert review.repair is not None and review.repair.source == "candidate"
    assert review.fixed_line == review.repair.fixed_line and review.note == review.repair.note


@pytest.mark.realmodel
def test_restock_gets_plus_amount_or_no_fix():
    """The README example's seeded bug (`-` should be `+`): the shipped model either proposes exactly that
    fix or none at all, through the same path the server and `check --review` use."""
    runtime = LocalRuntime.load(device_setting="cpu")
    text = (REPO / "examples" / "inventory.py").read_text()
    function = next(f for f in index_functions("python", text) if f.name == "restock")
    item = FunctionInput("python", function.text)
    flagged = runtime.analyse([item])[0]
    assert flagged.bug_line == 3
    repair = repair_for(runtime.analyse, item, flagged.bug_line, flagged,
                        generate=lambda: runtime.review(item, flagged.bug_line))
    assert repair is None or repair.fixed_line == "    stock[item] = stock.get(item, 0) + amount", repair
    if repair is not None:
        assert repair.note.startswith("`-` here probably should be `+`") and repair.drop >= REPAIR_MARGIN
