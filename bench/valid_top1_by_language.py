"""Per-language line top-1 on VALIDATION synthetic pairs (buggy side only), for several adapters:
    python bench/valid_top1_by_language.py models/default runs/adapter-v4-512 ..."""
import sys, collections; sys.path.insert(0, "server")
from pathlib import Path
import numpy as np
from manyskills.model.runtime import LocalRuntime, FunctionInput
from manyskills.training.evaluate import heldout_pairs, analyse_all
pairs = heldout_pairs(Path("data-cache/dataset"), "valid", 600, 0)
print("languages", collections.Counter(p.language for p in pairs), flush=True)
for adapter in sys.argv[1:]:
    rt = LocalRuntime.load(None, adapter, "cpu")
    rb = analyse_all(rt, [FunctionInput(p.language, p.buggy) for p in pairs])
    hit = collections.defaultdict(list)
    for p, r in zip(pairs, rb):
        hit[p.language].append(r.bug_line in p.bug_lines)
    print(adapter, " ".join(f"{k} {np.mean(v):.3f}({len(v)})" for k, v in sorted(hit.items(), key=lambda kv: -len(kv[1]))), flush=True)
