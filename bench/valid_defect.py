"""Validation-only defect metrics of an adapter (for choosing between adapters): synthetic pairs and
real fixes of the validation projects. Nothing from test projects or QuixBugs.
    python bench/valid_defect.py <adapter dir> <out.json>"""
import sys, json, time; sys.path.insert(0, "server")
from pathlib import Path
from manyskills.model.runtime import LocalRuntime
from manyskills.training.evaluate import release_fix_pairs, defect_metrics, heldout_pairs
rt = LocalRuntime.load(None, sys.argv[1], "cpu")
th = rt.manifest.thresholds.get("defect", 0.74)
out = {}
for name, pairs in (("synthetic_valid", heldout_pairs(Path("data-cache/dataset"), "valid", 600, 0)),
                    ("release_fixes_valid", release_fix_pairs(Path("data-cache/dataset"), "valid", 2000, 0))):
    t = time.time()
    m = defect_metrics(rt, pairs, th, None)
    b = m["baselines"]
    out[name] = m
    print(sys.argv[1], name, len(pairs), f"top1 {m['line_top1']:.3f} (most-ops {b['most_operators_line_top1']:.3f})",
          f"pairwise {m['pairwise']:.3f} (len {b['length_only']['pairwise']:.3f}) eq-len {m['pairwise_equal_length']:.3f} n={m['equal_length_pairs']}",
          f"AUROC {m['auroc']:.3f}", f"{time.time()-t:.0f}s", flush=True)
Path(sys.argv[2]).write_text(json.dumps(out, indent=1))
