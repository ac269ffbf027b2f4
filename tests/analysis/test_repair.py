"""Choosing a repair: among the candidates the detector agrees with (a defect drop past the margin), the one
the language model finds most natural, offered only past the likelihood gain; generation only as a
fallback held to a stricter bar."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from manyskills.analysis.findings import Finding
from manyskills.analysis.repair import (
    GENERATED_MARGIN,
    NAME_KINDS,
    NO_REPAIR_NOTE,
    REPAIR_GAIN,
    REPAIR_MARGIN,
    Repair,
    candidate_note,
    candidate_pool,
    choose,
    generated_repair,
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
from manyskills.model.types import FunctionAnalysis, FunctionInput, ReviewNote

REPO = Path(__file__).resolve().parents[2]
RESTOCK = ("def restock(stock, item, amount):\n    if amount < 0:\n        raise ValueError(\"amount must be positive\")\n"
           "    stock[item] = stock.get(item, 0) - amount\n    return stock[item]")


def analysis(score: float, lines: tuple[float, ...] = (0.0, 0.0, 0.0, 1.0, 0.0)) -> FunctionAnalysis:
    return FunctionAnalysis(score, lines, int(np.argmax(lines)), None, np.zeros(4, np.float32))


class Likelihood:
    """The language model's log-likelihood as a table (text -> nats), recording what it was asked."""

    def __init__(self, table: dict[str, float], default: float = -100.0):
        self.table, self.default, self.asked = table, default, []

    def __call__(self, items: list[FunctionInput]) -> list[float]:
        self.asked.append([i.text for i in items])
        return [self.table.get(i.text, self.default) for i in items]


ITEM = FunctionInput("python", RESTOCK)
PLUS = "    stock[item] = stock.get(item, 0) + amount"


def _pool():
    candidates = candidate_pool("python", RESTOCK, [3])
    return candidates, next(i for i, c in enumerate(candidates) if c.new_line == PLUS)


def test_no_quick_fix_when_no_candidate_passes_the_margin():
    """The detector must agree by the margin: the most natural edit is not offered without it, and the
    language model is not even asked."""
    candidates, plus = _pool()
    after = [analysis(0.93) for _ in candidates]
    after[plus] = analysis(0.94 - REPAIR_MARGIN + 0.01)  # the most clean, but not by enough
    likelihood = Likelihood({RESTOCK: -100.0, candidates[plus].text: -50.0})
    assert choose(ITEM, candidates, analysis(0.94), after, likelihood) is None
    assert likelihood.asked == []


def test_no_quick_fix_when_the_edit_is_not_natural_enough():
    candidates, plus = _pool()
    after = [analysis(0.93) for _ in candidates]
    after[plus] = analysis(0.94 - REPAIR_MARGIN - 0.01)
    likelihood = Likelihood({RESTOCK: -100.0, candidates[plus].text: -100.0 + REPAIR_GAIN - 0.01})
    assert choose(ITEM, candidates, analysis(0.94), after, likelihood) is None
    assert likelihood.asked == [[RESTOCK, candidates[plus].text]]  # only the candidates past the margin
    likelihood.table[candidates[plus].text] = -100.0 + REPAIR_GAIN + 0.01
    repair = choose(ITEM, candidates, analysis(0.94), after, likelihood)
    assert repair is not None and repair.fixed_line == PLUS and repair.source == "candidate"
    assert repair.gain == pytest.approx(REPAIR_GAIN + 0.01) and repair.drop == pytest.approx(REPAIR_MARGIN + 0.01)
    assert repair.note.startswith("`-` here probably should be `+`: `stock[item] = stock.get(item, 0) + amount`")
    assert repair.description == "`-` → `+`"


def test_the_most_natural_candidate_past_the_margin_wins_not_the_most_clean():
    candidates, plus = _pool()
    after = [analysis(0.5) for _ in candidates]  # every candidate passes the margin
    after[0 if plus else 1] = analysis(0.0)  # another is far more clean to the detector
    likelihood = Likelihood({RESTOCK: -100.0, candidates[plus].text: -90.0})
    assert choose(ITEM, candidates, analysis(0.9), after, likelihood).fixed_line == PLUS
    tie = Likelihood({RESTOCK: -100.0}, default=-90.0)  # ties keep the enumeration order
    assert choose(ITEM, candidates, analysis(0.9), after, tie).text == candidates[0].text


def test_name_swaps_are_never_ranked_by_likelihood():
    """A name swapped for a shorter, commoner one gains nats by its length alone: none is in the pool,
    and `choose` skips any it is given."""
    assert not [c for c in candidate_pool("python", RESTOCK, [3]) if c.kind in NAME_KINDS]
    names = [c for c in repair_candidates("python", RESTOCK, [3]) if c.kind in NAME_KINDS]
    likelihood = Likelihood({RESTOCK: -100.0}, default=0.0)
    assert names and choose(ITEM, names, analysis(0.9), [analysis(0.0)] * len(names), likelihood) is None


def test_the_pool_searches_every_line_suspect_lines_first():
    pool = candidate_pool("python", RESTOCK, [3])
    lines = [c.line for c in pool]
    assert lines[0] == 3 and {1, 4} <= set(lines) and lines == sorted(lines, key=lambda line: line != 3)
    assert len({c.text for c in pool}) == len(pool)


def test_a_generated_line_is_held_to_a_stricter_bar():
    before = analysis(0.94)
    shorter = ReviewNote("", "    if amount < 0:", "")  # the example: it deletes the bug instead of fixing it
    natural = Likelihood({}, default=0.0)
    clean = lambda items: [analysis(0.0) for _ in items]  # the detector agrees with anything
    assert generated_repair(clean, natural, ITEM, 3, shorter, before) is None
    right = ReviewNote("", PLUS, "")
    repaired = RESTOCK.replace("0) - amount", "0) + amount")
    barely = lambda items: [analysis(0.94 - GENERATED_MARGIN + 0.01) for _ in items]
    assert generated_repair(barely, natural, ITEM, 3, right, before) is None
    unnatural = Likelihood({RESTOCK: -100.0, repaired: -100.0 + REPAIR_GAIN - 0.01})
    assert generated_repair(clean, unnatural, ITEM, 3, right, before) is None
    repair = generated_repair(clean, Likelihood({RESTOCK: -100.0, repaired: -90.0}), ITEM, 3, right, before)
    assert repair is not None and repair.source == "generated" and repair.text == repaired and repair.gain == 10.0


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
    """An impossible margin or gain: neither a candidate nor the generated fallback (which does run) may
    pass; through the engine's queue, as the server asks."""
    review = review_finding(tiny_engine, _finding(RESTOCK, 3), margin=1.01)
    assert review.repair is None and review.fixed_line is None and review.note == NO_REPAIR_NOTE
    review = review_finding(tiny_engine, _finding(RESTOCK, 3), margin=-1.0, gain=1e9)
    assert review.repair is None and review.note == NO_REPAIR_NOTE
    review = review_finding(tiny_engine, _finding(RESTOCK, 3), margin=-1.0, gain=-1e9)  # anything passes
    assert review.repair is not None and review.repair.source == "candidate" and review.repair.gain is not None
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
    repair = repair_for(runtime.analyse, runtime.log_likelihood, item, flagged.bug_line, flagged,
                        generate=lambda: runtime.review(item, flagged.bug_line))
    assert repair is None or repair.fixed_line == "    stock[item] = stock.get(item, 0) + amount", repair
    if repair is not None:
        assert repair.note.startswith("`-` here probably should be `+`") and repair.drop >= REPAIR_MARGIN
        assert repair.gain >= REPAIR_GAIN


def test_long_functions_are_searched_in_a_window_around_the_flagged_line():
    """Cost stays bounded: the bench measured functions of at most 40 lines, and the server searches a
    longer one only within 40 lines of the flagged line (a short one entirely)."""
    body = "".join(f"    x{i} = x{i - 1} + {i}\n" for i in range(1, 120))
    text = "def long(x0):\n" + body + "    return x119\n"
    lines = {c.line for c in candidate_pool("python", text, [60])}
    assert 60 in lines and min(lines) >= 40 and max(lines) < 80 and len(lines) > 20
    assert {c.line for c in candidate_pool("python", text, [2])} <= set(range(40))
    assert {c.line for c in candidate_pool("python", RESTOCK, [3], window=40)} == {1, 3, 4}
