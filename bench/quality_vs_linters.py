"""Quality on real and held-out bugs: ManySkills vs. the same base model without the adapter vs. the linters
users already run, beside the trivial baselines, on the same (buggy, fixed) function pairs.

    python bench/quality_vs_linters.py [--quixbugs ../shared/bench/quixbugs.jsonl] [--dataset data-cache/dataset]
                                       [--heldout 100] [--base-limit 100] [--quick] [--json bench/results/quality.json]

Evaluation only: nothing here trains or tunes on these data. ManySkills uses the shipped adapter and the defect
threshold from its manifest (calibrated on the validation split at training time).

Methods (a score per function; "flag" = a warning at the default setting):
- ManySkills: defect score; flag = score >= manifest threshold; line = the model's top line.
- base zero-shot, naturalness: the base LM's mean token surprisal (no adapter); line = most surprising line;
  no threshold (a ranking score only).
- base zero-shot, prompted: the base instruct model asked "Does this function contain a bug? Answer Yes or No."
  Score = P(Yes) / (P(Yes) + P(No)) of the next token; flag = score > 0.5; no line.
- linters (pyflakes, ruff defaults, ruff + flake8-bugbear; Java: checkstyle with the bug-pattern checks of its
  "coding" group, and with sun_checks): score = warnings in the function; flag = any warning; line = the first
  warned line. Each function is linted alone, dedented, in its own file; warnings map back to function lines.
- length-only (shorter = buggier), most-operators line, random line: trivial baselines on the same data.

Metrics: pairwise ranking P(score(buggy) > score(fixed)) (ties count half); detection rate on buggy functions;
clean functions flagged; line top-1 (the method's most suspicious line of the buggy function is a bug line,
whatever the threshold; a linter without a warning has no line = miss); warned on the bug line (flagged at the
default threshold *and* the warning's line is a bug line: what an editor user sees); false warnings per
1,000 lines of clean (fixed) code.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, machine_info, machine_line, write_json  # noqa: E402
from manyskills.training.baselines import most_operators_line, naturalness, random_line_top1  # noqa: E402
from manyskills.training.evaluate import analyse_all  # noqa: E402
from manyskills.training.metrics import code_lines, line_top1, pairwise  # noqa: E402
from manyskills.training.sets import PairEval, heldout_pairs, quixbugs_pairs  # noqa: E402

# Checkstyle checks that point at likely bugs rather than style (its "coding" group, 8.36).
CHECKSTYLE_BUG_CHECKS = [
    "EmptyStatement",
    "EqualsHashCode",
    "CovariantEquals",
    "FallThrough",
    "InnerAssignment",
    "MissingSwitchDefault",
    "ModifiedControlVariable",
    "SimplifyBooleanExpression",
    "SimplifyBooleanReturn",
    "StringLiteralEquality",
    "EmptyBlock",
    "DefaultComesLast",
    "NoFinalizer",
    "ParameterAssignment",
    "EqualsAvoidNull",
]


@dataclass
class Verdicts:
    """One method's output on a list of functions (same order as the pairs)."""

    scores: list[float]
    flags: list[bool] | None = None  # None: no default threshold (ranking score only)
    lines: list[int | None] | None = None  # most suspicious line; None: no localisation; entry None: no line
    warnings: list[int] | None = None  # warnings emitted per function (linters; the model: 1 if flagged)
    rules: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------- linters
def prepare(code: str, language: str) -> tuple[str, int]:
    """Source a linter can parse alone, and how many lines were put before the function."""
    if language == "java":
        return "class Bench {\n" + code + "\n}\n", 1
    code = textwrap.dedent(code)
    if code[:1].isspace():  # dedent could not remove it (e.g. a less-indented string literal)
        return "if True:\n" + code, 1
    return code, 0


def write_functions(tmp: Path, codes: list[str], language: str) -> list[tuple[Path, int, int]]:
    """(file, line offset, function line count) per function."""
    out = []
    for i, code in enumerate(codes):
        text, offset = prepare(code, language)
        if language == "java":
            text = text.replace("class Bench {", f"class F{i:05d} {{", 1)
        path = tmp / (f"F{i:05d}.java" if language == "java" else f"f{i:05d}.py")
        path.write_text(text)
        out.append((path, offset, code.count("\n") + 1))
    return out


def verdicts_from(
    files: list[tuple[Path, int, int]], warnings_by_file: dict[str, list[tuple[int, str]]]
) -> Verdicts:
    scores, flags, lines, counts, rules = [], [], [], [], {}
    for path, offset, n_lines in files:
        inside = sorted(
            (line - 1 - offset, rule)
            for line, rule in warnings_by_file.get(path.name, [])
            if 0 <= line - 1 - offset < n_lines
        )
        for _, rule in inside:
            rules[rule] = rules.get(rule, 0) + 1
        scores.append(float(len(inside)))
        flags.append(bool(inside))
        lines.append(inside[0][0] if inside else None)
        counts.append(len(inside))
    return Verdicts(scores, flags, lines, counts, rules)


def run_pyflakes(codes: list[str], tmp: Path) -> Verdicts:
    import pyflakes.api
    import pyflakes.messages
    from pyflakes.reporter import Reporter

    files = write_functions(tmp, codes, "python")
    found: dict[str, list[tuple[int, str]]] = {}

    class Collect(Reporter):
        def __init__(self):
            pass

        def flake(self, message):
            found.setdefault(Path(message.filename).name, []).append((message.lineno, type(message).__name__))

        def syntaxError(self, filename, msg, lineno, offset, text):  # noqa: N802 - pyflakes API
            found.setdefault(Path(filename).name, []).append((lineno or 1, "SyntaxError"))

        def unexpectedError(self, filename, msg):  # noqa: N802
            found.setdefault(Path(filename).name, []).append((1, "UnexpectedError"))

    reporter = Collect()
    for path, _, _ in files:
        pyflakes.api.checkPath(str(path), reporter)
    return verdicts_from(files, found)


def run_ruff(codes: list[str], tmp: Path, extra: list[str]) -> Verdicts:
    files = write_functions(tmp, codes, "python")
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    proc = subprocess.run(
        [ruff, "check", "--isolated", "--no-cache", "--output-format", "json", *extra, str(tmp)],
        capture_output=True,
        text=True,
    )
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"ruff failed: {proc.stderr[-2000:]}")
    found: dict[str, list[tuple[int, str]]] = {}
    for item in json.loads(proc.stdout or "[]"):
        found.setdefault(Path(item["filename"]).name, []).append(
            (item["location"]["row"], item["code"] or "syntax")
        )
    return verdicts_from(files, found)


def checkstyle_config(checks: list[str]) -> str:
    modules = "\n".join(f'    <module name="{c}"/>' for c in checks)
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE module PUBLIC "-//Checkstyle//DTD Checkstyle Configuration 1.3//EN"'
        ' "https://checkstyle.org/dtds/configuration_1_3.dtd">\n'
        f'<module name="Checker">\n  <module name="TreeWalker">\n{modules}\n  </module>\n</module>\n'
    )


def run_checkstyle(codes: list[str], tmp: Path, config: str) -> Verdicts:
    files = write_functions(tmp, codes, "java")
    if not config.startswith("/sun_checks"):
        (tmp / "checks.xml").write_text(config)
        config = str(tmp / "checks.xml")
    out = tmp / "out.xml"
    proc = subprocess.run(
        ["checkstyle", "-c", config, "-f", "xml", "-o", str(out), *[str(p) for p, _, _ in files]],
        capture_output=True,
        text=True,
    )
    if not out.exists():
        raise RuntimeError(f"checkstyle failed: {proc.stdout[-1000:]} {proc.stderr[-2000:]}")
    found: dict[str, list[tuple[int, str]]] = {}
    for file_el in ET.parse(out).getroot().iter("file"):
        for err in file_el.iter("error"):
            rule = err.get("source", "").rsplit(".", 1)[-1].removesuffix("Check")
            found.setdefault(Path(file_el.get("name")).name, []).append((int(err.get("line", 1)), rule))
    return verdicts_from(files, found)


def linter_versions() -> dict[str, str]:
    import pyflakes

    out = {"pyflakes": pyflakes.__version__}
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    for name, cmd in (("ruff", [ruff, "--version"]), ("checkstyle", ["checkstyle", "--version"])):
        try:
            out[name] = subprocess.run(cmd, capture_output=True, text=True).stdout.strip()
        except OSError:
            out[name] = "not installed"
    return out


# ---------------------------------------------------------------------------------------------- model methods
def run_manyskills(runtime, pairs_codes: list[tuple[str, str]], threshold: float) -> Verdicts:
    from manyskills.model.runtime import FunctionInput

    results = analyse_all(runtime, [FunctionInput(lang, code) for lang, code in pairs_codes])
    flags = [r.defect_score >= threshold for r in results]
    return Verdicts(
        [r.defect_score for r in results],
        flags,
        [r.bug_line for r in results],
        [int(f) for f in flags],
    )


def run_naturalness(base, pairs_codes: list[tuple[str, str]]) -> Verdicts:
    scores, lines = [], []
    for lang, code in pairs_codes:
        mean_nll, per_line = naturalness(base, lang, code)
        scores.append(mean_nll)
        lines.append(int(max(range(len(per_line)), key=per_line.__getitem__)))
    return Verdicts(scores, None, lines)


def run_prompted(base, pairs_codes: list[tuple[str, str]]) -> Verdicts:
    import torch

    tok = base.tokenizer
    yes, no = tok.encode("Yes", add_special_tokens=False)[0], tok.encode("No", add_special_tokens=False)[0]
    scores = []
    with torch.inference_mode():
        for lang, code in pairs_codes:
            messages = [
                {"role": "system", "content": "You are a careful code reviewer."},
                {
                    "role": "user",
                    "content": f"Does this {lang} function contain a bug? Answer Yes or No.\n"
                    f"```\n{code}\n```",
                },
            ]
            ids = tok.apply_chat_template(
                messages, add_generation_prompt=True, tokenize=True, return_dict=False
            )
            if isinstance(ids, dict) or hasattr(ids, "input_ids"):
                ids = ids["input_ids"]
            x = torch.tensor([ids[-1024:]], device=base.device)
            logits = base.model(input_ids=x).logits[0, -1].float()
            pair = torch.softmax(logits[[yes, no]], dim=0)
            scores.append(float(pair[0]))
    return Verdicts(scores, [s > 0.5 for s in scores], None, [int(s > 0.5) for s in scores])


# ---------------------------------------------------------------------------------------------- metrics
def metrics(pairs: list[PairEval], buggy: Verdicts, clean: Verdicts) -> dict:
    n = len(pairs)
    clean_lines = sum(code_lines(p.clean) for p in pairs)
    out = {"n": n, "pairwise": pairwise(buggy.scores, clean.scores)}
    if buggy.flags is not None:
        out["detection"] = sum(buggy.flags) / n
        out["clean_flagged"] = sum(clean.flags) / n
        out["false_warnings_per_kloc"] = 1000 * sum(clean.warnings) / clean_lines
    if buggy.lines is not None:
        out["line_top1"] = line_top1(buggy.lines, [p.bug_lines for p in pairs])
        if buggy.flags is not None:
            out["warned_on_bug_line"] = sum(
                flag and line is not None and line in p.bug_lines for flag, line, p in zip(buggy.flags, buggy.lines, pairs)
            ) / n
    if buggy.rules or clean.rules:
        out["rules_on_buggy"] = dict(sorted(buggy.rules.items(), key=lambda kv: -kv[1]))
        out["rules_on_clean"] = dict(sorted(clean.rules.items(), key=lambda kv: -kv[1]))
    return out


def trivial_baselines(pairs: list[PairEval]) -> dict[str, dict]:
    n = len(pairs)
    return {
        "length-only": {
            "n": n,
            "pairwise": pairwise([-len(p.buggy) for p in pairs], [-len(p.clean) for p in pairs]),
        },
        "most-operators line": {
            "n": n,
            "line_top1": line_top1([most_operators_line(p.buggy) for p in pairs], [p.bug_lines for p in pairs]),
        },
        "random line": {
            "n": n,
            "line_top1": random_line_top1(pairs),
        },
    }


def evaluate_set(name: str, pairs: list[PairEval], runtime, base, threshold: float, base_limit: int) -> dict:
    language = pairs[0].language
    buggy = [(p.language, p.buggy) for p in pairs]
    clean = [(p.language, p.clean) for p in pairs]
    rows: dict[str, dict] = {}
    t0 = time.perf_counter()
    rows["ManySkills"] = metrics(
        pairs, run_manyskills(runtime, buggy, threshold), run_manyskills(runtime, clean, threshold)
    )
    rows["ManySkills"]["seconds"] = time.perf_counter() - t0
    sub = pairs[:base_limit]
    for label, run_base in (
        ("base zero-shot: naturalness", run_naturalness),
        ("base zero-shot: prompted yes/no", run_prompted),
    ):
        t0 = time.perf_counter()
        rows[label] = metrics(sub, run_base(base, buggy[:base_limit]), run_base(base, clean[:base_limit]))
        rows[label]["seconds"] = time.perf_counter() - t0
    linters = {
        "python": {
            "pyflakes": lambda c, d: run_pyflakes(c, d),
            "ruff (defaults)": lambda c, d: run_ruff(c, d, []),
            "ruff (defaults + bugbear)": lambda c, d: run_ruff(c, d, ["--extend-select", "B"]),
        },
        "java": {
            "checkstyle (coding bug checks)": lambda c, d: run_checkstyle(
                c, d, checkstyle_config(CHECKSTYLE_BUG_CHECKS)
            ),
            "checkstyle (sun_checks)": lambda c, d: run_checkstyle(c, d, "/sun_checks.xml"),
        },
    }
    for lname, run in linters.get(language, {}).items():
        with tempfile.TemporaryDirectory() as tb, tempfile.TemporaryDirectory() as tc:
            t0 = time.perf_counter()
            rows[lname] = metrics(
                pairs, run([p.buggy for p in pairs], Path(tb)), run([p.clean for p in pairs], Path(tc))
            )
            rows[lname]["seconds"] = time.perf_counter() - t0
    rows.update(trivial_baselines(pairs))
    print_table(name, rows, threshold)
    return rows


def fmt(row: dict, key: str, spec: str = ".3f") -> str:
    value = row.get(key)
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, spec)


def print_table(name: str, rows: dict, threshold: float) -> None:
    print(f"\n{name}  (ManySkills threshold {threshold:.2f} from the adapter manifest)")
    print(
        f"  {'method':34s} {'n':>4s} {'pairwise':>8s} {'detect':>7s} {'clean flagged':>13s} {'line top-1':>10s}"
        f" {'warned on bug line':>18s} {'false warn/kLOC':>15s}"
    )
    for method, row in rows.items():
        print(
            f"  {method:34s} {row['n']:4d} {fmt(row, 'pairwise'):>8s} {fmt(row, 'detection'):>7s} "
            f"{fmt(row, 'clean_flagged'):>13s} {fmt(row, 'line_top1'):>10s} "
            f"{fmt(row, 'warned_on_bug_line'):>18s} {fmt(row, 'false_warnings_per_kloc', '.1f'):>15s}",
            flush=True,
        )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quixbugs", default=str(ROOT.parent / "shared" / "bench" / "quixbugs.jsonl"))
    parser.add_argument("--dataset", default=str(ROOT / "data-cache" / "dataset"))
    parser.add_argument(
        "--heldout", type=int, default=100, help="held-out test pairs per language (python, java)"
    )
    parser.add_argument(
        "--base-limit", type=int, default=100, help="pairs per set for the base-model baselines"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--quick", action="store_true", help="40 held-out pairs per language, base baselines on 40"
    )
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    if args.quick:
        args.heldout, args.base_limit = 40, 40
    if not shutil.which("checkstyle"):
        print("checkstyle not found (apt-get install checkstyle): Java linter rows skipped")

    from manyskills.model.runtime import LocalRuntime

    results: dict = {"machine": machine_info(), "args": vars(args), "linters": linter_versions()}
    print(machine_line(results["machine"]), flush=True)
    print("linters: " + "; ".join(f"{k} {v}" for k, v in results["linters"].items()), flush=True)
    runtime = LocalRuntime.load()
    base = LocalRuntime(runtime.base, None, runtime.device, runtime.dtype)
    threshold = runtime.manifest.thresholds.get("defect", 0.5)
    results.update(
        {
            "adapter": runtime.identity.adapter_path,
            "adapter_version": runtime.identity.adapter_version,
            "dtype": runtime.identity.dtype,
            "threshold": threshold,
            "sets": {},
        }
    )
    sets: dict[str, list[PairEval]] = {}
    if Path(args.quixbugs).is_file():
        qb = quixbugs_pairs(Path(args.quixbugs))
        for lang in ("python", "java"):
            sets[f"QuixBugs {lang}"] = [p for p in qb if p.language == lang]
    else:
        print(f"no QuixBugs file at {args.quixbugs}: skipped")
    if Path(args.dataset).is_dir():
        held = heldout_pairs(Path(args.dataset), "test", 10**9, args.seed)
        for lang in ("python", "java"):
            chosen = [p for p in held if p.language == lang][: args.heldout]  # held is shuffled (seed)
            sets[f"held-out synthetic {lang} (test split)"] = chosen
    else:
        print(f"no dataset at {args.dataset}: held-out sets skipped")
    for name, pairs in sets.items():
        if pairs:
            results["sets"][name] = evaluate_set(name, pairs, runtime, base, threshold, args.base_limit)
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
