"""`manyskills adapt --evaluate`: the shipped and the project adapter on the held-out (most recent)
fixes of the repository, through the runtime the server uses (`LocalRuntime`), with the metrics of
`manyskills eval` (`training.metrics`).

Each adapter warns at its own calibrated threshold: the shipped one at its manifest's; the project
one at the lowest threshold that gives no more false warnings per 1,000 lines than the shipped one
on a calibration sample of the current tree's functions. False warnings are then counted on another
sample (neither was trained on), so the threshold is not tuned on what it is judged by.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from manyskills.training import metrics

BATCH = 8


def _scores(runtime, items: list[tuple[str, str]]) -> list:
    from manyskills.model.types import FunctionInput

    out = []
    for i in range(0, len(items), BATCH):
        out += runtime.analyse([FunctionInput(lang, text) for lang, text in items[i:i + BATCH]])
    return out


def _measure(runtime, data, threshold: float | None, calibrate_to: float | None) -> dict:
    buggy = _scores(runtime, [(p.buggy["language"], p.buggy["code"]) for p in data.heldout])
    fixed = _scores(runtime, [(p.fixed["language"], p.fixed["code"]) for p in data.heldout])
    b, f = [r.defect_score for r in buggy], [r.defect_score for r in fixed]
    if calibrate_to is not None and data.calibration:
        calib = [r.defect_score for r in _scores(runtime, [(fn.language, fn.text) for fn in data.calibration])]
        lines = sum(metrics.code_lines(fn.text) for fn in data.calibration)
        # just above each score: the threshold that stops warning on that function
        candidates = [math.nextafter(x, 2.0) for x in calib] + ([threshold] if threshold is not None else [])
        picked = metrics.lowest_threshold(calib, lines, candidates, max_false_per_kloc=calibrate_to)
        threshold = picked if picked is not None else threshold
    clean = [r.defect_score for r in _scores(runtime, [(fn.language, fn.text) for fn in data.evaluation])]
    clean_lines = sum(metrics.code_lines(fn.text) for fn in data.evaluation)
    return {
        "heldout_pairs": len(data.heldout),
        "line_top1": metrics.line_top1([r.bug_line for r in buggy], [p.buggy["bug_lines"] for p in data.heldout]),
        "pairwise": metrics.pairwise(b, f),
        "auroc": metrics.auroc(b, f),
        "threshold": threshold,
        "recall": metrics.detection_rate(b, threshold) if threshold is not None else float("nan"),
        "false_per_kloc": (metrics.false_warnings_per_kloc(clean, threshold, clean_lines)
                           if threshold is not None and data.evaluation else float("nan")),
        "clean_lines": clean_lines,
    }


def _calibration_rate(runtime, data, threshold: float) -> float:
    calib = [r.defect_score for r in _scores(runtime, [(fn.language, fn.text) for fn in data.calibration])]
    return metrics.false_warnings_per_kloc(calib, threshold, sum(metrics.code_lines(fn.text) for fn in data.calibration))


def evaluate_adapters(shipped_dir: Path, project_dir: Path, data, progress: Callable[[str], None]) -> dict:
    from manyskills.model.runtime import LocalRuntime

    progress(f"evaluating the shipped adapter on {len(data.heldout)} held-out fixes ...")
    runtime = LocalRuntime.load(adapter_setting=str(shipped_dir), device_setting="cpu")
    shipped_threshold = runtime.manifest.thresholds.get("defect", 0.5)
    shipped = _measure(runtime, data, shipped_threshold, None)
    rate = _calibration_rate(runtime, data, shipped_threshold) if data.calibration else None
    del runtime
    progress("evaluating the project adapter ...")
    runtime = LocalRuntime.load(adapter_setting=str(project_dir), device_setting="cpu")
    project = _measure(runtime, data, runtime.manifest.thresholds.get("defect", 0.5), rate)
    del runtime
    return {"shipped": shipped, "project": project, "calibration_false_per_kloc": rate}


def format_evaluation(evaluation: dict) -> str:
    rows = [("line top-1", "line_top1", "{:.3f}"), ("pairwise buggy>fixed", "pairwise", "{:.3f}"),
            ("AUROC", "auroc", "{:.3f}"), ("threshold", "threshold", "{:.3f}"),
            ("recall at threshold", "recall", "{:.3f}"), ("false warnings / 1,000 lines", "false_per_kloc", "{:.2f}")]

    def cell(value, fmt: str) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "—"
        return fmt.format(value)

    n = evaluation["shipped"]["heldout_pairs"]
    lines = [f"held-out fixes: {n} (most recent 20 % of fix commits); clean lines: {evaluation['shipped']['clean_lines']}",
             f"{'':30s}{'shipped':>10s}{'project':>10s}"]
    for label, key, fmt in rows:
        lines.append(f"{label:30s}{cell(evaluation['shipped'][key], fmt):>10s}{cell(evaluation['project'][key], fmt):>10s}")
    return "\n".join(lines)
