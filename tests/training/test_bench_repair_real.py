"""bench/repair_real.py's judgement of an offered fix against the real fixed version (strict: the whole
function; line: the edited line equals its aligned fixed line) and its margin / precision arithmetic on
hand-made rows."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def rr():
    sys.path.insert(0, str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location("repair_real", ROOT / "bench" / "repair_real.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


BUGGY = "def f(a):\n    x = a - 1\n    return x < 0\n"
FIXED_TWO = "def f(a):\n    x = a + 1\n    return x <= 0\n"  # the commit fixed two lines


def test_strict_needs_the_whole_fixed_function(rr):
    one = "def f(a):\n    x = a + 1\n    return x < 0\n"
    assert rr.fix_verdict(BUGGY, FIXED_TWO, one, 1, "    x = a + 1") == (False, True)
    both = "def f(a):\n    x = a + 1\n    return x <= 0"
    assert rr.fix_verdict(BUGGY, FIXED_TWO, both, 2, "    return x <= 0") == (True, True)


def test_whitespace_is_normalised_but_tokens_are_not(rr):
    fixed = "def f(a):\n    x = a + 1\n    return x < 0\n"
    spaced = "def f(a):\n      x  =  a + 1\n    return x < 0\n"
    assert rr.fix_verdict(BUGGY, fixed, spaced, 1, "      x  =  a + 1") == (True, True)
    wrong = "def f(a):\n    x = a * 1\n    return x < 0\n"
    assert rr.fix_verdict(BUGGY, fixed, wrong, 1, "    x = a * 1") == (False, False)


def test_a_fixed_text_on_a_line_the_fix_left_alone_is_not_line_right(rr):
    buggy = "def f(a):\n    y = 1\n    z = 1\n    return y + z\n"
    fixed = "def f(a):\n    y = 2\n    z = 1\n    return y + z\n"  # the fix changed line 1 only
    assert rr.fixed_counterparts(buggy, fixed) == {1: ["y = 2"]}
    # line 2 rewritten to the fixed line 1's text: the right text in the wrong place
    assert rr.fix_verdict(buggy, fixed, "def f(a):\n    y = 1\n    y = 2\n    return y + z\n", 2, "    y = 2") \
        == (False, False)


def test_counterparts_of_uneven_blocks_and_deletions(rr):
    buggy = "def f(a):\n    a = g(a)\n    log(a)\n    return a\n"
    fixed = "def f(a):\n    return a\n"
    assert rr.fixed_counterparts(buggy, fixed) == {1: [], 2: []}
    grown = "def f(a):\n    if a:\n        a = h(a)\n    return a\n"
    assert rr.fixed_counterparts("def f(a):\n    a = g(a)\n    return a\n", grown) == {1: ["if a:", "a = h(a)"]}


def _row(before, drop, strict, line_right, most_ops=()):
    top = None if drop is None else {"drop": drop, "strict": strict, "line_right": line_right, "localised": line_right}
    return {"before": before, "top": top, "fixable_strict": strict, "fixable_line": line_right, "joint": [],
            "most_ops": list(most_ops)}


def test_metrics_gate_precision_flagged_and_baseline(rr):
    plus = {"pattern": "operator:-->+", "strict": True, "line_right": True}
    lit = {"pattern": "literal", "strict": False, "line_right": False}
    rows = [_row(0.9, 0.5, True, True, [lit, plus]), _row(0.9, 0.3, False, True, [lit]),
            _row(0.5, 0.4, False, False), _row(0.9, 0.1, True, True), _row(0.9, None, False, False)]
    m = rr.real_metrics(rows, 0.25, Counter({"operator:-->+": 2}))
    assert (m["n"], m["offered"], m["coverage"]) == (5, 3, 0.6)
    assert (m["strict"]["right"], m["strict"]["n"], m["line"]["right"]) == (1, 3, 2)
    assert m["strict"]["wilson95"] == rr.wilson(1, 3)
    assert m["flagged"]["n"] == 4 and m["flagged"]["offered"] == 2 and m["flagged"]["line"]["right"] == 2
    # the baseline picks the validation's most frequent right pattern, and offers wherever it has a candidate
    assert m["most_ops_baseline"]["offered"] == 2 and m["most_ops_baseline"]["strict"]["right"] == 1
    assert rr.real_metrics(rows, 0.0, Counter())["offered"] == 4


def test_margin_choice_trades_three_right_per_wrong(rr):
    rows = [_row(0.9, 0.6, True, True), _row(0.9, 0.5, True, True), _row(0.9, 0.2, False, False),
            _row(0.9, 0.15, True, True), _row(0.9, 0.1, False, False)]
    chosen, curve = rr.choose_margin(rows)
    assert chosen == 0.25  # 2 right 0 wrong (+2) beats 0.15: 3 right 1 wrong (0) and 0.1: 3 right 2 wrong (-3)
    assert {c["margin"]: c["utility"] for c in curve}[0.15] == 0
    assert rr.choose_margin([_row(0.9, 0.3, False, True)])[0] is None


def test_whole_split_precision_counts_right_offers_and_scales_wrong_ones(rr):
    fixable = [_row(0.9, 0.5, True, True), _row(0.9, 0.1, False, True)]  # the whole stratum: 2 of 10 pairs
    sample = [_row(0.9, 0.3, False, False), _row(0.9, 0.0, False, False), _row(0.9, 0.5, True, True)]
    st = rr.stratified(sample, fixable, 10, 2, 0.25)
    # 1 right offer in the stratum; outside it 1 of the 2 sampled pairs gets a (wrong) fix: about 4 of 8
    assert (st["offered_in_stratum"], st["right_strict_in_stratum"], st["offered_outside_in_sample"]) == (1, 1, 1)
    assert st["estimated_offers"] == 5 and st["coverage"] == 0.5
    assert st["precision_strict"] == st["precision_line"] == 0.2
    low, high = st["precision_line_range"]
    assert low < 0.2 < high
    # half of the stratum collected: its counts stand for twice as many pairs
    assert rr.stratified(sample, fixable[:1], 10, 2, 0.25)["estimated_offers"] == 6


def test_right_candidate_ranks(rr):
    right = {"score": 0.5, "line_right": True}
    rows = [dict(_row(0.9, 0.4, True, True), joint=[right, {"score": 0.3, "line_right": False}]),
            dict(_row(0.9, 0.4, True, True), joint=[{"score": 0.6, "line_right": False}, {"score": 0.2, "line_right": True}]),
            dict(_row(0.9, None, False, True), joint=[{"score": None, "line_right": True}])]
    ranks = rr.right_candidate_ranks(rows)
    assert ranks == {"functions": 3, "right_among_candidates": 2, "right_ranked_first": 1, "right_drops": [0.4, 0.7]}
