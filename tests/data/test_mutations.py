"""Bug injection: validity, reversibility, balance and absence of length artefacts on real code
(Python standard library modules of the running interpreter + small fixture files per language)."""

from __future__ import annotations

import random
import re
import sysconfig
from collections import Counter
from pathlib import Path

import pytest
from manyskills.data import mutations as M
from manyskills.data.notes import TEMPLATES, note_for
from manyskills.data.records import CorpusFunction, DefectExample
from manyskills.index.functions import index_functions
from manyskills.index.treesitter import parse

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "data" / "mutations"
FIXTURE_FILES = {
    "javascript": "sample.js",
    "typescript": "sample.ts",
    "tsx": "sample.tsx",
    "java": "Sample.java",
    "c": "sample.c",
    "cpp": "sample.cpp",
    "go": "sample.go",
    "rust": "sample.rs",
}
STDLIB_MODULES = ("json", "argparse", "difflib", "textwrap", "shlex", "csv", "configparser", "string", "heapq",
                  "bisect", "fractions", "statistics", "calendar", "pathlib", "shutil", "tarfile", "zipfile",
                  "inspect", "tokenize", "gettext", "optparse", "ipaddress", "pprint", "dataclasses", "ast",
                  "mailbox", "traceback", "glob", "fnmatch", "base64", "quopri", "netrc", "smtplib", "ftplib")


def _functions(language: str, path: Path, project: str, split: str = "train") -> list[CorpusFunction]:
    text = path.read_text(encoding="utf-8")
    out = []
    for fn in index_functions(language, text):
        if fn.text.count("\n") > 120:
            continue
        out.append(CorpusFunction(id=f"{project}:{fn.qualified_name}:{fn.span.start.line}", project=project,
                                  language=language, path=path.name, qualified_name=fn.qualified_name,
                                  code=fn.text, split=split))
    return out


def _stdlib_path(module: str) -> Path | None:
    lib = Path(sysconfig.get_paths()["stdlib"])
    for candidate in (lib / f"{module}.py", lib / module / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


@pytest.fixture(scope="module")
def corpus() -> list[CorpusFunction]:
    functions = []
    for module in STDLIB_MODULES:
        path = _stdlib_path(module)
        if path is not None:
            functions += _functions("python", path, f"stdlib-{module}")
    for language, name in FIXTURE_FILES.items():
        functions += _functions(language, FIXTURES / name, f"fixture-{language}")
    return functions


@pytest.fixture(scope="module")
def examples(corpus) -> list[DefectExample]:
    return M.make_defect_examples(corpus, seed=7)


def _pairs(examples):
    clean = {e.pair_id: e for e in examples if e.label == 0}
    return [(clean[e.pair_id], e) for e in examples if e.label == 1]


# --- the whole sample ----------------------------------------------------------------------------------


def test_sample_is_realistic(corpus, examples):
    assert len(corpus) >= 1000
    positives = [e for e in examples if e.label == 1]
    assert len(positives) >= 0.6 * len(corpus)


def test_length_does_not_separate_buggy_from_clean(examples):
    python = [e for e in examples if e.language == "python"]
    for unit in ("chars", "lines"):
        auc = M.length_baseline_auc(examples, unit)
        assert abs(auc - 0.5) < 0.05, (unit, auc)
        auc = M.length_baseline_auc(python, unit)  # per language too (drift is balanced per language)
        assert abs(auc - 0.5) < 0.05, (unit, auc)
    stats = M.operator_stats(examples)["_all"]
    assert abs(stats["mean_line_delta"]) < 0.05
    assert abs(stats["mean_char_delta"]) < 2.0


def test_every_positive_is_paired_valid_and_reversible(examples):
    pairs = _pairs(examples)
    assert pairs
    for clean, buggy in pairs:
        assert clean.label == 0 and clean.operator == "clean" and clean.bug_lines == []
        assert buggy.code != clean.code
        assert (buggy.project, buggy.language, buggy.split) == (clean.project, clean.language, clean.split)
        lines = buggy.code.split("\n")
        assert buggy.bug_lines and all(0 <= line < len(lines) for line in buggy.bug_lines)
        assert 0 <= buggy.fix_line < len(lines)
        assert M.apply_fix(buggy.code, buggy.fix_line, buggy.fix_replacement) == clean.code, buggy.operator
        assert M.analyze(buggy.language, buggy.code) is not None, buggy.operator  # parses (and compiles)
        assert buggy.note and buggy.source == "mutation"


def test_every_language_gets_mutants(examples):
    languages = Counter(e.language for e in examples if e.label == 1)
    assert set(languages) == set(M.LANGUAGES), languages


def test_operator_shares_are_capped_and_deletions_balanced(examples):
    stats = M.operator_stats(examples)
    total = stats["_all"]["count"]
    for operator, row in stats.items():
        if operator != "_all":
            assert row["share"] <= M.MAX_OPERATOR_SHARE + 0.005, (operator, row)
    deleting = sum(stats[o]["count"] for o in M.DELETING_OPERATORS if o in stats)
    inserting = sum(stats[o]["count"] for o in M.INSERTING_OPERATORS if o in stats)
    assert deleting >= 0.05 * total and inserting >= 0.05 * total
    assert 0.5 <= inserting / deleting <= 4


def test_no_tell_tale_artefacts(examples):
    for clean, buggy in _pairs(examples):
        original_lines = set(clean.code.split("\n"))
        indents = {re.match(r"[ \t]*", line).group() for line in original_lines}
        for line in buggy.code.split("\n"):
            if line in original_lines:
                continue
            stripped = line.strip()
            assert not stripped.startswith(("#", "//", "/*")), (buggy.operator, line)
            assert re.match(r"[ \t]*", line).group() in indents, (buggy.operator, repr(line))
        assert ("\r\n" in buggy.code) == ("\r\n" in clean.code)


def test_notes_are_single_concrete_sentences(examples):
    for clean, buggy in _pairs(examples):
        note = buggy.note
        assert note.endswith(".") and "\n" not in note
        quoted = re.findall(r"`([^`]+)`", note)
        assert quoted, note
        tokens = set(re.findall(r"[A-Za-z_]\w*", buggy.code + clean.code))
        assert any(set(re.findall(r"[A-Za-z_]\w*", q)) & tokens or q in buggy.code + clean.code for q in quoted), note


def test_generation_is_deterministic(corpus):
    subset = corpus[::7]
    first = M.make_defect_examples(subset, seed=11)
    second = M.make_defect_examples(subset, seed=11)
    assert [e.to_dict() for e in first] == [e.to_dict() for e in second]
    assert DefectExample.from_dict(first[1].to_dict()) == first[1]


@pytest.mark.parametrize("exact", [True, False])
def test_per_function_gives_distinct_operators(corpus, exact):
    examples = M.make_defect_examples(corpus[:400], seed=3, per_function=3, exact=exact)
    by_pair: dict[str, list[DefectExample]] = {}
    for example in examples:
        by_pair.setdefault(example.pair_id, []).append(example)
    assert len(by_pair) >= 150
    for group in by_pair.values():
        operators = [e.operator for e in group if e.label == 1]
        assert len(operators) == len(set(operators)) and 1 <= len(operators) <= 3
        assert len(operators) == 3 or not exact
        assert sum(e.label == 0 for e in group) == 1
    if exact:  # every function contributes equally to both classes: length still tells nothing
        assert abs(M.length_baseline_auc(examples) - 0.5) < 0.05


def test_every_operator_produces_valid_reversible_mutants(corpus):
    seen: Counter[str] = Counter()
    rng = random.Random(0)
    sample = corpus[:]
    rng.shuffle(sample)
    sample = sorted(sample, key=lambda fn: fn.language == "python")  # every fixture language first
    for function in sample:
        missing = [op for op in M.OPERATORS if seen[op] < 3]
        if not missing:
            break
        for operator, mutants in M.candidate_mutants(function.language, function.code, missing,
                                                     limit_per_operator=2).items():
            for mutant in mutants:
                assert mutant.operator == operator
                assert mutant.code != function.code
                assert M.apply_fix(mutant.code, mutant.fix_line, mutant.fix_replacement) == function.code
                wrapped = M.analyze(function.language, function.code)
                assert not parse(function.language, wrapped.prefix + mutant.code + wrapped.suffix).has_errors
                assert mutant.bug_lines == [mutant.fix_line]
                seen[operator] += 1
    assert set(seen) == set(M.OPERATORS), set(M.OPERATORS) - set(seen)


# --- operators on small, known inputs ---------------------------------------------------------------

CASES = [
    ("python", "def f(xs):\n    for i in range(len(xs)):\n        print(xs[i])\n", "off_by_one",
     "range(len(xs) + 1)"),
    ("python", "def f(a, b):\n    if a == b:\n        return 1\n    return 0\n", "is_vs_equality", "a is b"),
    ("python", "async def f(c):\n    r = await c.get()\n    return r\n", "missing_await", "r = c.get()"),
    ("python", "def f(x):\n    if x is None:\n        return 0\n    y = x + 1\n    return y\n", "removed_check",
     "def f(x):\n    y = x + 1\n    return y\n"),
    ("python", "def f(a, b):\n    return a if a > b else b\n", "swapped_branches", "return b if a > b else a"),
    ("python", "def fact(n):\n    if n <= 1:\n        return 1\n    return n * fact(n - 1)\n",
     "wrong_recursive_argument", "fact(n)"),
    ("python", "def f(xs):\n    total = 0\n    for x in xs:\n        total += x\n    return total\n", "return_in_loop",
     "        total += x\n        return total\n"),
    ("python", "def f(xs):\n    out = []\n    for x in xs:\n        out.append(x)\n    return out\n", "reset_in_loop",
     "    for x in xs:\n        out = []\n        out.append(x)\n"),
    ("javascript", "function f(a, n) {\n  for (let i = 0; i < n; i++) {\n    g(a[i]);\n  }\n}\n", "off_by_one",
     "i <= n"),
    ("javascript", "function f(a, b) {\n  if (a === b) {\n    return 1;\n  }\n  return 0;\n}\n",
     "assignment_vs_equality", "if (a = b)"),
    ("java", ("int f(int x) {\n    switch (x) {\n        case 1:\n            g();\n            break;\n"
     "        default:\n            h();\n    }\n    return x;\n}\n"), "missing_break",
     "            g();\n        default:"),
    ("c", ("int f(int *a, int n) {\n    int s = 0;\n    for (int i = 0; i < n; i++) {\n        s += a[i];\n    }\n"
     "    return s;\n}\n"), "extra_increment", "        s += a[i];\n        i++;\n"),
    ("go", ("func f(a []int) int {\n\tn := 0\n\tfor _, v := range a {\n\t\tif v > 0 && v < 10 {\n\t\t\tn++\n\t\t}\n"
     "\t}\n\treturn n\n}\n"), "and_or_swap", "v > 0 || v < 10"),
    ("rust", ("fn f(v: &[i32]) -> i32 {\n    let mut s = 0;\n    for i in 0..v.len() {\n        s += v[i];\n    }\n"
     "    s\n}\n"), "off_by_one", "0..=v.len()"),
    ("cpp", ("int f(std::vector<int>& v) {\n    int c = 0;\n    for (size_t i = 0; i < v.size(); ++i) {\n"
     "        if (v[i] > 0) {\n            c++;\n        }\n    }\n    return c;\n}\n"), "extra_break",
     "            c++;\n            break;\n"),
    ("typescript", ("function f(xs: number[]): number {\n  let best = 0;\n  for (const x of xs) {\n"
     "    best = Math.max(best, x);\n  }\n  return best;\n}\n"), "duplicated_statement", None),
]


@pytest.mark.parametrize("language,code,operator,expected", CASES,
                         ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_operator_on_known_input(language, code, operator, expected):
    mutants = M.candidate_mutants(language, code, [operator]).get(operator, [])
    if expected is None:
        assert not mutants  # `best = Math.max(...)` is an assignment without side effects: not duplicated
        return
    assert mutants, f"{operator} produced nothing"
    assert any(expected in m.code for m in mutants), [m.code for m in mutants]
    for mutant in mutants:
        assert M.apply_fix(mutant.code, mutant.fix_line, mutant.fix_replacement) == code
        assert mutant.note


def test_line_fix_cases():
    original = "a\nb\nc\nd"
    assert M.line_fix(original, "a\nB\nc\nd") == ([1], 1, "b")
    assert M.line_fix(original, "a\nc\nd") == ([1], 1, "b\nc")  # deletion: the line now there
    assert M.line_fix(original, "a\nb\nc") == ([2], 2, "c\nd")  # deletion at the end
    assert M.line_fix(original, "a\nb\nx\nc\nd") == ([2], 2, "")  # insertion
    assert M.line_fix(original, "a\nB\nC\nd") is None  # two lines changed: not one fix
    assert M.apply_fix("a\nb", 0, "") == "b"


def test_functions_that_do_not_parse_are_skipped():
    broken = CorpusFunction(id="x", project="p", language="python", path="x.py", qualified_name="f",
                            code="def f(:\n    return 1\n")
    unknown = CorpusFunction(id="y", project="p", language="cobol", path="x.cbl", qualified_name="f", code="x")
    assert M.make_defect_examples([broken, unknown], seed=1) == []


def test_auroc_helper():
    def example(code: str, label: int) -> DefectExample:
        return DefectExample(id=code, project="p", language="python", split="train", code=code, label=label)

    longer_buggy = [example("x" * 10, 1), example("x" * 9, 1), example("x", 0), example("xx", 0)]
    assert M.length_baseline_auc(longer_buggy) == 1.0
    same = [example("ab", 1), example("cd", 0)]
    assert M.length_baseline_auc(same) == 0.5


def test_every_operator_has_notes():
    rng = random.Random(0)
    for operator in M.OPERATORS:
        assert any(key == operator or key.startswith(operator + "/") for key in TEMPLATES), operator
        assert note_for(operator, {}, rng)  # falls back when fields are missing


def test_crlf_line_ends_are_kept():
    code = "def f(xs):\r\n    total = 0\r\n    for x in xs:\r\n        total += x\r\n    return total * 2\r\n"
    mutants = M.candidate_mutants("python", code)
    assert len(mutants) >= 5
    for group in mutants.values():
        for mutant in group:
            assert all(line.endswith("\r") for line in mutant.code.split("\n")[:-1]), mutant.operator
            assert M.apply_fix(mutant.code, mutant.fix_line, mutant.fix_replacement) == code
