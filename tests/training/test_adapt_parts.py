"""`manyskills adapt`'s model-free rules: the time split of fix commits and the activation decision."""

from __future__ import annotations

import math

from manyskills.training.adapt import (
    EVAL_SHARE,
    EVAL_SHARE_MAX,
    AdaptData,
    FixPair,
    TreeFunction,
    decide,
    evaluation_reserve,
    evaluation_seconds,
    fix_pairs,
    time_split,
)


def _pair(commit: str, date: str, n: int = 0) -> list[dict]:
    pid = f"{commit}-{n}"
    common = {"commit": commit, "date": date, "pair_id": pid}
    return [{**common, "label": 1, "code": "a"}, {**common, "label": 0, "code": "b"}]


def test_time_split_holds_out_the_most_recent_fifth_of_commits_whole():
    rows = []
    for day in range(1, 11):  # ten commits, the ninth with two fixed functions
        rows += _pair(f"c{day:02d}", f"2024-03-{day:02d}T00:00:00+00:00")
    rows += _pair("c09", "2024-03-09T00:00:00+00:00", n=1)
    pairs = fix_pairs(list(reversed(rows)))
    assert [p.commit for p in pairs][:2] == ["c01", "c02"]  # oldest first whatever the input order
    train, held = time_split(pairs)
    assert {p.commit for p in held} == {"c09", "c10"} and len(held) == 3  # both functions of c09
    assert {p.commit for p in train} == {f"c{d:02d}" for d in range(1, 9)}
    assert max(p.date for p in train) < min(p.date for p in held)


def test_time_split_orders_by_time_not_by_text_of_the_offset():
    # 23:00 at -05:00 is 04:00 UTC the next day: later than 02:00 UTC, though its text sorts first
    late = FixPair(*_pair("late", "2024-03-01T23:00:00-05:00"))
    early = FixPair(*_pair("early", "2024-03-02T02:00:00+00:00"))
    train, held = time_split([late, early], share=0.2)
    assert [p.commit for p in held] == ["late"] and [p.commit for p in train] == ["early"]


def test_time_split_keeps_one_commit_for_training():
    pairs = fix_pairs(_pair("only", "2024-01-01T00:00:00+00:00"))
    assert time_split(pairs) == (pairs, [])
    two = fix_pairs(_pair("a", "2024-01-01T00:00:00+00:00") + _pair("b", "2024-01-02T00:00:00+00:00"))
    train, held = time_split(two, share=0.9)
    assert [p.commit for p in train] == ["a"] and [p.commit for p in held] == ["b"]


def _m(pairwise=0.6, auroc=0.6, top1=0.3, fw=2.0) -> dict:
    return {"pairwise": pairwise, "auroc": auroc, "line_top1": top1, "false_per_kloc": fw}


def test_decide_activates_only_a_clear_win():
    assert decide(_m(), _m(pairwise=0.7))[0] is True
    assert decide(_m(), _m())[0] is False  # a tie is not a win
    assert decide(_m(), _m(pairwise=0.7, auroc=0.5)) == (False, "AUROC 0.500 is below the shipped adapter's 0.600")
    assert decide(_m(), _m(pairwise=0.7, top1=0.2))[0] is False
    active, reason = decide(_m(), _m(pairwise=0.7, fw=3.0))
    assert not active and "false warnings" in reason
    active, reason = decide(_m(), _m(pairwise=math.nan))
    assert not active and "not enough held-out fixes" in reason


def _data(heldout: int, calibration: int, evaluation: int) -> AdaptData:
    fn = TreeFunction("python", "def f():\n    return 1\n", "f.py")
    pair = FixPair({"commit": "c", "date": "2024-01-01T00:00:00+00:00"}, {})
    return AdaptData([], [pair] * heldout, [], [fn] * calibration, [fn] * evaluation)


def test_the_evaluation_estimate_grows_with_what_it_scores_and_with_a_slower_machine():
    small, large = _data(10, 50, 50), _data(80, 150, 150)
    assert evaluation_seconds(large, 600, 60.0) > evaluation_seconds(small, 600, 60.0)
    assert evaluation_seconds(large, 300, 60.0) > evaluation_seconds(large, 600, 60.0)
    # nothing cached this run (states reused from an earlier one): a cautious default rate, still finite
    assert math.isfinite(evaluation_seconds(large, 0, 0.0)) and evaluation_seconds(large, 0, 0.0) > 0


def test_the_reserve_is_the_estimate_within_its_bounds():
    # 10 minutes: at least a quarter, at most half of the budget is kept for the evaluation
    assert evaluation_reserve(10, 30.0) == EVAL_SHARE * 600
    assert evaluation_reserve(10, 240.0) == 240.0
    assert evaluation_reserve(10, 5000.0) == EVAL_SHARE_MAX * 600
