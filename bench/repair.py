"""Repair quality (issue 22): candidate edits ranked by the defect skill, with the margin that gates the
quick fix, beside two baselines — the most frequent operator inverse on the most-operators line, and
today's generated repair (on a small sample: generation is slow on a CPU).

Three steps, so the margin is chosen on validation data only and the costly model calls run once:

    # score candidates of mutated functions from the Python standard library, split by module like the
    # training data (`split_for_project`): `valid` modules to tune, `test` modules to report
    python bench/repair.py collect --split valid --limit 150 --json bench/results/repair-valid.json
    python bench/repair.py collect --split test --limit 150 --generate 20 --json bench/results/repair-test.json
    python bench/repair.py collect --quixbugs /work/shared/bench/quixbugs.jsonl --json bench/results/repair-quixbugs.json
    # the margin: the one maximising right - 3 x wrong offered fixes on validation (3 of 4 right)
    python bench/repair.py tune bench/results/repair-valid.json
    # the table, at a margin (QuixBugs and test are reported, never tuned on)
    python bench/repair.py report --margin 0.5 bench/results/repair-valid.json bench/results/repair-test.json \\
        bench/results/repair-quixbugs.json

Held-out REAL fixes (commit-mined `commits.jsonl`, or patch-release `history.jsonl` with `--real history`)
go through the same detector-only rule (bench/repair_real.py); their table reads the margin curve on valid, reports test once
(bench/repair_real.py says how a fix is judged right, strictly and line by line):

    python bench/repair.py collect --real commits --split valid --limit 150 --json /tmp/repair-real-valid.json
    python bench/repair.py collect --real commits --split test --limit 150 --json /tmp/repair-real-test.json
    python bench/repair.py report-real /tmp/repair-real-valid.json /tmp/repair-real-test.json \\
        --json bench/results/repair_real.json

Metrics, over buggy functions (every one, flagged or not):
* repair@line: the top candidate at the true bug line is exactly the fix (repair given the location);
* joint: the top candidate at the detector's suspect line(s) is exactly the fix (localisation + repair);
* offered / precision: the share of functions that get a quick fix (the top candidate passes the
  margin), and the share of those fixes that are exactly right.
Exact means the repaired function equals the fixed one, whitespace-normalised line by line.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import sysconfig
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, machine_info, machine_line, write_json
from manyskills.analysis.repair import replaced_line, suspect_lines
from manyskills.analysis.repair_candidates import repair_candidates
from repair_real import DETECTOR_MARGIN, collect_real, report_real

_STDLIB_SKIP = {"test", "idlelib", "lib2to3", "site-packages", "pydoc_data", "ensurepip", "turtledemo",
                "__phello__", "__pycache__", "lib-dynload", "distutils", "tkinter"}
FLAG_THRESHOLD = 0.74  # models/smollm2-135m's calibrated defect threshold (manyskills.json)
MAX_LINES = 40  # longer functions cost minutes of CPU per candidate set here


def normalised(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.rstrip("\n").split("\n")]


# ---------------------------------------------------------------------------------------------- data
def stdlib_pairs(split: str, limit: int, seed: int) -> list[dict]:
    """Mutated functions (with their clean originals) of the stdlib modules in `split`."""
    from manyskills.data.extract import file_functions, keep_function, split_for_project
    from manyskills.data.mutations import make_defect_examples
    from manyskills.data.records import CorpusFunction, stable_id

    root = Path(sysconfig.get_paths()["stdlib"])
    functions = []
    for entry in sorted(root.iterdir()):
        name = entry.stem if entry.suffix == ".py" else entry.name
        if name in _STDLIB_SKIP or name.startswith(("config-", ".")):
            continue
        if split_for_project(f"stdlib-{name}") != split:
            continue
        files = [entry] if entry.suffix == ".py" else sorted(entry.rglob("*.py")) if entry.is_dir() else []
        for path in files:
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            for fn, code in file_functions("python", text):
                if keep_function(code, max_lines=MAX_LINES):
                    functions.append(CorpusFunction(stable_id("fn", name, str(path), fn.qualified_name), f"stdlib-{name}",
                                                    "python", str(path.relative_to(root)), fn.qualified_name, code,
                                                    split=split))
    random.Random(seed).shuffle(functions)
    examples = make_defect_examples(functions[: limit * 3], seed)
    clean = {e.pair_id: e.code for e in examples if not e.label}
    pairs = [{"id": e.id, "project": e.project, "language": e.language, "buggy": e.code, "fixed": clean[e.pair_id],
              "bug_lines": [e.fix_line], "operator": e.operator} for e in examples if e.label]
    return pairs[:limit]


def quixbugs(path: str) -> list[dict]:
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    return [{"id": r["id"], "project": "QuixBugs", "language": r["language"], "buggy": r["buggy"], "fixed": r["fixed"],
             "bug_lines": [n - 1 for n in r["bug_lines"]], "operator": "real"} for r in rows]


# ---------------------------------------------------------------------------------------------- collect
def collect(args) -> None:
    from manyskills.model.runtime import FunctionInput, LocalRuntime
    from manyskills.training.evaluate import analyse_all, most_operators_line

    if args.real:
        return collect_real(args)
    pairs = quixbugs(args.quixbugs)[: args.limit] if args.quixbugs else stdlib_pairs(args.split, args.limit, args.seed)
    source = "QuixBugs" if args.quixbugs else f"stdlib-{args.split}"
    machine = machine_info()
    runtime = LocalRuntime.load(None, args.adapter, "cpu")
    started = time.perf_counter()
    analyses = analyse_all(runtime, [FunctionInput(p["language"], p["buggy"]) for p in pairs])
    rows = []
    for number, (pair, analysis) in enumerate(zip(pairs, analyses)):
        language, buggy, fixed = pair["language"], pair["buggy"], normalised(pair["fixed"])
        true_line = pair["bug_lines"][0]
        lines = suspect_lines(analysis.line_scores, analysis.bug_line)
        sets = {"joint": repair_candidates(language, buggy, lines),
                "at_line": repair_candidates(language, buggy, [true_line]),
                "most_ops": repair_candidates(language, buggy, [most_operators_line(buggy)])}
        texts = list(dict.fromkeys(c.text for key in ("joint", "at_line") for c in sets[key]))
        scored = analyse_all(runtime, [FunctionInput(language, buggy)] + [FunctionInput(language, t) for t in texts])
        score = {t: r.defect_score for t, r in zip(texts, scored[1:])}
        row = {"id": pair["id"], "operator": pair["operator"], "language": language, "before": scored[0].defect_score,
               "detected_line": analysis.bug_line, "suspect_lines": lines, "true_lines": pair["bug_lines"],
               "fixable": any(normalised(c.text) == fixed for c in sets["at_line"])}
        for key, candidates in sets.items():
            row[key] = [{"score": score.get(c.text), "correct": normalised(c.text) == fixed, "kind": c.kind,
                         "line": c.line, "pattern": f"{c.kind}:{c.old}->{c.new}" if c.kind == "operator" else c.kind,
                         "description": c.description} for c in candidates]
        if number < args.generate:
            note = runtime.review(FunctionInput(language, buggy), analysis.bug_line)
            repaired = replaced_line(buggy, analysis.bug_line, note.fixed_line)
            row["generated"] = {"fixed_line": note.fixed_line, "valid": repaired is not None,
                                "correct": repaired is not None and normalised(repaired) == fixed,
                                "score": analyse_all(runtime, [FunctionInput(language, repaired)])[0].defect_score
                                if repaired is not None else None}
        rows.append(row)
        print(f"{number + 1}/{len(pairs)} {pair['id'][:40]} candidates {len(texts)} "
              f"{time.perf_counter() - started:.0f}s", flush=True)
        # written after every function, so a run cut short still leaves its rows
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"source": source, "seed": args.seed, "rows": rows,
                                               "seconds": time.perf_counter() - started, "machine": machine},
                                              indent=1, default=str) + "\n")
    print(f"wrote {args.json}")


# ---------------------------------------------------------------------------------------------- metrics
def _top(candidates: list[dict]) -> dict | None:
    # "delete" rows come from runs made before deletions stopped being candidates (their ranking on
    # validation is why): they are skipped so every run is read as the current enumerator ranks.
    scored = [c for c in candidates if c["score"] is not None and c["kind"] != "delete"]
    return min(scored, key=lambda c: c["score"]) if scored else None  # min keeps enumeration order on ties


def metrics(rows: list[dict], margin: float, frequent: Counter | None = None) -> dict:
    n = len(rows)
    at_line = sum(bool(t and t["correct"]) for t in (_top(r["at_line"]) for r in rows))
    joint = sum(bool(t and t["correct"]) for t in (_top(r["joint"]) for r in rows))
    offered = correct = 0
    for r in rows:
        top = _top(r["joint"])
        if top is not None and r["before"] - top["score"] >= margin:
            offered += 1
            correct += top["correct"]
    out = {"n": n, "fixable_at_line": sum(r["fixable"] for r in rows) / n, "repair_at_line": at_line / n,
           "joint": joint / n, "offered": offered / n, "precision": correct / offered if offered else float("nan"),
           "offered_n": offered, "correct_offered": correct}
    # what the product shows: fixes are computed only for functions flagged at the calibrated threshold
    flagged = [r for r in rows if r["before"] >= FLAG_THRESHOLD]
    shown = [t for t in (_top(r["joint"]) for r in flagged) if t is not None]
    passed = [t for r, t in zip(flagged, shown) if r["before"] - t["score"] >= margin]
    out["flagged"] = {"n": len(flagged), "offered": len(passed), "correct": sum(t["correct"] for t in passed)}
    if frequent is not None:  # baseline: the most frequent operator inverse on the most-operators line
        hits = 0
        for r in rows:
            if r["most_ops"]:
                kept = [c for c in r["most_ops"] if c["kind"] != "delete"] or [{"correct": False, "pattern": ""}]
                best = max(kept, key=lambda c: frequent[c["pattern"]])  # max keeps the first on ties
                hits += best["correct"]
        out["most_ops_baseline"] = hits / n
    generated = [r["generated"] for r in rows if "generated" in r]
    if generated:
        valid = [g for g in generated if g["valid"]]
        out["generation"] = {"n": len(generated), "offered": len(valid) / len(generated),
                             "exact": sum(g["correct"] for g in generated) / len(generated),
                             "precision": sum(g["correct"] for g in valid) / len(valid) if valid else float("nan")}
        fallback = []
        for r in rows:
            if "generated" not in r:
                continue
            top = _top(r["joint"])
            if top is not None and r["before"] - top["score"] >= margin:
                continue
            g = r["generated"]
            if g["valid"] and g["score"] is not None and r["before"] - g["score"] >= margin:
                fallback.append(g["correct"])
        out["generation"]["fallback_offered"] = len(fallback)
        out["generation"]["fallback_correct"] = sum(fallback)
    return out


def frequent_patterns(rows: list[dict]) -> Counter:
    """How often each edit pattern was the right fix (validation rows only)."""
    return Counter(c["pattern"] for r in rows for c in r["at_line"] if c["correct"])


def tune(args) -> None:
    """The margin maximising right minus 3 x wrong offered fixes on validation: a fix is worth offering
    only when it is right at least 3 times out of 4, so each wrong one costs three right ones."""
    data = json.loads(Path(args.valid).read_text())
    rows = data["rows"]
    print(f"validation: {len(rows)} functions ({data['source']})")
    print("margin  offered  precision  (correct/offered)  right-3*wrong")
    best = None
    for step in range(0, 96, 5):
        margin = step / 100
        m = metrics(rows, margin)
        utility = m["correct_offered"] - 3 * (m["offered_n"] - m["correct_offered"])
        print(f"{margin:5.2f}  {m['offered']:7.3f}  {m['precision']:9.3f}  ({m['correct_offered']}/{m['offered_n']})"
              f"  {utility:+d}")
        if m["offered_n"] and (best is None or utility > best[0]):
            best = (utility, margin)
    print(f"chosen margin (most right - 3 x wrong; the smallest on ties): {best[1] if best else None}")


def report(args) -> None:
    files = [json.loads(Path(p).read_text()) for p in args.files]
    frequent = frequent_patterns(files[0]["rows"])  # the first file is validation: the baseline's table
    table = {}
    print(f"margin {args.margin} (the detector-only rule's {DETECTOR_MARGIN}); baseline patterns from {files[0]['source']}")
    print("| set | n | fixable@line | repair@line | joint loc+repair | offered | precision | flagged: offered / right "
          "| most-ops baseline | generation exact / precision (n) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for data in files:
        m = metrics(data["rows"], args.margin, frequent)
        table[data["source"]] = m
        g = m.get("generation")
        gen = f"{g['exact']:.3f} / {g['precision']:.3f} ({g['n']})" if g else "—"
        print(f"| {data['source']} | {m['n']} | {m['fixable_at_line']:.3f} | {m['repair_at_line']:.3f} | "
              f"{m['joint']:.3f} | {m['offered']:.3f} | {m['precision']:.3f} ({m['correct_offered']}/{m['offered_n']}) | "
              f"{m['flagged']['offered']}/{m['flagged']['n']} / {m['flagged']['correct']} | "
              f"{m['most_ops_baseline']:.3f} | {gen} |")
    print(machine_line(machine_info()))
    write_json(args.json, {"margin": args.margin, "table": table})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="step", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--split", choices=("valid", "test"), default="valid")
    c.add_argument("--quixbugs", default=None, help="QuixBugs jsonl (report only: never tune on it)")
    c.add_argument("--real", choices=("commits", "history"), default=None,
                   help="held-out real fixes of the dataset's --split: commit-mined (commits.jsonl) or "
                        "patch-release (history.jsonl); see bench/repair_real.py")
    c.add_argument("--dataset", default=str(ROOT / "data-cache" / "dataset"))
    c.add_argument("--only-fixable", action="store_true",
                   help="--real: only the pairs a candidate at the true bug line can fix (the stratum of right fixes)")
    c.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    c.add_argument("--limit", type=int, default=150)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--generate", type=int, default=0, help="also run today's generation on the first N")
    c.add_argument("--adapter", default=None)
    c.add_argument("--json", required=True)
    t = sub.add_parser("tune")
    t.add_argument("valid")
    r = sub.add_parser("report")
    r.add_argument("files", nargs="+", help="validation first, then the held-out sets")
    r.add_argument("--margin", type=float, default=DETECTOR_MARGIN)
    r.add_argument("--json", default=None)
    rr = sub.add_parser("report-real", help="the real-fix table: margin chosen on the valid file, test reported")
    rr.add_argument("valid")
    rr.add_argument("test", nargs="?")
    rr.add_argument("--json", default=None)
    rr.add_argument("--fixable", nargs="*", default=None,
                    help="--only-fixable collections of the same splits (valid, then test): whole-split precision")
    rr.add_argument("--dataset", default=None, help="also count, over every pair, the fixes a candidate can express")
    args = parser.parse_args()
    {"collect": collect, "tune": tune, "report": report, "report-real": report_real}[args.step](args)


if __name__ == "__main__":
    main()
