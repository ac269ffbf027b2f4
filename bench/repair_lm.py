"""Repairs ranked by the language model's likelihood: can "the edit that makes the code most natural"
choose and gate quick fixes on REAL fixes where the defect skill cannot (issue 22, item 2)?

`collect` runs, on the buggy side of held-out real fixes, every operator-inverse candidate
(`repair_candidates`) at every line of the function (or only at the detector's suspect lines, as the
server does), and records for each candidate: the change in the language model's log-likelihood of
the whole function (`LocalRuntime.log_likelihood`, the served model: base + merged adapter), the
defect score of the repaired function, and whether it is the real fix (`repair_real.fix_verdict`).
Two collections per split, as in `repair_real.py`: every pair that some candidate at its true bug
line can fix (the only stratum where an offered fix can be right; collected whole), and a random sample
of the other pairs (where every offered fix is wrong; it gives the rate of wrong offers there).

The pool is the server's (`manyskills.analysis.repair.candidate_pool`), plus the name swaps at the
suspect lines that only the `defect` rule ranks; `lm+margin` is the server's rule.

`report` picks a rule and its gate on the valid files only (most right minus 3 x wrong offered fixes,
whole-split estimates) and reports the test files once:

* `defect`: the detector-only rule the server used until 2026-12-07: suspect-line candidates, lowest
  defect score, drop >= margin;
* `lm`: candidates at any line, highest likelihood gain, gain >= gate (nats);
* `lm-suspect`: suspect-line candidates only, highest likelihood gain, gain >= gate;
* `lm+defect`: any line, highest gain, gain >= gate and a defect drop >= 0 (the detector must not object);
* `lm+margin` (the server's rule since): any line, among the candidates whose defect drop is at least m,
  the highest gain, and gain >= g: the gate is the pair (m, g), both read on valid (the detector must
  agree by a margin).

    python bench/repair_lm.py collect --real commits --split valid --fixable --json bench/results/repair-lm-valid-fixable.json
    python bench/repair_lm.py collect --real commits --split valid --limit 120 --json bench/results/repair-lm-valid-sample.json
    # synthetic bugs (stdlib modules of the split) and QuixBugs: every pair collected, no sample needed
    python bench/repair_lm.py collect --real synthetic --split valid --limit 40 --json bench/results/repair-lm-synthetic-valid.json
    python bench/repair_lm.py collect --real quixbugs --quixbugs ../shared/bench/quixbugs.jsonl --json bench/results/repair-lm-quixbugs.json
    python bench/repair_lm.py report --valid bench/results/repair-lm-valid-fixable.json bench/results/repair-lm-valid-sample.json \
        [--test bench/results/repair-lm-test-fixable.json bench/results/repair-lm-test-sample.json]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "server"))

from _common import machine_info
from manyskills.analysis.repair import NAME_KINDS, REPAIR_GAIN, REPAIR_MARGIN, candidate_pool, suspect_lines
from manyskills.analysis.repair_candidates import repair_candidates
from repair_real import expressible, fix_verdict

from scripts.sample_mined import wilson

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 40  # functions longer than this are skipped (every line's candidates are scored)
WHOLE_SETS = ("synthetic", "quixbugs")  # collected whole: no fixable stratum, no sample
SETS = ("commits", "history", *WHOLE_SETS)


def _pairs(args):
    from types import SimpleNamespace

    from manyskills.training.sets import commit_fix_pairs, release_fix_pairs

    if args.real in WHOLE_SETS:  # every pair is collected: the file is its whole set
        from repair import quixbugs, stdlib_pairs

        raw = quixbugs(args.quixbugs) if args.real == "quixbugs" else stdlib_pairs(args.split, args.limit, args.seed)
        pairs = [SimpleNamespace(buggy=r["buggy"], clean=r["fixed"], language=r["language"], bug_lines=r["bug_lines"])
                 for r in raw if len(r["buggy"].split("\n")) <= MAX_LINES][: args.limit or None]
        return pairs, len(pairs), len(pairs)
    load = commit_fix_pairs if args.real == "commits" else release_fix_pairs
    pairs = [p for p in load(Path(args.dataset), args.split, 10**9, 0) if len(p.buggy.split("\n")) <= MAX_LINES]
    fixable = [expressible(p)[0] for p in pairs]
    total, n_fixable = len(pairs), sum(fixable)
    if args.fixable:
        chosen = [p for p, f in zip(pairs, fixable) if f]
    else:
        others = [p for p, f in zip(pairs, fixable) if not f]
        chosen = random.Random(args.seed).sample(others, min(args.limit, len(others)))
    return chosen[: args.limit] if args.fixable and args.limit else chosen, total, n_fixable


def collect(args) -> None:
    import torch
    from manyskills.model.runtime import FunctionInput, LocalRuntime
    from manyskills.training.evaluate import analyse_all

    if args.threads:
        torch.set_num_threads(args.threads)
    pairs, total, n_fixable = _pairs(args)
    runtime = LocalRuntime.load(args.model, args.adapter, "cpu")
    started = time.perf_counter()
    rows = []
    if args.resume and Path(args.json).exists():  # the pairs come in a fixed order: skip those already run
        earlier = json.loads(Path(args.json).read_text())
        rows = earlier["rows"]
        started -= earlier["seconds"]
    for number, pair in enumerate(pairs):
        if number < len(rows):
            continue
        buggy, fixed, language = pair.buggy, pair.clean, pair.language
        item = FunctionInput(language, buggy)
        analysis = analyse_all(runtime, [item])[0]
        suspects = suspect_lines(analysis.line_scores, analysis.bug_line)
        n_lines = len(buggy.split("\n"))
        # the server's pool (`candidate_pool`: no name swaps, whose likelihood gain measures the names'
        # lengths) and the name swaps at the suspect lines, which only the detector-only rule ranks
        at_suspects = repair_candidates(language, buggy, suspects)
        seen = {c.text for c in at_suspects}
        everywhere = at_suspects + [c for c in candidate_pool(language, buggy, suspects) if c.text not in seen]
        texts = [FunctionInput(language, c.text) for c in everywhere]
        likelihood = runtime.log_likelihood([item] + texts)
        after = analyse_all(runtime, texts)
        candidates = []
        for c, ll, a in zip(everywhere, likelihood[1:], after):
            strict, line_right = fix_verdict(buggy, fixed, c.text, c.line, c.new_line)
            candidates.append({"line": c.line, "kind": c.kind, "old": c.old, "new": c.new,
                               "gain": ll - likelihood[0], "drop": analysis.defect_score - a.defect_score,
                               "suspect": c.line in suspects, "strict": strict, "line_right": line_right})
        rows.append({"index": number, "language": language, "lines": n_lines, "bug_lines": pair.bug_lines,
                     "before": analysis.defect_score, "detected_line": analysis.bug_line, "suspect_lines": suspects,
                     "candidates": candidates})
        right = [c for c in candidates if c["strict"]]
        print(f"{number + 1}/{len(pairs)} {language} lines {n_lines} candidates {len(candidates)} "
              f"right gain {[round(c['gain'], 2) for c in right]} best gain "
              f"{max((c['gain'] for c in candidates), default=None)} {time.perf_counter() - started:.0f}s", flush=True)
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({
            "real": args.real, "split": args.split,
            "stratum": "all" if args.real in WHOLE_SETS else "fixable" if args.fixable else "sample",
            "pairs_in_split": total, "fixable_in_split": n_fixable, "max_lines": MAX_LINES, "seed": args.seed,
            "model": args.model, "adapter": args.adapter, "rows": rows,
            "seconds": time.perf_counter() - started, "machine": machine_info()}, indent=1) + "\n")
    print(f"wrote {args.json}")


def latency(args) -> None:
    """What the user waits for when a finding's fix is resolved: the server's `repair_for` (pool, defect
    scoring, likelihood of the candidates past the margin) on real buggy functions, beside the
    detector-only rule it replaced (suspect-line candidates, one defect scoring). With `--generate`,
    the generation fallback runs as in the server (when no candidate passes) and the fixes it gets
    past its bar are judged against the real fix."""
    import statistics

    import torch
    from manyskills.analysis.repair import repair_for
    from manyskills.model.runtime import FunctionInput, LocalRuntime

    if args.threads:
        torch.set_num_threads(args.threads)
    pairs = _pairs(args)[0][: args.limit]
    runtime = LocalRuntime.load(args.model, args.adapter, "cpu")
    runtime.analyse([FunctionInput("python", "def warm(x):\n    return x\n")])  # first-call costs out
    rows, asked = [], []

    def likelihood(items):  # the runtime's, counting the candidates it is asked about
        asked.append(len(items) - 1)
        return runtime.log_likelihood(items)

    for pair in pairs:
        item = FunctionInput(pair.language, pair.buggy)
        analysis = runtime.analyse([item])[0]
        started = time.perf_counter()
        old_pool = repair_candidates(item.language, item.text, suspect_lines(analysis.line_scores, analysis.bug_line))
        runtime.analyse([item] + [FunctionInput(item.language, c.text) for c in old_pool])
        detector_only = time.perf_counter() - started
        started = time.perf_counter()
        asked.clear()
        generate = (lambda item=item, line=analysis.bug_line: runtime.review(item, line)) if args.generate else None
        repair = repair_for(runtime.analyse, likelihood, item, analysis.bug_line, analysis, generate=generate)
        rows.append({"lines": len(pair.buggy.split("\n")), "detector_only_s": detector_only,
                     "server_s": time.perf_counter() - started, "likelihood_candidates": sum(asked),
                     "offered": None if repair is None else repair.source,
                     "right": repair is not None and fix_verdict(pair.buggy, pair.clean, repair.text,
                                                                 repair.line_in_function, repair.fixed_line)[0]})
        print(f"{len(rows)}/{len(pairs)} lines {rows[-1]['lines']} detector-only {detector_only:.2f}s "
              f"server {rows[-1]['server_s']:.2f}s (likelihood of {sum(asked)} candidates)", flush=True)
    summary = {key: {"median": round(statistics.median(r[key] for r in rows), 2),
                     "max": round(max(r[key] for r in rows), 2)} for key in ("detector_only_s", "server_s")}
    summary["offered"] = dict(Counter(r["offered"] for r in rows if r["offered"]))
    summary["right"] = sum(r["right"] for r in rows)
    summary["functions"] = len(rows)
    print(json.dumps(summary))
    Path(args.json).write_text(json.dumps({"split": args.split, "real": args.real, "summary": summary, "rows": rows,
                                           "threads": torch.get_num_threads(), "machine": machine_info()}, indent=1) + "\n")


# ------------------------------------------------------------------------------------------------ rules
def _offer(row: dict, rule: str, gate: float) -> dict | None:
    """The fix a rule offers for a row at `gate`, or None."""
    cands = row["candidates"]
    if rule == "defect":
        pool = [c for c in cands if c["suspect"]]
        best = max(pool, key=lambda c: c["drop"], default=None)
        return best if best is not None and best["drop"] >= gate else None
    pool = [c for c in cands if c["suspect"]] if rule == "lm-suspect" else cands
    pool = [c for c in pool if c["kind"] not in NAME_KINDS]  # their gain measures the name's length
    if rule == "lm+margin":
        margin, gate = gate
        pool = [c for c in pool if c["drop"] >= margin]
    best = max(pool, key=lambda c: c["gain"], default=None)
    if best is None or best["gain"] < gate:
        return None
    if rule == "lm+defect" and best["drop"] < 0:
        return None
    return best


RULES = {"defect": [g / 100 for g in range(0, 96, 5)],
         "lm": [g / 2 for g in range(31)], "lm-suspect": [g / 2 for g in range(31)],
         "lm+defect": [g / 2 for g in range(31)],
         "lm+margin": [(m, g / 2) for m in (0.0, 0.02, 0.05, 0.1, 0.25) for g in range(31)]}


def estimate(fixable: dict, sample: dict | None, rule: str, gate: float) -> dict:
    """Whole-split estimate: right and wrong offers counted in the fixable stratum (collected whole or
    scaled), wrong offers outside it from the sample's rate. Without a sample the wrong offers outside
    the stratum are unknown (counted as none), so precision is an upper bound."""
    f_rows, s_rows = fixable["rows"], (sample["rows"] if sample else [])
    n_split, n_fix = fixable["pairs_in_split"], fixable["fixable_in_split"]
    scale = n_fix / len(f_rows) if f_rows else 0.0
    offers_f = [_offer(r, rule, gate) for r in f_rows]
    right = scale * sum(1 for o in offers_f if o is not None and o["strict"])
    wrong_f = scale * sum(1 for o in offers_f if o is not None and not o["strict"])
    offers_s = sum(1 for r in s_rows if _offer(r, rule, gate) is not None)
    rate_s = offers_s / len(s_rows) if s_rows else 0.0
    wrong_s = rate_s * (n_split - n_fix)
    offered = right + wrong_f + wrong_s
    return {"rule": rule, "gate": gate, "right": round(right, 1), "wrong_in_stratum": round(wrong_f, 1),
            "wrong_outside": round(wrong_s, 1), "sample_offers": f"{offers_s}/{len(s_rows)}",
            "offered": round(offered, 1), "coverage": round(offered / n_split, 4) if n_split else None,
            "precision": round(right / offered, 3) if offered else None,
            "wilson95_sample_rate": wilson(offers_s, len(s_rows)),
            "utility": round(right - 3 * (wrong_f + wrong_s), 1)}


def ranking(fixable: dict) -> dict:
    """Where the real fix ranks among a function's candidates, by each ranking (fixable stratum)."""
    out = {}
    for name, pool, key in (("defect (suspect lines)", lambda r: [c for c in r["candidates"] if c["suspect"]], "drop"),
                            ("likelihood (all lines, no names)",
                             lambda r: [c for c in r["candidates"] if c["kind"] not in NAME_KINDS], "gain"),
                            ("likelihood (suspect lines, no names)",
                             lambda r: [c for c in r["candidates"] if c["suspect"] and c["kind"] not in NAME_KINDS],
                             "gain")):
        ranks = []
        for r in fixable["rows"]:
            cands = sorted(pool(r), key=lambda c: -c[key])
            ranks.append(next((i for i, c in enumerate(cands) if c["strict"]), None))
        n = len(ranks)
        out[name] = {"n": n, "in_pool": sum(x is not None for x in ranks), "top1": sum(x == 0 for x in ranks),
                     "top3": sum(x is not None and x < 3 for x in ranks)}
    return out


def report(args) -> None:
    vf = json.loads(Path(args.valid[0]).read_text())
    vs = json.loads(Path(args.valid[1]).read_text()) if len(args.valid) > 1 else None
    result = {"valid": {"ranking": ranking(vf), "curves": {}}, "chosen": {}}
    for rule, gates in RULES.items():
        curve = [estimate(vf, vs, rule, g) for g in gates]
        result["valid"]["curves"][rule] = curve
        useful = [e for e in curve if e["right"] > 0]
        if useful:
            # ties: the loosest gate (smallest margin, then smallest gain), as before lm+margin existed
            loosest = (lambda g: tuple(-x for x in g)) if isinstance(curve[0]["gate"], tuple) else (lambda g: -g)
            result["chosen"][rule] = max(useful, key=lambda e: (e["utility"], loosest(e["gate"])))
    print("valid ranking of the real fix:", json.dumps(result["valid"]["ranking"]))
    for rule, e in result["chosen"].items():
        print(f"valid {rule:11s} gate {e['gate']}: offered {e['offered']:6.1f} right {e['right']:5.1f} "
              f"precision {e['precision']} coverage {e['coverage']} (sample offers {e['sample_offers']})")
    if args.test:
        tf = json.loads(Path(args.test[0]).read_text())
        ts = json.loads(Path(args.test[1]).read_text()) if len(args.test) > 1 else None
        result["test"] = {"ranking": ranking(tf),
                          "at_valid_gate": {rule: estimate(tf, ts, rule, e["gate"]) for rule, e in result["chosen"].items()}}
        print("test ranking of the real fix:", json.dumps(result["test"]["ranking"]))
        for rule, e in result["test"]["at_valid_gate"].items():
            print(f"test  {rule:11s} gate {e['gate']}: offered {e['offered']:6.1f} right {e['right']:5.1f} "
                  f"precision {e['precision']} coverage {e['coverage']} (sample offers {e['sample_offers']})")
    server = (REPAIR_MARGIN, REPAIR_GAIN)
    result["server_rule"] = {"rule": "lm+margin", "gate": list(server), "valid": estimate(vf, vs, "lm+margin", server)}
    if args.test:
        result["server_rule"]["test"] = estimate(tf, ts, "lm+margin", server)
    for spec in args.other or []:  # whole sets (synthetic bugs, QuixBugs): reported, never tuned on
        name, _, path = spec.partition("=")
        whole = json.loads(Path(path).read_text())
        result.setdefault("other", {})[name] = {
            "ranking": ranking(whole), "server_rule": estimate(whole, None, "lm+margin", server),
            "at_valid_gate": {rule: estimate(whole, None, rule, e["gate"]) for rule, e in result["chosen"].items()}}
    print(f"the server's rule, lm+margin {server}:")
    for where, e in [("valid", result["server_rule"]["valid"]), ("test", result["server_rule"].get("test"))] + \
            [(name, o["server_rule"]) for name, o in result.get("other", {}).items()]:
        if e is not None:
            print(f"  {where:12s} offered {e['offered']:6.1f} right {e['right']:5.1f} precision {e['precision']} "
                  f"coverage {e['coverage']} (sample offers {e['sample_offers']}, Wilson 95% of the sample's rate "
                  f"{e['wilson95_sample_rate']})")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="step", required=True)
    shared = argparse.ArgumentParser(add_help=False)  # which pairs, which model: collect and latency alike
    shared.add_argument("--real", choices=SETS, default="commits",
                        help="real fixes (commit-mined or patch-release), mutated stdlib functions, or QuixBugs (report only)")
    shared.add_argument("--quixbugs", default=None, help="QuixBugs jsonl, with --real quixbugs")
    shared.add_argument("--split", choices=("valid", "test"), default="valid")
    shared.add_argument("--seed", type=int, default=0)
    shared.add_argument("--threads", type=int, default=0)
    shared.add_argument("--dataset", default=str(ROOT / "data-cache" / "dataset"))
    shared.add_argument("--model", default=None)
    shared.add_argument("--adapter", default=None)
    shared.add_argument("--json", required=True)
    c = sub.add_parser("collect", parents=[shared])
    c.add_argument("--fixable", action="store_true", help="the stratum a candidate at the bug line can fix")
    c.add_argument("--limit", type=int, default=120)
    c.add_argument("--resume", action="store_true", help="keep the rows already in --json and run the rest")
    t = sub.add_parser("latency", parents=[shared], help="seconds per resolved fix: the server's rule vs the detector-only one")
    t.add_argument("--limit", type=int, default=20)
    t.add_argument("--generate", action="store_true", help="run the generation fallback as the server does")
    t.set_defaults(fixable=False)
    r = sub.add_parser("report")
    r.add_argument("--valid", nargs="+", required=True, help="FIXABLE [SAMPLE]: without a sample, precision is an upper bound")
    r.add_argument("--test", nargs="+", help="FIXABLE [SAMPLE]")
    r.add_argument("--other", nargs="*", help="NAME=FILE: whole sets (--real synthetic|quixbugs), reported only")
    r.add_argument("--json", default=None)
    args = parser.parse_args()
    {"collect": collect, "latency": latency, "report": report}[args.step](args)


if __name__ == "__main__":
    main()
