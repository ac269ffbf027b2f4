"""bench/repair_lm.py's offering rules and whole-split estimate on hand-made rows: which candidate each
rule offers, at which gate, and how wrong offers outside the fixable stratum are scaled from the sample."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def rl():
    for folder in (ROOT, ROOT / "bench"):
        sys.path.insert(0, str(folder))
    spec = importlib.util.spec_from_file_location("repair_lm", ROOT / "bench" / "repair_lm.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _cand(gain, drop, strict=False, suspect=True, kind="operator"):
    return {"line": 1, "kind": kind, "old": "-", "new": "+", "gain": gain, "drop": drop, "suspect": suspect,
            "strict": strict, "line_right": strict}


def test_lm_margin_offers_the_most_natural_candidate_among_those_the_detector_accepts(rl):
    likely_but_rejected = _cand(gain=12.0, drop=-0.10)
    accepted = _cand(gain=6.0, drop=0.08, strict=True)
    row = {"candidates": [likely_but_rejected, accepted, _cand(gain=1.0, drop=0.30)]}
    assert rl._offer(row, "lm", 5.0) is likely_but_rejected  # likelihood alone ignores the detector
    assert rl._offer(row, "lm+margin", (0.05, 5.0)) is accepted
    assert rl._offer(row, "lm+margin", (0.05, 7.0)) is None  # the accepted one is not natural enough
    assert rl._offer(row, "lm+margin", (0.50, 0.0)) is None  # no candidate drops the score that much


def test_name_swaps_are_never_offered_by_likelihood_rules(rl):
    row = {"candidates": [_cand(gain=30.0, drop=0.9, kind="variable")]}
    assert rl._offer(row, "lm+margin", (0.0, 0.0)) is None
    assert rl._offer(row, "defect", 0.1) is not None  # the detector's own rule keeps them


def test_estimate_scales_the_stratum_and_the_sample(rl):
    right = {"candidates": [_cand(gain=9.0, drop=0.2, strict=True)]}
    wrong = {"candidates": [_cand(gain=9.0, drop=0.2)]}
    silent = {"candidates": [_cand(gain=1.0, drop=0.2)]}
    fixable = {"rows": [right, wrong], "pairs_in_split": 1000, "fixable_in_split": 40}
    sample = {"rows": [wrong, silent, silent, silent]}
    e = rl.estimate(fixable, sample, "lm+margin", (0.1, 5.0))
    assert e["right"] == 20.0 and e["wrong_in_stratum"] == 20.0  # half of the 40 each
    assert e["wrong_outside"] == 240.0  # a quarter of the 960 others
    assert e["precision"] == round(20 / 280, 3)
    assert rl.estimate(fixable, None, "lm+margin", (0.1, 5.0))["precision"] == 0.5  # an upper bound only


def test_every_rule_has_gates_and_report_picks_one_per_rule(rl, tmp_path):
    import argparse
    import json

    fixable = {"rows": [{"candidates": [_cand(gain=9.0, drop=0.3, strict=True)]}],
               "pairs_in_split": 10, "fixable_in_split": 1}
    path = tmp_path / "f.json"
    path.write_text(json.dumps(fixable))
    out = tmp_path / "r.json"
    other = tmp_path / "synthetic.json"
    other.write_text(json.dumps({"rows": [{"candidates": [_cand(gain=1.0, drop=0.5, strict=True)]}],
                                 "pairs_in_split": 1, "fixable_in_split": 1}))
    rl.report(argparse.Namespace(valid=[str(path)], test=None, json=str(out), other=[f"synthetic={other}"]))
    result = json.loads(out.read_text())
    chosen = result["chosen"]
    assert set(chosen) == set(rl.RULES)
    assert chosen["lm+margin"]["gate"] == [0.0, 0.0]  # ties go to the loosest gate
    assert result["server_rule"]["valid"]["right"] == 1.0  # 0.3 drop, 9 nats: past the server's gate
    assert result["other"]["synthetic"]["server_rule"]["offered"] == 0.0  # 1 nat is not natural enough


def test_the_bench_rule_is_the_server_rule(rl):
    """`lm+margin` at the server's gate offers what `analysis.repair.choose` offers, on the same numbers."""
    from manyskills.analysis.repair import REPAIR_GAIN, REPAIR_MARGIN, candidate_pool, choose
    from manyskills.model.types import FunctionAnalysis, FunctionInput

    text = ("def restock(stock, item, amount):\n    if amount < 0:\n        raise ValueError(amount)\n"
            "    stock[item] = stock.get(item, 0) - amount\n    return stock[item]")
    pool = candidate_pool("python", text, [3])
    before = FunctionAnalysis(0.9, (0.0,) * 5, 3, None, None)
    for seed in range(20):  # drops and gains around both gates, some ties
        drops = [((seed * 7 + i * 13) % 9) / 20 - 0.1 for i in range(len(pool))]
        gains = [float((seed * 5 + i * 11) % 12) - 2 - 3 * (seed % 3) for i in range(len(pool))]
        after = [FunctionAnalysis(0.9 - d, (0.0,) * 5, 3, None, None) for d in drops]
        table = {c.text: g for c, g in zip(pool, gains)}
        server = choose(FunctionInput("python", text), pool, before, after,
                        lambda items, table=table: [table.get(i.text, 0.0) for i in items])
        row = {"candidates": [{"kind": c.kind, "gain": g, "drop": 0.9 - a.defect_score, "text": c.text}
                              for c, g, a in zip(pool, gains, after)]}
        offered = rl._offer(row, "lm+margin", (REPAIR_MARGIN, REPAIR_GAIN))
        assert (server.text if server else None) == (offered["text"] if offered else None), seed
