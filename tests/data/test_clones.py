"""Clone pairs: rewrites parse, preserve behaviour (checked by running Python ones), pairs stay
within a language and split, negatives are hard (same project, similar length) half the time."""

from __future__ import annotations

import random
import sysconfig
import textwrap
from collections import Counter
from pathlib import Path

import pytest
from manyskills.data import clones as C
from manyskills.data import rewrites as R
from manyskills.data.records import ClonePair, CorpusFunction
from manyskills.data.renaming import rename_candidates
from manyskills.data.syntax import analyze
from manyskills.index.functions import index_functions

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "data" / "mutations"
FIXTURE_FILES = {"javascript": "sample.js", "typescript": "sample.ts", "tsx": "sample.tsx", "java": "Sample.java",
                 "c": "sample.c", "cpp": "sample.cpp", "go": "sample.go", "rust": "sample.rs"}
STDLIB_MODULES = ("json", "argparse", "difflib", "textwrap", "shlex", "csv", "configparser", "string", "heapq",
                  "bisect", "statistics", "calendar", "fnmatch", "glob", "base64")


def _functions(language: str, path: Path, project: str, split: str) -> list[CorpusFunction]:
    out = []
    for fn in index_functions(language, path.read_text(encoding="utf-8")):
        if fn.text.count("\n") <= 120:
            out.append(CorpusFunction(id=f"{project}:{fn.qualified_name}:{fn.span.start.line}", project=project,
                                      language=language, path=path.name, qualified_name=fn.qualified_name,
                                      code=fn.text, split=split))
    return out


@pytest.fixture(scope="module")
def corpus() -> list[CorpusFunction]:
    lib = Path(sysconfig.get_paths()["stdlib"])
    functions = []
    for i, module in enumerate(STDLIB_MODULES):
        path = lib / f"{module}.py"
        if path.exists():
            functions += _functions("python", path, f"stdlib-{module}", "train" if i % 3 else "test")
    for language, name in FIXTURE_FILES.items():
        functions += _functions(language, FIXTURES / name, f"fixture-{language}", "train")
    return functions


@pytest.fixture(scope="module")
def pairs(corpus) -> list[ClonePair]:
    return C.make_clone_pairs(corpus, seed=5)


def test_pairs_cover_languages_and_rewrites(corpus, pairs):
    positives = [p for p in pairs if p.label == 1]
    negatives = [p for p in pairs if p.label == 0]
    assert len(positives) >= 0.7 * len(corpus)
    assert len(negatives) >= 0.9 * len(positives)
    assert {p.language for p in positives} == {fn.language for fn in corpus}
    used = Counter(step for p in positives for step in p.rewrite.split("+"))
    assert set(used) == set(R.REWRITES), used
    steps = Counter(len(p.rewrite.split("+")) for p in positives)
    assert steps[1] and steps[2] and steps[3]


def test_rewrites_parse_and_differ(pairs):
    for pair in pairs:
        assert pair.code_a != pair.code_b
        if pair.label == 1:
            assert analyze(pair.language, pair.code_a) is not None, pair.rewrite
            assert analyze(pair.language, pair.code_b) is not None, pair.rewrite


def test_pairs_stay_within_language_and_split(corpus, pairs):
    by_code: dict[str, set[tuple[str, str]]] = {}
    for fn in corpus:
        by_code.setdefault(fn.code, set()).add((fn.language, fn.split))
    for pair in pairs:
        for code in (pair.code_a, pair.code_b):
            if code in by_code:  # an original function (the other side of a positive is a rewrite)
                assert (pair.language, pair.split) in by_code[code]
    for pair in (p for p in pairs if p.label == 0):
        assert pair.code_a in by_code and pair.code_b in by_code
        assert pair.rewrite == "negative"


def test_half_of_negatives_are_hard(corpus, pairs):
    project_of = {fn.code: fn.project for fn in corpus}
    python_negatives = [p for p in pairs if p.label == 0 and p.language == "python"]
    same = [p for p in python_negatives if project_of[p.code_a] == project_of[p.code_b]]
    assert 0.3 <= len(same) / len(python_negatives) <= 0.7
    close = [p for p in same if C.similar_length(p.code_a, p.code_b)]
    assert len(close) >= 0.7 * len(same)


def test_deterministic(corpus):
    subset = corpus[::5]
    assert [p.to_dict() for p in C.make_clone_pairs(subset, seed=2)] == \
        [p.to_dict() for p in C.make_clone_pairs(subset, seed=2)]


# --- behaviour preservation, checked by running Python rewrites ----------------------------------------

PROGRAMS = {
    "stats": ("""
def stats(values, scale):
    total = 0
    count = 0
    biggest = None
    for i in range(len(values)):
        v = values[i] * scale
        total += v
        count += 1
        if biggest is None or v > biggest:
            biggest = v
    mean = total / count if count else 0.0
    return (total, mean, biggest)
""", [([1, 2, 3], 2), ([], 1), ([5, -1], 0.5)]),
    "window": ("""
def window(text, width, fill):
    lines = []
    current = ''
    limit = width
    for word in text.split():
        if len(current) + len(word) + 1 > limit and current:
            lines.append(current.ljust(width, fill))
            current = word
        else:
            current = (current + ' ' + word).strip()
    if current:
        lines.append(current.ljust(width, fill))
    result = '\\n'.join(lines)
    return result
""", [("the quick brown fox jumps over the lazy dog", 10, "."), ("", 3, "-")]),
    "search": ("""
def search(items, target):
    lo = 0
    hi = len(items) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        if items[mid] < target:
            lo = mid + 1
        elif items[mid] > target:
            hi = mid - 1
        else:
            return mid
    return -(lo + 1)
""", [([1, 3, 5, 7], 5), ([1, 3, 5, 7], 4), ([], 1)]),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_python_rewrites_preserve_behaviour(name):
    source, inputs = PROGRAMS[name]
    source = textwrap.dedent(source).strip("\n")
    expected_namespace: dict = {}
    exec(source, expected_namespace)  # noqa: S102 - running the rewrite is the test
    expected = [expected_namespace[name](*args) for args in inputs]
    applied = Counter()
    for seed in range(40):
        rewritten = R.rewrite_function("python", source, random.Random(seed))
        if rewritten is None:
            continue
        code, steps = rewritten
        applied.update(steps)
        namespace: dict = {}
        exec(code, namespace)  # noqa: S102
        assert [namespace[name](*args) for args in inputs] == expected, (steps, code)
    assert len(applied) >= 3, applied


def test_single_rewrites_on_known_input():
    rng = random.Random(0)
    code = "def f(xs):\n    n = 0\n    m = []\n    for i in range(len(xs)):\n        n += xs[i]\n    return n * 2\n"
    assert "for i, _ in enumerate(xs):" in R.apply_rewrite("python", code, "loop_form", rng)
    assert "result = n * 2\n    return result" in R.apply_rewrite("python", code, "extract_temp", rng)
    reordered = R.apply_rewrite("python", code, "reorder", rng)
    assert reordered.index("m = []") < reordered.index("n = 0")
    renamed = R.apply_rewrite("python", code, "rename", rng)
    assert renamed != code and analyze("python", renamed) is not None
    java = "int f(int[] a) {\n    int s = 0;\n    for (int i = 0; i < a.length; i++) {\n        s += a[i];\n    }\n" \
           "    return s;\n}\n"
    looped = R.apply_rewrite("java", java, "loop_form", rng)
    assert "    int i = 0;\n    while (i < a.length) {\n        s += a[i];\n        i++;\n    }" in looped
    go = "func f(a []int) int {\n\ts := len(a) * 2\n\treturn s\n}\n"
    assert R.apply_rewrite("go", go, "inline_temp", rng) == "func f(a []int) int {\n\treturn len(a) * 2\n}\n"
    assert R.apply_rewrite("python", "def f(a, b):\n    return a < b\n", "flip_comparison", rng) == \
        "def f(a, b):\n    return b > a\n"
    assert R.apply_rewrite("python", "def f(a):\n    return a < 1\n", "flip_comparison", rng) is None  # no Yoda
    assert R.apply_rewrite("python", "def f(a):\n    return g(a) < h(a)\n", "flip_comparison", rng) is None
    c = "void f(int n) {\n    int i = 0;\n    i++;\n    g(i);\n}\n"
    assert "    i += 1;\n" in R.apply_rewrite("c", c, "increment_form", rng)


def test_loop_form_refuses_unsafe_loops():
    rng = random.Random(0)
    with_continue = "int f(int n) {\n    int s = 0;\n    for (int i = 0; i < n; i++) {\n        if (i == 2) {\n" \
                    "            continue;\n        }\n        s += i;\n    }\n    return s;\n}\n"
    assert R.apply_rewrite("c", with_continue, "loop_form", rng) is None
    mutating = "def f(xs):\n    for i in range(len(xs)):\n        xs.append(i)\n    return xs\n"
    assert R.apply_rewrite("python", mutating, "loop_form", rng) is None


def test_rename_keeps_fields_and_keywords():
    code = "def f(self, value):\n    self.value = value\n    g(value=value)\n    return value\n"
    for seed in range(10):
        renamed = R.apply_rewrite("python", code, "rename", random.Random(seed))
        assert renamed is not None and "def f(self, value):" not in renamed, seed
        assert "self.value = " in renamed and "g(value=" in renamed
    assert "value" in rename_candidates("val") and "idx" in rename_candidates("index")
    assert "userNm" in rename_candidates("userName")
    # `a` is used as a shorthand property (`{a}` means `{a: a}`): renaming it would change the
    # object's key, so only `b` may be renamed, and it always can be
    js = "function f(a) {\n  const b = {a};\n  return b;\n}\n"
    for seed in range(10):
        out = R.apply_rewrite("javascript", js, "rename", random.Random(seed))
        assert out is not None, seed
        assert "function f(a) {" in out and "= {a};" in out, out
        assert "const b " not in out and "return b;" not in out, out
        assert analyze("javascript", out) is not None
