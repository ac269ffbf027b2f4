"""The untrained base model, prompted zero-shot, on the defect skill's questions (the issue's "beats the
untrained base (prompted zero-shot)" bar).

    python bench/prompted_baseline.py [--heldout 150] [--valid 150] [--json bench/results/prompted_baseline.json]

SmolLM2-135M-Instruct is asked in its chat format "does this function contain a bug?" and "on which
line is the bug?" (`training.baselines.prompted_zero_shot`: answers scored, never sampled). Its detection
threshold is chosen like the adapter's: the lowest Yes-No margin with at most 5 false warnings per
1,000 lines on clean VALIDATION functions. Reported on the first `--heldout` held-out test pairs (seed
0: the pairs of `manyskills eval`'s base rows) and on all QuixBugs pairs (evaluation only).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, machine_info, write_json


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default=str(ROOT / "data-cache" / "dataset"))
    ap.add_argument("--quixbugs", default=str(ROOT.parent / "shared" / "bench" / "quixbugs.jsonl"))
    ap.add_argument("--heldout", type=int, default=150)
    ap.add_argument("--valid", type=int, default=150)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    from manyskills.model.runtime import LocalRuntime
    from manyskills.training import baselines, metrics, sets

    adapted = LocalRuntime.load(None, None, "auto")
    base = LocalRuntime(adapted.base, None, adapted.device, adapted.dtype)
    del adapted
    dataset = Path(args.dataset)
    valid = sets.heldout_pairs(dataset, "valid", 600, 0)[: args.valid]
    margins = [baselines.prompted_zero_shot(base, p.language, p.clean)[0] for p in valid]
    threshold = metrics.lowest_threshold(margins, sum(metrics.code_lines(p.clean) for p in valid),
                                         [*set(margins), max(margins) + 1e-6])
    print(f"threshold from {len(valid)} validation clean functions: Yes-No margin {threshold:.3f}", flush=True)
    report = {"machine": machine_info(), "threshold_from_validation": threshold, "validation_functions": len(valid)}
    sets_ = {"heldout": sets.heldout_pairs(dataset, "test", 600, 0)[: args.heldout]}
    if Path(args.quixbugs).is_file():
        sets_["quixbugs"] = sets.quixbugs_pairs(Path(args.quixbugs))
    for name, pairs in sets_.items():
        started = time.perf_counter()
        buggy, clean, picked = baselines.zero_shot_scores(baselines.prompted_zero_shot, base, pairs)
        top = [k in p.bug_lines for k, p in zip(picked, pairs)]
        summary = baselines.ranking_summary(pairs, buggy, clean, picked)
        report[name] = {
            "pairs": summary.pop("n"), **summary, "answers_line_1": float(np.mean([k == 0 for k in picked])),
            "detection_rate": metrics.detection_rate(buggy, threshold),
            "false_warnings_per_kloc": metrics.false_warnings_per_kloc(
                clean, threshold, sum(metrics.code_lines(p.clean) for p in pairs)),
            "line_top1_by_language": {lang: float(np.mean([t for t, p in zip(top, pairs) if p.language == lang]))
                                      for lang in sorted({p.language for p in pairs})},
            "seconds": round(time.perf_counter() - started, 1),
        }
        print(name, {k: (round(v, 3) if isinstance(v, float) else v) for k, v in report[name].items()}, flush=True)
    write_json(args.json, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
