"""The operating point (training/operating_point.py): the threshold for a false-warning budget, recall
there, the Platt map, and `manyskills calibrate` end to end on a tiny model and a dataset written here."""

from __future__ import annotations

import json
import math
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
from manyskills.cli.main import main
from manyskills.data.mutations import make_defect_examples
from manyskills.data.records import CorpusFunction
from manyskills.model.adapter import Manifest
from manyskills.model.calibration import defect_probability
from manyskills.training import metrics
from manyskills.training.operating_point import (
    Scored,
    calibrate,
    clean_validation_functions,
    fit_platt,
    recall_at,
    two_fold_false_per_kloc,
    warning_threshold,
    write_operating_point,
)

UP = math.inf


# ---------------------------------------------------------------------------------------------- threshold
def test_threshold_allows_exactly_the_budget():
    scores = [i / 10 for i in range(1, 11)]  # 0.1 .. 1.0, ten functions in 1,000 lines
    t = warning_threshold(scores, 1000, 3.0)  # 3 warnings allowed: the top three
    assert t == math.nextafter(0.7, UP)
    assert metrics.false_warnings_per_kloc(scores, t, 1000) == 3.0
    assert metrics.false_warnings_per_kloc(scores, 0.7, 1000) == 4.0  # one step lower breaks the budget
    assert warning_threshold(scores, 1000, 2.999) == math.nextafter(0.8, UP)
    assert warning_threshold(scores, 1000, 0.0) == math.nextafter(1.0, UP)  # warns on nothing
    assert warning_threshold(scores, 1000, 10.0) == 0.0  # the budget covers every function
    assert warning_threshold(scores, 2000, 1.5) == math.nextafter(0.7, UP)  # per 1,000 lines, not per function


def test_ties_move_together():
    scores = [0.5, 0.5, 0.5, 0.2]
    assert warning_threshold(scores, 1000, 2.0) == math.nextafter(0.5, UP)  # cannot warn on two of three
    assert warning_threshold(scores, 1000, 3.0) == math.nextafter(0.2, UP)


def test_threshold_falls_as_the_budget_grows_and_stays_within_it():
    rng = random.Random(3)
    scores = [rng.random() for _ in range(500)]
    lines = 6000
    thresholds = [warning_threshold(scores, lines, b) for b in (0.0, 0.5, 1.0, 2.0, 5.0, 20.0, 100.0)]
    assert thresholds == sorted(thresholds, reverse=True) and len(set(thresholds)) == len(thresholds)
    for budget in (0.0, 0.5, 1.0, 2.0, 5.0, 20.0, 100.0):
        t = warning_threshold(scores, lines, budget)
        assert metrics.false_warnings_per_kloc(scores, t, lines) <= budget
        lower = max(s for s in scores if s < t) if any(s < t for s in scores) else None
        if lower is not None:  # the next lower threshold would break it: t is the lowest
            assert metrics.false_warnings_per_kloc(scores, lower, lines) > budget


def test_lowest_threshold_counts_like_false_warnings_per_kloc():
    """The sorted, vectorised count gives what the definition gives, ties and NaN included."""
    def by_definition(scores, lines, candidates, budget):
        for t in sorted(candidates):
            if metrics.false_warnings_per_kloc(scores, t, lines) <= budget:
                return t
        return None

    rng = random.Random(7)
    for _ in range(200):
        scores = [round(rng.random(), 2) for _ in range(rng.randint(0, 40))] + [float("nan")] * rng.randint(0, 2)
        candidates = [round(rng.random(), 2) for _ in range(rng.randint(0, 15))]
        lines, budget = rng.randint(0, 400), rng.choice([0.0, 1.0, 5.0, 20.0, 100.0])
        assert metrics.lowest_threshold(scores, lines, candidates, budget) == by_definition(
            scores, lines, candidates, budget)


def test_two_fold_rate_counts_on_the_half_not_used_to_pick():
    # Half A (even items) is all low scores, half B all high: a threshold picked on A warns on all of B.
    scores = [0.1, 0.9] * 10
    lines = [10] * 20
    rate = two_fold_false_per_kloc(scores, lines, 1.0)
    assert rate == pytest.approx((1000 * 10 / 100 + 0.0) / 2)
    assert math.isnan(two_fold_false_per_kloc([0.5], [10], 1.0))


def test_recall_counts_flagged_and_flagged_on_a_bug_line():
    bugs = [Scored(0.9, 2, [2]), Scored(0.8, 0, [3]), Scored(0.2, 1, [1]), Scored(0.95, 4, [3, 4])]
    assert recall_at(bugs, 0.5) == {"n": 4, "flagged": 0.75, "flagged_on_bug_line": 0.5}
    assert recall_at(bugs, 0.1)["flagged"] == 1.0 and recall_at(bugs, 0.1)["flagged_on_bug_line"] == 0.75
    assert math.isnan(recall_at([], 0.5)["flagged"])


# ---------------------------------------------------------------------------------------------- Platt
def _logistic_sample(a: float, b: float, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.5, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(a * x + b)))).astype(int)
    return 1 / (1 + np.exp(-x)), y  # scores whose logit is x


def test_platt_recovers_known_parameters():
    scores, labels = _logistic_sample(1.5, -1.0, 40000, 0)
    a, b = fit_platt(scores, labels)
    assert a == pytest.approx(1.5, abs=0.06) and b == pytest.approx(-1.0, abs=0.06)


def test_platt_with_a_base_rate_undoes_a_resampled_prior():
    """Keep every bug but one clean function in five (a sample far richer in bugs than the code it
    stands for): fitted with the population's base rate, the map is the population's again."""
    scores, labels = _logistic_sample(1.5, -3.0, 200000, 1)
    base_rate = float(labels.mean())
    keep = (labels == 1) | (np.arange(len(labels)) % 5 == 0)
    a, b = fit_platt(scores[keep], labels[keep], base_rate)
    assert a == pytest.approx(1.5, abs=0.08) and b == pytest.approx(-3.0, abs=0.1)
    _, b_sample = fit_platt(scores[keep], labels[keep])  # the sample's own prior: bugs look 5x likelier
    assert b_sample == pytest.approx(-3.0 + math.log(5), abs=0.1)


def test_platt_stays_finite_on_separable_data_and_refuses_one_class():
    a, b = fit_platt([0.9, 0.95, 0.99, 0.1, 0.2, 0.3], [1, 1, 1, 0, 0, 0], 0.05)
    assert math.isfinite(a) and math.isfinite(b) and a > 0
    with pytest.raises(ValueError, match="both"):
        fit_platt([0.9, 0.8], [1, 1])
    with pytest.raises(ValueError, match="base rate"):
        fit_platt([0.9, 0.1], [1, 0], 1.0)


# ---------------------------------------------------------------------------------------------- on a model
CLEAN_TEMPLATE = "def helper_{i}(value):\n    shifted = value + {i}\n    return shifted * {j}"


def _long_buggy(i: int) -> tuple[str, str, int]:
    """A long function with an off-by-one on one line, and its fix."""
    body = [f"def process_{i}(items, limit):", "    total = 0", "    count = 0"]
    body += [f"    step_{k} = items[{k}] * {i + k}" for k in range(8)]
    body += ["    for index in range(len(items) + 1):", "        total += items[index]",
             "        count += 1", "    if count > limit:", "        return limit", "    return total"]
    bug = 11
    fixed = list(body)
    fixed[bug] = "    for index in range(len(items)):"
    return "\n".join(body), "\n".join(fixed), bug


def _write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def write_validation_dataset(out: Path, clean: int = 60, fixes: int = 24) -> Path:
    """Short clean functions, long real-fix pairs, and synthetic mutations, mostly in the validation split
    (some training rows too, which calibration must not read)."""
    out.mkdir(parents=True, exist_ok=True)
    functions = [{"id": f"fn{i}", "project": f"proj{i % 3}", "language": "python", "path": "m.py",
                  "qualified_name": f"helper_{i}", "code": CLEAN_TEMPLATE.format(i=i, j=i % 7 + 2),
                  "is_test": False, "split": "valid" if i < clean else "train"} for i in range(clean + 10)]
    _write(out / "functions.jsonl", functions)
    commits = []
    for i in range(fixes + 5):
        buggy, fixed, bug = _long_buggy(i)
        split = "valid" if i < fixes else "train"
        common = {"project": f"repo{i % 4}", "language": "python", "split": split, "pair_id": f"c{i}",
                  "operator": "commit-fix", "source": "commit-fix"}
        commits += [{**common, "id": f"c{i}-b", "code": buggy, "label": 1, "bug_lines": [bug]},
                    {**common, "id": f"c{i}-f", "code": fixed, "label": 0, "bug_lines": []}]
    _write(out / "commits.jsonl", commits)
    corpus = [CorpusFunction(id=f"m{i}", project="proj0", language="python", path="m.py", qualified_name="f",
                             code=f"def f{i}(xs):\n    if len(xs) > {i}:\n        return xs[{i}]\n    return None",
                             split="valid") for i in range(8)]
    _write(out / "defects.jsonl", [d.to_dict() for d in make_defect_examples(corpus, seed=0)])
    return out


@pytest.fixture(scope="module")
def tiny_adapter(tiny_model_dir, tmp_path_factory) -> Path:
    from harness.tinymodel import build_tiny_adapter

    return build_tiny_adapter(tiny_model_dir, tmp_path_factory.mktemp("adapter"))


def test_clean_sample_is_the_validation_split_minus_known_bugs(tmp_path):
    dataset = write_validation_dataset(tmp_path)
    rows = clean_validation_functions(dataset, 1000, 0)
    assert len(rows) == 60 and all(r["split"] == "valid" for r in rows)
    excluded = rows[0]["code"]
    assert excluded not in {r["code"] for r in clean_validation_functions(dataset, 1000, 0, {excluded})}
    assert [r["id"] for r in clean_validation_functions(dataset, 10, 5)] == [
        r["id"] for r in clean_validation_functions(dataset, 10, 5)]  # seeded
    assert len(clean_validation_functions(dataset, 10, 5)) == 10


def test_calibrate_on_the_tiny_model(tiny_model_dir, tiny_adapter, tmp_path):
    from manyskills.model.runtime import LocalRuntime

    dataset = write_validation_dataset(tmp_path / "dataset")
    runtime = LocalRuntime.load(str(tiny_model_dir), str(tiny_adapter), "cpu")
    report = calibrate(runtime, dataset, max_false_per_kloc=20.0, base_rate=0.1, seed=0)
    assert report["clean_functions"] == 60 and report["clean_lines"] == 180
    assert report["bugs"] == {"release_fixes": 0, "commit_fixes": 24, "synthetic": report["bugs"]["synthetic"]}
    assert report["bugs"]["synthetic"] > 0
    assert set(report["operating_points"]) == {"5.0", "20.0"}
    for budget, point in report["operating_points"].items():
        assert point["false_per_kloc"] <= float(budget)
        assert point["false_warnings"] == round(point["false_per_kloc"] * 180 / 1000)
        assert point["recall"]["real"]["n"] == 24 and point["recall"]["commit_fixes"]["n"] == 24
    assert report["threshold"] == report["operating_points"]["20.0"]["threshold"]
    assert report["operating_points"]["5.0"]["threshold"] >= report["threshold"]
    assert set(report["baselines"]) == {"length_longer", "length_shorter"}
    # every buggy function is longer than every clean one: "longer = buggier" finds them all, "shorter" none
    assert report["baselines"]["length_longer"]["20.0"]["real"]["flagged"] == 1.0
    assert report["baselines"]["length_shorter"]["20.0"]["real"]["flagged"] == 0.0
    # The tiny model's pooled score grows with length (logsumexp over tokens), so here the long buggy
    # functions rank above the short clean ones and the map has a positive slope.
    assert report["auroc_real_vs_clean"] > 0.5
    entry = report["calibration"]
    assert entry["kind"] == "platt" and entry["a"] > 0 and entry["base_rate"] == 0.1
    assert "24 buggy functions (real fixes) vs 60 clean functions of 3 projects" in entry["fitted_on"]
    assert entry["probability_at_threshold"] == defect_probability(report["threshold"], entry)
    assert entry["false_per_kloc_at_threshold"] == report["false_per_kloc"]


def test_calibrate_command_writes_the_threshold_and_the_map(tiny_model_dir, tiny_adapter, tmp_path, capsys):
    adapter = tmp_path / "adapter"
    shutil.copytree(tiny_adapter, adapter)
    dataset = write_validation_dataset(tmp_path / "dataset")
    before = Manifest.load(adapter)
    args = ["calibrate", str(adapter), "--dataset", str(dataset), "--model", str(tiny_model_dir),
            "--device", "cpu", "--max-false-per-kloc", "10", "--base-rate", "0.2"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert Manifest.load(adapter) == before and "written" not in report  # without --write nothing changes
    assert main([*args, "--write"]) == 0
    written = json.loads(capsys.readouterr().out)
    assert written["written"] and written["threshold"] == report["threshold"]  # same sample, same answer
    after = Manifest.load(adapter)
    assert after.thresholds == {**before.thresholds, "defect": report["threshold"]}
    assert after.calibration.get("defect") == written["calibration"]
    assert main(["calibrate", str(adapter), "--dataset", str(tmp_path / "none"), "--model", str(tiny_model_dir),
                 "--device", "cpu"]) == 2
    assert "functions.jsonl" in capsys.readouterr().err
    assert main(["calibrate", str(adapter), "--base-rate", "0"]) == 2


def test_eval_judges_the_calibrated_threshold_and_reports_commit_fixes(tiny_model_dir, tiny_adapter, tmp_path):
    """`manyskills eval` uses the threshold `calibrate --write` chose (not a second one of its own) and
    reports the commit-mined fixes of the validation repositories beside the other sets."""
    from manyskills.training.evaluate import evaluate, format_table

    adapter = tmp_path / "adapter"
    shutil.copytree(tiny_adapter, adapter)
    dataset = write_validation_dataset(tmp_path / "dataset")
    uncalibrated = evaluate(str(adapter), str(dataset), None, model=str(tiny_model_dir), device="cpu",
                            with_baselines=False, skills=["defect"])
    assert uncalibrated["defect_threshold_source"].startswith("tuned")
    assert main(["calibrate", str(adapter), "--dataset", str(dataset), "--model", str(tiny_model_dir),
                 "--device", "cpu", "--max-false-per-kloc", "10", "--write"]) == 0
    shipped = Manifest.load(adapter).thresholds["defect"]
    report = evaluate(str(adapter), str(dataset), None, model=str(tiny_model_dir), device="cpu",
                      with_baselines=False, skills=["defect"])
    assert report["defect_threshold_source"] == "calibrated (shipped)"
    assert report["defect_threshold_from_validation"] == shipped
    commits = report["defect_commit_fixes_valid"]
    assert commits["pairs"] == 24 and commits["threshold"] == shipped
    assert "defect_commit_fixes_valid (n=24" in format_table(report)


def test_writing_a_report_without_a_map_drops_a_stale_one(tiny_adapter, tmp_path):
    adapter = tmp_path / "adapter"
    shutil.copytree(tiny_adapter, adapter)
    old = {"kind": "platt", "a": 1.0, "b": 0.0, "base_rate": 0.05}
    write_operating_point(adapter, {"threshold": 0.6, "calibration": old})
    assert Manifest.load(adapter).calibration == {"defect": old}
    write_operating_point(adapter, {"threshold": 0.7, "calibration": None, "calibration_skipped": "why",
                                    "max_false_per_kloc": 1.0, "false_per_kloc": 0.9})
    manifest = Manifest.load(adapter)
    entry = manifest.calibration["defect"]
    assert manifest.thresholds["defect"] == 0.7 and entry["kind"] == "threshold-only" and entry["why"] == "why"
    assert entry["threshold"] == 0.7 and "a" not in entry


@pytest.mark.realmodel
def test_calibrate_the_shipped_adapter(embedded_model, tmp_path, capsys):
    """The shipped adapter (copied: models/ is never written) on a small dataset written here."""
    from manyskills.model.paths import shipped_adapter_dir

    adapter = tmp_path / "adapter"
    shutil.copytree(shipped_adapter_dir("smollm2-135m"), adapter)
    dataset = write_validation_dataset(tmp_path / "dataset", clean=40, fixes=24)
    assert main(["calibrate", str(adapter), "--dataset", str(dataset), "--device", "cpu", "--write"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["clean_functions"] == 40 and report["bugs"]["commit_fixes"] == 24
    assert report["false_per_kloc"] <= 1.0
    manifest = Manifest.load(adapter)
    assert manifest.thresholds["defect"] == report["threshold"]
    if report["calibration"] is not None:
        assert manifest.calibration["defect"]["a"] > 0
        assert 0.0 < defect_probability(report["threshold"], manifest.calibration["defect"]) < 1.0
