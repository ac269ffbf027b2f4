"""`manyskills calibrate`: the defect warning threshold chosen for a false-warning budget on clean
validation code, the recall it buys, and a map from the defect score to a probability of a bug.

What counts, and why:

- A warning is one function whose defect score is >= the threshold: the server raises at most one
  defect finding per function (analysis/findings.py), and `adapt_eval` counts the same way.
- Clean code is the VALIDATION split of `functions.jsonl` (projects split by repository), not the
  clean sides of defect pairs. Those are the same functions seen through a filter: only functions a
  mutation operator could change, and for real fixes the fixed version of code that was just buggy
  (often still buggy nearby, and more alike to its buggy side than to code at large). The corpus is
  what an editor shows: every function of a project, tests included, as the server analyses them.
  Functions identical to a validation bug's buggy side are dropped. Its rows are 3-60 lines long
  (data/extract.py), so the rate is per 1,000 lines of such functions; lines outside functions
  (imports, declarations) draw no warning, so per 1,000 lines of whole files the rate is lower.
- Bugs are the buggy sides of the validation projects' real fixes (patch-release diffs and fix
  commits, training/sets.py) and, reported apart, synthetic held-out mutations. Recall is the share
  of buggy functions warned about, and, stricter, warned about with the bug on the line named.
- The threshold is the lowest one giving at most the budget's warnings per 1,000 clean lines. It is
  picked on the same sample it is measured on, so its rate meets the budget by construction; the
  report adds a two-fold estimate (pick on one half of the clean functions, count on the other),
  and the test split is where `manyskills eval` judges it.

The probability: P(this function has a bug | its score), the bugs being of the kind small fixes
repair, for a function drawn from code in which `base_rate` of functions have one. Platt scaling
(a logistic regression on logit(score), two parameters) is fitted on the validation bugs above (the
real ones; the synthetic ones only when there are no real ones) against the clean functions, with
the classes weighted so that the fit sees the stated base rate rather than the sample's share, and
with Platt's smoothed targets so that a perfectly separated sample still gives finite parameters.
The default base rate, 5 % of functions, is about 4 residual bugs per 1,000 lines (published defect
densities of delivered code run from under 1 to about 25 per 1,000 lines) in functions of 12 lines,
the validation corpus's mean; the probability scales with it, so it is recorded with the fit.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from manyskills.model.calibration import PLATT, defect_probability, logit
from manyskills.model.types import FunctionInput
from manyskills.training import metrics
from manyskills.training.sets import PairEval, commit_fix_pairs, heldout_pairs, release_fix_pairs

FUNCTIONS_FILE = "functions.jsonl"
DEFAULT_BUDGET = 1.0  # false warnings per 1,000 clean lines at the threshold the adapter ships
SECOND_BUDGET = 5.0  # the looser operating point reported beside it
DEFAULT_BASE_RATE = 0.05
DEFAULT_MAX_CLEAN = 5000
DEFAULT_MAX_PAIRS = 1000  # per set: release fixes, commit fixes, synthetic mutations
MIN_POSITIVES = 20  # fewer bugs than this leave the probability map undetermined: none is fitted


# ---------------------------------------------------------------------------------------------- pure parts
def warning_threshold(clean_scores: Sequence[float], clean_lines: int, max_false_per_kloc: float) -> float:
    """The lowest threshold giving at most `max_false_per_kloc` warnings per 1,000 clean lines. The
    candidates are 0 (warn on everything) and, for each clean score, the next float above it (the
    threshold that just stops warning on that function), so ties move together and the answer is
    exact, not a grid point."""
    candidates = [0.0] + [math.nextafter(float(s), math.inf) for s in clean_scores]
    picked = metrics.lowest_threshold(clean_scores, clean_lines, candidates, max_false_per_kloc)
    assert picked is not None  # the candidate above the highest score warns on nothing
    return picked


def two_fold_false_per_kloc(clean_scores: Sequence[float], lines: Sequence[int], max_false_per_kloc: float) -> float:
    """False warnings per 1,000 lines at a threshold picked on the other half of the clean functions,
    averaged over both halves: what the in-sample rate would be on clean code not used to pick it.
    The halves are alternate items of the (already shuffled) sample."""
    halves = [range(0, len(clean_scores), 2), range(1, len(clean_scores), 2)]
    if not all(halves):
        return float("nan")
    rates = []
    for pick, count in (halves, halves[::-1]):
        t = warning_threshold([clean_scores[i] for i in pick], sum(lines[i] for i in pick), max_false_per_kloc)
        rates.append(metrics.false_warnings_per_kloc([clean_scores[i] for i in count], t,
                                                     sum(lines[i] for i in count)))
    return float(np.mean(rates))


def fit_platt(scores: Sequence[float], labels: Sequence[int], base_rate: float | None = None,
              iterations: int = 100) -> tuple[float, float]:
    """(a, b) of P(label 1 | score) = sigmoid(a * logit(score) + b), by weighted maximum likelihood
    (Newton's method with step halving). With `base_rate`, positives and negatives are weighted so
    that their shares are base_rate and 1 - base_rate (the fit's intercept is then the one for that
    prior, not the sample's); without it, every example weighs the same. Targets are Platt's
    smoothed ones, (N+ + 1) / (N+ + 2) and 1 / (N- + 2)."""
    x = np.array([logit(float(s)) for s in scores])
    y = np.asarray(labels, dtype=float)
    n_pos, n_neg = float(y.sum()), float(len(y) - y.sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("a calibration needs both buggy and clean functions")
    if base_rate is not None and not 0.0 < base_rate < 1.0:
        raise ValueError(f"the base rate must lie strictly between 0 and 1, not {base_rate}")
    target = np.where(y == 1, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    if base_rate is None:
        weight = np.ones_like(x)
    else:
        weight = np.where(y == 1, base_rate / n_pos, (1 - base_rate) / n_neg) * len(y)
    design = np.stack([x, np.ones_like(x)], axis=1)

    def loss(theta: np.ndarray) -> float:
        z = design @ theta
        # -[t log p + (1 - t) log(1 - p)] with log p = -log(1 + e^-z), written to stay finite for large |z|
        return float(np.sum(weight * (np.logaddexp(0.0, z) - target * z)))

    theta = np.array([1.0, math.log((n_pos + 1) / (n_neg + 1)) if base_rate is None else logit(base_rate)])
    current = loss(theta)
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(design @ theta)))
        gradient = design.T @ (weight * (p - target))
        hessian = design.T @ (design * (weight * p * (1 - p))[:, None]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        scale = 1.0
        while scale > 1e-6:
            candidate = theta - scale * step
            value = loss(candidate)
            if value <= current:
                break
            scale /= 2
        else:
            break  # no step lowers the loss: at the optimum up to rounding
        theta, improvement, current = candidate, current - value, value
        if improvement < 1e-12 * max(1.0, abs(current)):
            break
    return float(theta[0]), float(theta[1])


@dataclass
class Scored:
    """One analysed buggy function: its defect score, the line the model names, the true bug lines."""

    score: float
    bug_line: int
    bug_lines: Sequence[int]


def recall_at(bugs: Sequence[Scored], threshold: float) -> dict:
    """Share of buggy functions warned about, and of those warned about on a true bug line."""
    if not bugs:
        return {"n": 0, "flagged": float("nan"), "flagged_on_bug_line": float("nan")}
    flagged = [b.score >= threshold for b in bugs]
    on_line = [f and b.bug_line in b.bug_lines for f, b in zip(flagged, bugs)]
    return {"n": len(bugs), "flagged": float(np.mean(flagged)), "flagged_on_bug_line": float(np.mean(on_line))}


# ---------------------------------------------------------------------------------------------- data
def clean_validation_functions(dataset: Path, limit: int, seed: int, exclude: set[str] = frozenset()) -> list[dict]:
    """Up to `limit` rows of the validation projects' functions (`functions.jsonl`), distinct by code,
    none equal to a code in `exclude`; a seeded random sample when there are more."""
    path = dataset / FUNCTIONS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: calibration needs the dataset's function corpus")
    rows, seen = [], set(exclude)
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row.get("split") != "valid" or row["code"] in seen:
                continue
            seen.add(row["code"])
            rows.append(row)
    random.Random(seed).shuffle(rows)
    return rows[:limit]


def bug_sets(dataset: Path, limit: int, seed: int) -> dict[str, list[PairEval]]:
    """The validation projects' bugs: real fixes (patch releases, fix commits) and synthetic mutations."""
    return {"release_fixes": release_fix_pairs(dataset, "valid", limit, seed),
            "commit_fixes": commit_fix_pairs(dataset, "valid", limit, seed),
            "synthetic": heldout_pairs(dataset, "valid", limit, seed)}


# ---------------------------------------------------------------------------------------------- the command
def _length_baselines(clean: list[dict], clean_lines: list[int], bugs: dict[str, list[PairEval]],
                      budgets: Sequence[float]) -> dict:
    """The trivial detectors at the same false-warning budgets: function length in characters, longer
    = buggier (more code, more room for a bug) and shorter = buggier (the pairwise length-only
    baseline of `manyskills eval`: real fixes mostly add code). Each names its most-operators line."""
    from manyskills.training.baselines import most_operators_line

    total_lines = sum(clean_lines)
    out = {}
    for name, sign in (("length_longer", 1.0), ("length_shorter", -1.0)):
        clean_scores = [sign * len(row["code"]) for row in clean]
        entry = {}
        for budget in budgets:
            # lengths are not in [0, 1], so the candidates are the values just above each clean one
            candidates = [-math.inf] + [math.nextafter(s, math.inf) for s in clean_scores]
            t = metrics.lowest_threshold(clean_scores, total_lines, candidates, budget)
            entry[str(budget)] = {
                name_: recall_at([Scored(sign * len(p.buggy), most_operators_line(p.buggy), p.bug_lines)
                                  for p in pairs], t)
                for name_, pairs in (("real", bugs["release_fixes"] + bugs["commit_fixes"]),
                                     ("synthetic", bugs["synthetic"]))}
        out[name] = entry
    return out


def calibrate(runtime, dataset: Path, max_false_per_kloc: float = DEFAULT_BUDGET,
              base_rate: float = DEFAULT_BASE_RATE, max_clean: int = DEFAULT_MAX_CLEAN,
              max_pairs: int = DEFAULT_MAX_PAIRS, seed: int = 0,
              progress: Callable[[str], None] = lambda message: None) -> dict:
    """Score the validation data with `runtime` (a `LocalRuntime`) and return the report: the threshold
    for the budget, recall there and at SECOND_BUDGET, the length baselines at both, and the manifest
    entry `calibration` (None, with `calibration_skipped` saying why, when no map can be fitted)."""
    from manyskills.training.evaluate import analyse_all

    bugs = bug_sets(dataset, max_pairs, seed)
    buggy_codes = {p.buggy for pairs in bugs.values() for p in pairs}
    clean = clean_validation_functions(dataset, max_clean, seed, buggy_codes)
    if not clean:
        raise ValueError(f"no validation functions in {dataset / FUNCTIONS_FILE}: nothing to calibrate on")
    progress(f"scoring {len(clean)} clean validation functions ...")
    clean_scores = [r.defect_score for r in analyse_all(
        runtime, [FunctionInput(row["language"], row["code"], bool(row.get("is_test"))) for row in clean])]
    lines = [metrics.code_lines(row["code"]) for row in clean]
    total_lines = sum(lines)
    scored: dict[str, list[Scored]] = {}
    for name, pairs in bugs.items():
        if pairs:
            progress(f"scoring {len(pairs)} buggy functions ({name}) ...")
        results = analyse_all(runtime, [FunctionInput(p.language, p.buggy) for p in pairs])
        scored[name] = [Scored(r.defect_score, r.bug_line, p.bug_lines) for r, p in zip(results, pairs)]
    real = scored["release_fixes"] + scored["commit_fixes"]

    budgets = sorted({max_false_per_kloc, SECOND_BUDGET})
    points = {}
    for budget in budgets:
        t = warning_threshold(clean_scores, total_lines, budget)
        points[str(budget)] = {
            "threshold": t,
            "false_warnings": sum(s >= t for s in clean_scores),
            "false_per_kloc": metrics.false_warnings_per_kloc(clean_scores, t, total_lines),
            "false_per_kloc_two_fold": two_fold_false_per_kloc(clean_scores, lines, budget),
            "recall": {"real": recall_at(real, t), **{name: recall_at(s, t) for name, s in scored.items()}},
        }
    chosen = points[str(max_false_per_kloc)]
    report = {
        "dataset": str(dataset), "seed": seed, "max_false_per_kloc": max_false_per_kloc,
        "clean_functions": len(clean), "clean_lines": total_lines,
        "clean_projects": len({row.get("project") for row in clean}),
        "bugs": {name: len(s) for name, s in scored.items()},
        "threshold": chosen["threshold"], "false_per_kloc": chosen["false_per_kloc"],
        "operating_points": points,
        "auroc_real_vs_clean": metrics.auroc([b.score for b in real], clean_scores),
        "auroc_synthetic_vs_clean": metrics.auroc([b.score for b in scored["synthetic"]], clean_scores),
        "baselines": _length_baselines(clean, lines, bugs, budgets),
        "calibration": None,
    }
    positives, fitted_on = (real, "real fixes") if real else (scored["synthetic"], "synthetic mutations")
    if len(positives) < MIN_POSITIVES:
        report["calibration_skipped"] = (f"{len(positives)} validation bugs, fewer than {MIN_POSITIVES}: "
                                         "too few to fit a probability")
        return report
    a, b = fit_platt([p.score for p in positives] + clean_scores, [1] * len(positives) + [0] * len(clean_scores),
                     base_rate)
    if a <= 0:
        report["calibration_skipped"] = (f"the fitted slope is {a:.3f}: on validation the score does not rank "
                                         "bugs above clean code, so it cannot be read as a probability")
        return report
    entry = {"kind": PLATT, "a": a, "b": b, "base_rate": base_rate,
             "fitted_on": (f"validation: {len(positives)} buggy functions ({fitted_on}) vs {len(clean)} clean "
                           f"functions of {report['clean_projects']} projects ({FUNCTIONS_FILE})"),
             "threshold": chosen["threshold"], "max_false_per_kloc": max_false_per_kloc,
             "false_per_kloc_at_threshold": chosen["false_per_kloc"]}
    entry["probability_at_threshold"] = defect_probability(chosen["threshold"], entry)
    report["calibration"] = entry
    return report


def write_operating_point(adapter_dir: Path, report: dict) -> None:
    """Set the adapter's defect threshold to the report's and its defect calibration to the report's
    (removing an older one when none could be fitted: it described another threshold or adapter)."""
    from manyskills.model.adapter import Manifest, update_manifest

    manifest = Manifest.load(adapter_dir)
    thresholds = {**manifest.thresholds, "defect": report["threshold"]}
    calibration = {k: v for k, v in manifest.calibration.items() if k != "defect"}
    if report.get("calibration"):
        calibration["defect"] = report["calibration"]
    else:  # no probability, but the threshold's provenance still travels with the adapter
        calibration["defect"] = {"kind": "threshold-only", "threshold": report["threshold"],
                                 "max_false_per_kloc": report["max_false_per_kloc"],
                                 "false_per_kloc_at_threshold": report["false_per_kloc"],
                                 "why": report.get("calibration_skipped", "")}
    update_manifest(adapter_dir, thresholds=thresholds, calibration=calibration)
