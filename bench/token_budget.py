"""What the token budget (manifest `max_tokens`) buys and costs, for the shipped adapter.

    python bench/token_budget.py [--budgets 256,512] [--pairs 300] [--json bench/results/token_budget.json]

Quality: the first `--pairs` VALIDATION pairs (seed 0 order, as `manyskills eval` draws them) whose
buggy function is longer than the smallest budget; line top-1 (overall, and where the bug line lies
past the smallest budget's cut), pairwise, AUROC, detection and false warnings per kLOC at the
manifest threshold. No QuixBugs: this is the evidence a budget is chosen on.
Cost: functions/s and tokens/s of the serving path (`LocalRuntime.analyse`, length-sorted batches of
16) on this repository's own functions, budgets alternated twice; the second repetition is reported.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, machine_info, write_json


def quality(rt, budgets: list[int], n_pairs: int, dataset: Path) -> dict:
    from manyskills.model.runtime import FunctionInput, encode_function
    from manyskills.training import evaluate as ev
    from manyskills.training.sets import heldout_pairs

    cut = min(budgets)
    rt.manifest.max_tokens = cut
    chosen = []  # (pair, bug line beyond the cut?)
    for p in heldout_pairs(dataset, "valid", 10**9, 0):
        _ids, lines, _n, truncated = encode_function(rt.tokenizer, rt.manifest, p.language, p.buggy)
        if truncated:
            chosen.append((p, p.bug_lines[0] > max(lines)))
        if len(chosen) >= n_pairs:
            break
    pairs = [p for p, _ in chosen]
    threshold = rt.manifest.thresholds.get("defect", 0.5)
    out = {"pairs": len(pairs), "bug_past_cut": sum(b for _, b in chosen), "threshold": threshold, "by_budget": {}}
    for budget in budgets:
        rt.manifest.max_tokens = budget
        rb = ev.analyse_all(rt, [FunctionInput(p.language, p.buggy) for p in pairs])
        rc = ev.analyse_all(rt, [FunctionInput(p.language, p.clean) for p in pairs])
        m = ev.defect_metrics_of(pairs, rb, rc, threshold)
        past = [r.bug_line in p.bug_lines for r, p, (_, beyond) in zip(rb, pairs, chosen) if beyond]
        out["by_budget"][str(budget)] = {
            **{k: m[k] for k in ("line_top1", "pairwise", "pairwise_equal_length", "auroc", "detection_rate",
                                 "false_warnings_per_kloc")},
            "line_top1_bug_past_cut": sum(past) / max(1, len(past)),
        }
        print(f"quality, budget {budget}: " + ", ".join(f"{k} {v:.3f}" for k, v in out["by_budget"][str(budget)].items()),
              flush=True)
    return out


def cost(rt, budgets: list[int]) -> dict:
    from manyskills.index.functions import index_functions
    from manyskills.model.runtime import FunctionInput

    fns = []
    for path in sorted((ROOT / "server" / "manyskills").rglob("*.py")):
        fns += [FunctionInput("python", f.text) for f in index_functions("python", path.read_text())]
    rt.manifest.max_tokens = 10**6
    full = [rt.count_tokens(f) for f in fns]
    out = {"functions": len(fns), "over": {str(b): sum(t > b for t in full) for b in budgets}, "by_budget": {}}
    for rep in range(2):
        for budget in budgets:
            rt.manifest.max_tokens = budget
            order = sorted(fns, key=rt.count_tokens)
            tokens = sum(rt.count_tokens(f) for f in order)
            started = time.perf_counter()
            for k in range(0, len(order), 16):
                rt.analyse(order[k:k + 16])
            seconds = time.perf_counter() - started
            out["by_budget"][str(budget)] = {"tokens": tokens, "seconds": round(seconds, 2),
                                             "functions_per_s": round(len(fns) / seconds, 2),
                                             "tokens_per_s": round(tokens / seconds)}
            print(f"cost, repetition {rep}, budget {budget}: {tokens} tokens, {len(fns) / seconds:.2f} fn/s", flush=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--budgets", default="256,512")
    ap.add_argument("--pairs", type=int, default=300)
    ap.add_argument("--dataset", default=str(ROOT / "data-cache" / "dataset"))
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    from manyskills.model.runtime import LocalRuntime

    budgets = sorted(int(b) for b in args.budgets.split(","))
    rt = LocalRuntime.load(None, None, "auto")
    report = {"machine": machine_info(), "adapter": rt.identity.adapter_path, "budgets": budgets}
    if not args.skip_quality:
        report["quality_validation_long_functions"] = quality(rt, budgets, args.pairs, Path(args.dataset))
    report["cost_this_repository"] = cost(rt, budgets)
    if args.json:
        write_json(args.json, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
