"""Validation-only defect metrics of an adapter (for choosing between adapters): synthetic pairs and
real fixes of the validation projects, with line top-1 per language. Nothing from test projects or
QuixBugs.
    python bench/valid_defect.py <adapter dir> <out.json> [base model name or dir; default: the embedded one]
                                 [sets, comma-separated; default synthetic_valid,release_fixes_valid,commit_fixes_valid]
                                 [--dataset DIR (default data-cache/dataset)]"""
import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, "server")
from manyskills.model.runtime import FunctionInput, LocalRuntime  # noqa: E402
from manyskills.training.evaluate import analyse_all, defect_metrics_of  # noqa: E402
from manyskills.training.sets import commit_fix_pairs, heldout_pairs, release_fix_pairs  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("adapter")
parser.add_argument("out")
parser.add_argument("base", nargs="?", default="")
parser.add_argument("sets", nargs="?", default=None)
parser.add_argument("--dataset", default="data-cache/dataset")
args = parser.parse_args()
dataset = Path(args.dataset)
rt = LocalRuntime.load(args.base or None, args.adapter, "cpu")
wanted = set(args.sets.split(",")) if args.sets else None
th = rt.manifest.thresholds.get("defect", 0.74)
out = {}
for name, pairs in (("synthetic_valid", heldout_pairs(dataset, "valid", 600, 0)),
                    ("release_fixes_valid", release_fix_pairs(dataset, "valid", 2000, 0)),
                    ("commit_fixes_valid", commit_fix_pairs(dataset, "valid", 10**6, 0))):
    if wanted is not None and name not in wanted:
        continue
    if not pairs:
        print(name, "no pairs (dataset file missing)", flush=True)
        continue
    t = time.time()
    rb = analyse_all(rt, [FunctionInput(p.language, p.buggy) for p in pairs])
    rc = analyse_all(rt, [FunctionInput(p.language, p.clean) for p in pairs])
    m = defect_metrics_of(pairs, rb, rc, th)
    hits = defaultdict(list)
    for p, r in zip(pairs, rb):
        hits[p.language].append(r.bug_line in p.bug_lines)
    m["line_top1_by_language"] = {k: {"n": len(v), "line_top1": float(np.mean(v))}
                                  for k, v in sorted(hits.items(), key=lambda kv: -len(kv[1]))}
    by_tag = defaultdict(list)
    for p, r, c in zip(pairs, rb, rc):
        if p.tag:
            by_tag[p.tag].append((r.bug_line in p.bug_lines, r.defect_score > c.defect_score))
    if by_tag:
        m["by_tag"] = {k: {"n": len(v), "line_top1": float(np.mean([h for h, _ in v])),
                           "pairwise": float(np.mean([w for _, w in v]))}
                       for k, v in sorted(by_tag.items(), key=lambda kv: -len(kv[1]))}
    b = m["baselines"]
    out[name] = m
    print(args.adapter, name, len(pairs), f"top1 {m['line_top1']:.3f} (most-ops {b['most_operators_line_top1']:.3f})",
          f"pairwise {m['pairwise']:.3f} (len {b['length_only']['pairwise']:.3f}) eq-len {m['pairwise_equal_length']:.3f} n={m['equal_length_pairs']}",
          f"AUROC {m['auroc']:.3f}", f"{time.time()-t:.0f}s", flush=True)
    if by_tag:
        print("   by kind:", " ".join(f"{k} {v['line_top1']:.2f}/{v['pairwise']:.2f}({v['n']})"
                                     for k, v in m["by_tag"].items()), flush=True)
    print("   by language:", " ".join(f"{k} {v['line_top1']:.3f}({v['n']})" for k, v in m["line_top1_by_language"].items()), flush=True)
Path(args.out).write_text(json.dumps(out, indent=1))
