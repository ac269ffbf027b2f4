"""Repairs on held-out REAL fixes (issue 22's bar: offered quick fixes right at least 3 times out of 4).

`python bench/repair.py collect --real commits --split valid|test` runs the detector-only repair rule
the server used until 2026-12-07 (the detector's suspect lines, the operator-inverse candidates, one
batched defect scoring, the lowest-scoring candidate, gated by its drop; `bench/repair_lm.py` measures
the rule that replaced it) on the buggy side of fixes mined from
repositories' fix commits (`commits.jsonl`, or `history.jsonl` patch-release fixes with `--real history`)
and records, for each buggy function, the fix offered (if any) and every candidate's score, so the
margin curve can be read on validation without running the model again. `report-real` prints the
table: the margin is read on the valid file only, the test file is reported once.

Whether an offered fix is RIGHT is judged two ways against the fixed side of the same commit:
* strict: the repaired function equals the fixed function, whitespace-normalised line by line;
* line: the edited line is one the fix changed and its new text equals the fixed side's line aligned
  with it (a difflib alignment of the two sides; where the fix replaced k lines by k lines the
  counterpart is positional, otherwise any line of the fixed block counts). A line-right fix repairs
  the line it touches even when the commit also changed other lines (2 of 5 real fixes touch several).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from difflib import SequenceMatcher
from pathlib import Path

from _common import machine_info, machine_line, write_json
from manyskills.analysis.repair import suspect_lines
from manyskills.analysis.repair_candidates import repair_candidates

from scripts.sample_mined import wilson  # the one Wilson interval of the project's benches

# The detector-only gate the server used until 2026-12-07, chosen on synthetic validation bugs
# (`bench/repair.py tune`); the server's gate now also asks the language model (`bench/repair_lm.py`).
DETECTOR_MARGIN = 0.25
FLAG_THRESHOLD = 0.74  # models/smollm2-135m's calibrated defect threshold (manyskills.json)
MARGINS = [step / 100 for step in range(0, 96, 5)]


# ---------------------------------------------------------------------------------------------- right fix
def normalised(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.rstrip("\n").split("\n")]


def fixed_counterparts(buggy: str, fixed: str) -> dict[int, list[str]]:
    """For each line of `buggy` the fix replaced or deleted, the (normalised) fixed lines it may become:
    its positional counterpart when the fix replaced k lines by k lines, any line of the fixed block
    otherwise, none when the fix deleted it. Lines the fix left alone are absent."""
    a, b = normalised(buggy), normalised(fixed)
    out: dict[int, list[str]] = {}
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "replace":
            for i in range(i1, i2):
                out[i] = [b[j1 + i - i1]] if i2 - i1 == j2 - j1 else b[j1:j2]
        elif tag == "delete":
            for i in range(i1, i2):
                out[i] = []
    return out


def fix_verdict(buggy: str, fixed: str, repaired: str, line: int, new_line: str) -> tuple[bool, bool]:
    """(strict, line-level) rightness of the edit that turns `buggy` into `repaired` by rewriting its
    line `line` as `new_line`, judged against the real `fixed` version."""
    strict = normalised(repaired) == normalised(fixed)
    line_right = strict or " ".join(new_line.split()) in fixed_counterparts(buggy, fixed).get(line, [])
    return strict, line_right


# ---------------------------------------------------------------------------------------------- collect
def judged_candidate(candidate, buggy: str, fixed: str, scores: dict[str, float]) -> dict:
    """A candidate as a row records it: its defect score (None when it was not scored), its verdicts."""
    strict, line_right = fix_verdict(buggy, fixed, candidate.text, candidate.line, candidate.new_line)
    return {"score": scores.get(candidate.text), "strict": strict, "line_right": line_right,
            "kind": candidate.kind, "line": candidate.line, "new_line": candidate.new_line,
            "pattern": f"{candidate.kind}:{candidate.old}->{candidate.new}" if candidate.kind == "operator"
            else candidate.kind}


def collect_real(args) -> None:
    import torch
    from manyskills.model.runtime import FunctionInput, LocalRuntime
    from manyskills.training.evaluate import analyse_all, most_operators_line
    from manyskills.training.sets import commit_fix_pairs, release_fix_pairs

    if args.threads:
        torch.set_num_threads(args.threads)
    load = commit_fix_pairs if args.real == "commits" else release_fix_pairs
    pairs = load(Path(args.dataset), args.split, 10**9 if args.only_fixable else args.limit, args.seed)
    source = f"real-{args.real}-{args.split}"
    if args.only_fixable:  # the stratum where a right fix can be offered at all (see `stratified`)
        pairs = [p for p in pairs if expressible(p)[1]][: args.limit]
        source += "-fixable"
    machine = machine_info()
    runtime = LocalRuntime.load(None, args.adapter, "cpu")
    scores: dict[str, float] = {}

    def score(items):  # the defect skill, remembering every score so the rows can list them
        results = analyse_all(runtime, items)
        scores.update((i.text, r.defect_score) for i, r in zip(items, results))
        return results

    started = time.perf_counter()
    rows = []
    for number, pair in enumerate(pairs):
        buggy, fixed, language = pair.buggy, pair.clean, pair.language
        item = FunctionInput(language, buggy)
        analysis = score([item])[0]
        # the detector-only rule (no generation fallback): the candidate at the suspect lines whose repaired
        # function scores lowest, first in enumeration order on ties; the gate is applied in the report
        lines = suspect_lines(analysis.line_scores, analysis.bug_line)
        joint = repair_candidates(language, buggy, lines)
        scored = score([item] + [FunctionInput(language, c.text) for c in joint])
        best = min(range(len(joint)), key=lambda i: (scored[i + 1].defect_score, i), default=None)
        offered = None if best is None else joint[best]
        at_bug = [judged_candidate(c, buggy, fixed, scores) for c in repair_candidates(language, buggy, pair.bug_lines)]
        row = {"index": number, "language": language, "lines": len(buggy.split("\n")), "bug_lines": pair.bug_lines,
               "before": analysis.defect_score, "detected_line": analysis.bug_line, "suspect_lines": lines,
               "fixable_strict": any(c["strict"] for c in at_bug), "fixable_line": any(c["line_right"] for c in at_bug),
               "joint": [judged_candidate(c, buggy, fixed, scores) for c in joint],
               "most_ops": [judged_candidate(c, buggy, fixed, scores)
                            for c in repair_candidates(language, buggy, [most_operators_line(buggy)])],
               "top": None}
        if offered is not None:  # the top-ranked candidate; the margin gate is applied in the report
            strict, line_right = fix_verdict(buggy, fixed, offered.text, offered.line, offered.new_line)
            row["top"] = {"line": offered.line, "fixed_line": offered.new_line,
                          "description": offered.description,
                          "drop": scored[0].defect_score - scored[best + 1].defect_score, "strict": strict,
                          "line_right": line_right, "localised": offered.line in pair.bug_lines}
        rows.append(row)
        print(f"{number + 1}/{len(pairs)} {language} lines {row['lines']} candidates {len(row['joint'])} "
              f"drop {row['top']['drop'] if row['top'] else None} {time.perf_counter() - started:.0f}s", flush=True)
        # written after every function, so a run cut short still leaves its rows
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"source": source, "seed": args.seed, "limit": args.limit,
                                               "pairs": len(pairs), "rows": rows,
                                               "seconds": time.perf_counter() - started, "machine": machine},
                                              indent=1, default=str) + "\n")
    print(f"wrote {args.json}")



# ---------------------------------------------------------------------------------------------- report
def share(right: int, n: int) -> dict:
    return {"right": right, "n": n, "precision": round(right / n, 4) if n else None, "wilson95": wilson(right, n)}


def offered_at(rows: list[dict], margin: float) -> list[dict]:
    """The fixes the gate lets through at `margin`: the top-ranked candidate, when it lowers the defect
    score by at least `margin` (what `repair.choose` does)."""
    return [r["top"] for r in rows if r["top"] is not None and r["top"]["drop"] >= margin]


def real_metrics(rows: list[dict], margin: float, frequent: Counter) -> dict:
    n = len(rows)
    offered = offered_at(rows, margin)
    flagged = [r for r in rows if r["before"] >= FLAG_THRESHOLD]
    shown = offered_at(flagged, margin)
    baseline = []
    for r in rows:  # the most frequent right edit pattern of validation, on the most-operators line
        if r["most_ops"]:
            baseline.append(max(r["most_ops"], key=lambda c: frequent[c["pattern"]]))  # max keeps the first on ties
    return {
        "n": n, "margin": margin,
        "fixable_strict": sum(r["fixable_strict"] for r in rows), "fixable_line": sum(r["fixable_line"] for r in rows),
        "offered": len(offered), "coverage": round(len(offered) / n, 4) if n else None,
        "strict": share(sum(t["strict"] for t in offered), len(offered)),
        "line": share(sum(t["line_right"] for t in offered), len(offered)),
        "localised": sum(t["localised"] for t in offered),
        "flagged": {"n": len(flagged), "offered": len(shown),
                    "strict": share(sum(t["strict"] for t in shown), len(shown)),
                    "line": share(sum(t["line_right"] for t in shown), len(shown))},
        "most_ops_baseline": {"offered": len(baseline),
                              "strict": share(sum(c["strict"] for c in baseline), len(baseline)),
                              "line": share(sum(c["line_right"] for c in baseline), len(baseline))},
    }


def frequent_real_patterns(rows: list[dict]) -> Counter:
    """How often each edit pattern was a (line-level) right fix among validation candidates."""
    return Counter(c["pattern"] for r in rows for key in ("joint", "most_ops") for c in r[key] if c["line_right"])


def choose_margin(rows: list[dict]) -> tuple[float | None, list[dict]]:
    """The margin with the most right minus 3 x wrong offered fixes (strict), the smallest on ties, as
    the shipped margin was chosen on stdlib validation; None when no margin offers a right fix."""
    curve, best = [], None
    for margin in MARGINS:
        offered = offered_at(rows, margin)
        right = sum(t["strict"] for t in offered)
        line = sum(t["line_right"] for t in offered)
        utility = right - 3 * (len(offered) - right)
        curve.append({"margin": margin, "offered": len(offered), "strict": right, "line": line, "utility": utility})
        if right and (best is None or utility > best[0]):
            best = (utility, margin)
    return (best[1] if best else None), curve


def stratified(sample: list[dict], fixable: list[dict], pairs: int, fixable_pairs: int, margin: float) -> dict:
    """Precision of offered fixes over a whole split, from two collections: every pair a candidate can fix
    (`--only-fixable`: the only stratum where an offered fix can be right; `fixable_pairs` of `pairs`) and a
    random sample, whose pairs outside that stratum give the rate of (necessarily wrong) fixes offered
    there. Right offers are counted, the wrong ones outside the stratum estimated: a point estimate and
    the range the Wilson interval of that rate spans."""
    scale = fixable_pairs / len(fixable) if fixable else 0.0  # 1 when the stratum was collected whole
    offered_f = offered_at(fixable, margin)
    right_strict = scale * sum(t["strict"] for t in offered_f)
    right_line = scale * sum(t["line_right"] for t in offered_f)
    outside = [r for r in sample if not r["fixable_line"]]
    offered_out = len(offered_at(outside, margin))
    rate, (low, high) = (offered_out / len(outside) if outside else 0.0), wilson(offered_out, len(outside))
    rest = pairs - fixable_pairs

    def precision(right: float, q: float) -> float | None:
        total = scale * len(offered_f) + q * rest
        return round(right / total, 4) if total else None

    return {"margin": margin, "pairs": pairs, "fixable_pairs": fixable_pairs, "fixable_collected": len(fixable),
            "offered_in_stratum": len(offered_f), "right_strict_in_stratum": sum(t["strict"] for t in offered_f),
            "right_line_in_stratum": sum(t["line_right"] for t in offered_f),
            "sample_outside_stratum": len(outside), "offered_outside_in_sample": offered_out,
            "right_offers_outside_in_sample": sum(t["line_right"] for t in offered_at(outside, margin)),
            "estimated_offers": round(scale * len(offered_f) + rate * rest, 2),
            "coverage": round((scale * len(offered_f) + rate * rest) / pairs, 4) if pairs else None,
            "precision_strict": precision(right_strict, rate), "precision_line": precision(right_line, rate),
            "precision_line_range": [precision(right_line, max(0.0, high)), precision(right_line, max(0.0, low))],
            "precision_strict_range": [precision(right_strict, max(0.0, high)), precision(right_strict, max(0.0, low))]}


def right_candidate_ranks(rows: list[dict]) -> dict:
    """Where the right candidate stands among a function's suspect-line candidates (line-level right):
    whether it is there at all (the suspect lines hold the bug), its rank by defect score (0 = what
    the gate would offer) and the drop it makes — why right fixes are, or are not, offered."""
    present, first, drops = 0, 0, []
    for r in rows:
        scored = [c for c in r["joint"] if c["score"] is not None]
        order = sorted(range(len(scored)), key=lambda i: (scored[i]["score"], i))
        ranks = [k for k, i in enumerate(order) if scored[i]["line_right"]]
        if ranks:
            present += 1
            first += ranks[0] == 0
            drops.append(round(r["before"] - scored[order[ranks[0]]]["score"], 4))
    return {"functions": len(rows), "right_among_candidates": present, "right_ranked_first": first,
            "right_drops": drops}


def _cell(s: dict) -> str:
    if not s["n"]:
        return "0/0"
    low, high = (max(0.0, b) for b in s["wilson95"])
    return f"{s['right']}/{s['n']} = {s['precision']:.2f} [{low:.2f}, {high:.2f}]"


def expressible(pair) -> tuple[bool, bool]:
    """Whether some candidate edit at the pair's true bug line(s) is the real fix (strict, line-level)."""
    verdicts = [fix_verdict(pair.buggy, pair.clean, c.text, c.line, c.new_line)
                for c in repair_candidates(pair.language, pair.buggy, pair.bug_lines)]
    return any(s for s, _ in verdicts), any(v for _, v in verdicts)


def ceiling(dataset: Path, real: str, split: str) -> dict:
    """Without the model, over every pair of the split: how many real fixes a single candidate edit at
    the true bug line(s) can express at all (strictly / on the line) — the most a perfect ranker could
    get right."""
    from manyskills.training.sets import commit_fix_pairs, release_fix_pairs

    load = commit_fix_pairs if real == "commits" else release_fix_pairs
    pairs = load(dataset, split, 10**9, 0)
    verdicts = [expressible(p) for p in pairs]
    strict, line = sum(s for s, _ in verdicts), sum(v for _, v in verdicts)
    return {"split": split, "pairs": len(pairs), "one_changed_line": sum(len(p.bug_lines) == 1 for p in pairs),
            "fixable_strict": strict, "fixable_line": line}


def report_real(args) -> None:
    valid = json.loads(Path(args.valid).read_text())
    files = [valid] + ([json.loads(Path(args.test).read_text())] if args.test else [])
    frequent = frequent_real_patterns(valid["rows"])
    chosen, curve = choose_margin(valid["rows"])
    print(f"margin curve on {valid['source']} ({len(valid['rows'])} functions): margin offered strict line right-3*wrong")
    for c in curve:
        print(f"  {c['margin']:.2f} {c['offered']:4d} {c['strict']:4d} {c['line']:4d} {c['utility']:+d}")
    print(f"validation's margin (most strict right - 3 x wrong): {chosen}; the detector-only gate {DETECTOR_MARGIN}")
    margins = [DETECTOR_MARGIN] + ([chosen] if chosen is not None and chosen != DETECTOR_MARGIN else [])
    table = []
    print("| set | margin | n | fixable by a candidate (strict / line) | offered (coverage) | right, strict [Wilson 95 %] "
          "| right, line [Wilson 95 %] | flagged: offered, strict / line | most-ops baseline: offered, strict / line |")
    print("|---|---|---|---|---|---|---|---|---|")
    for data in files:
        for margin in margins:
            m = real_metrics(data["rows"], margin, frequent)
            m["source"] = data["source"]
            table.append(m)
            f, b = m["flagged"], m["most_ops_baseline"]
            print(f"| {data['source']} | {margin} | {m['n']} | {m['fixable_strict']} / {m['fixable_line']} | "
                  f"{m['offered']} ({m['coverage']:.3f}) | {_cell(m['strict'])} | {_cell(m['line'])} | "
                  f"{f['offered']} of {f['n']}, {_cell(f['strict'])} / {_cell(f['line'])} | "
                  f"{b['offered']}, {_cell(b['strict'])} / {_cell(b['line'])} |")
    ceilings, strata = [], []
    if args.dataset:
        real = valid["source"].split("-")[1]
        for split in ("valid", "test"):
            ceilings.append(ceiling(Path(args.dataset), real, split))
            c = ceilings[-1]
            print(f"all {c['pairs']} {split} pairs: bug on one line {c['one_changed_line']}, a candidate at the bug "
                  f"line is the fix: strict {c['fixable_strict']}, line {c['fixable_line']}")
    for sample, path in zip(files, args.fixable or []):
        fixable = json.loads(Path(path).read_text())
        c = next(c for c in ceilings if sample["source"].endswith(c["split"]))
        ranks = right_candidate_ranks(fixable["rows"])
        print(f"{fixable['source']}: the right fix among the suspect lines' candidates in "
              f"{ranks['right_among_candidates']} of {ranks['functions']}, ranked first in {ranks['right_ranked_first']}, "
              f"drops {ranks['right_drops']}")
        for margin in margins:
            st = stratified(sample["rows"], fixable["rows"], c["pairs"], c["fixable_line"], margin)
            st["source"] = sample["source"]
            st["right_candidate_ranks"] = ranks
            strata.append(st)
            print(f"{sample['source']} whole split, margin {margin}: fixable stratum {st['fixable_collected']} of "
                  f"{st['fixable_pairs']} collected, offered {st['offered_in_stratum']}, right strict "
                  f"{st['right_strict_in_stratum']} / line {st['right_line_in_stratum']}; outside, offered "
                  f"{st['offered_outside_in_sample']} of {st['sample_outside_stratum']} sampled -> about "
                  f"{st['estimated_offers']} offers in {st['pairs']} (coverage {st['coverage']}), precision "
                  f"strict {st['precision_strict']} {st['precision_strict_range']}, line {st['precision_line']} "
                  f"{st['precision_line_range']}")
    print(machine_line(machine_info()))
    write_json(args.json, {"ceiling": ceilings, "whole_split": strata, "shipped_margin": DETECTOR_MARGIN, "valid_margin": chosen, "valid_curve": curve,
                           "flag_threshold": FLAG_THRESHOLD, "table": table,
                           "collections": [{k: d.get(k) for k in ("source", "seed", "limit", "pairs", "seconds",
                                                                    "machine")} | {"rows": len(d["rows"])}
                                           for d in files]
                           + [{"fixable_file": p} for p in args.fixable or []]})
