"""Defect metrics of one adapter on the held-out real fixes from patch releases (history.jsonl):
validation projects (for choosing between adapters) and test projects (the report).

    python bench/release_fixes.py <adapter dir> <threshold | tune> <out.json> [base pairs]
"""
import sys, json, time; sys.path.insert(0, "server")
from pathlib import Path
from manyskills.model.runtime import LocalRuntime
from manyskills.training.evaluate import defect_metrics, tune_threshold
from manyskills.training.sets import heldout_pairs, release_fix_pairs
adapter = sys.argv[1]
rt = LocalRuntime.load(None, adapter, "cpu")
threshold = tune_threshold(rt, heldout_pairs(Path("data-cache/dataset"), "valid", 600, 0)) if sys.argv[2] == "tune" else float(sys.argv[2])
print("threshold", threshold, "max_tokens", rt.manifest.max_tokens, flush=True)
base_limit = int(sys.argv[4]) if len(sys.argv) > 4 else 0
base = LocalRuntime(rt.base, None, rt.device, rt.dtype) if base_limit else None
out = {}
for split in ("valid", "test"):
    t = time.time()
    pairs = release_fix_pairs(Path("data-cache/dataset"), split, 1000, 0)
    m = defect_metrics(rt, pairs, threshold, base if split == "test" else None, base_limit)
    b = m["baselines"]
    out[split] = m
    print(adapter, split, len(pairs), f"top1 {m['line_top1']:.3f} (most-ops {b['most_operators_line_top1']:.3f} random {b['random_line_top1']:.3f})",
          f"pairwise {m['pairwise']:.3f} (len {b['length_only']['pairwise']:.3f}) eq-len {m['pairwise_equal_length']:.3f} n={m['equal_length_pairs']}",
          f"AUROC {m['auroc']:.3f} det {m['detection_rate']:.3f} FW {m['false_warnings_per_kloc']:.1f}", f"{time.time()-t:.0f}s", flush=True)
    for k in ("base_zero_shot_naturalness", "base_prompted_zero_shot"):
        if k in b:
            print("   ", k, {x: round(y, 3) for x, y in b[k].items() if isinstance(y, float)}, flush=True)
Path(sys.argv[3]).write_text(json.dumps(out, indent=1))
