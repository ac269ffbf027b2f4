"""Candidate repairs: the inverses of the mutation operators at a line, in every language family, each a
whole function that still parses."""

from __future__ import annotations

import pytest
from manyskills.analysis.repair_candidates import MAX_CANDIDATES, repair_candidates
from manyskills.data.mutations import candidate_mutants
from manyskills.index.treesitter import parse


def lines_of(language: str, text: str, line: int) -> dict[str, str]:
    """Repaired line text -> description, for the candidates at one line."""
    return {c.new_line.strip(): c.description for c in repair_candidates(language, text, [line])}


def test_python_operators_literals_variables_and_swaps():
    code = ("def restock(stock, item, amount):\n    if amount < 0:\n        raise ValueError('bad')\n"
            "    stock[item] = stock.get(item, 0) - amount\n    return stock[item]")
    found = lines_of("python", code, 3)
    assert found["stock[item] = stock.get(item, 0) + amount"] == "`-` → `+`"
    assert "stock[item] = stock.get(item, 1) - amount" in found  # literal ±1
    assert "stock[item] = stock.get(item, 0) - item" in found  # another variable of the function
    assert "stock[item] = stock.get(0, item) - amount" in found  # swapped arguments
    assert not any(c.new_line.strip() == "" for c in repair_candidates("python", code, [3]))  # never a deletion
    condition = lines_of("python", code, 1)
    assert {"if amount <= 0:", "if amount > 0:", "if not (amount < 0):", "if amount < 1:"} <= set(condition)


def test_python_not_in_is_and_continuation_lines():
    code = ("def f(key, env, flags):\n    return (not flags.ignore\n            and key not in env)")
    found = lines_of("python", code, 2)
    assert "and key in env)" in found  # `not in` is one operator spread over two tokens
    assert "or key not in env)" in found  # the `and` of an expression begun on the line above
    code = "def g(x, y):\n    if x is y:\n        return None\n    return x"
    assert {"if x == y:", "if x is not y:"} <= set(lines_of("python", code, 1))
    assert {"return False", "return ''"} <= set(lines_of("python", code, 2))


@pytest.mark.parametrize("language, code, line, expected", [
    ("javascript", "function f(a, b) {\n  if (!a.ok) {\n    return a.n - b;\n  }\n  return 0;\n}", 1,
     ["if (a.ok) {", "if (!b.ok) {"]),  # no `!!`: removing the `!` is the inverse
    ("typescript", "function f(xs: number[], n: number): number {\n  return xs[n] - n;\n}", 1,
     ["return xs[n] + n;", "return xs[n + 1] - n;", "return n - xs[n];"]),
    ("tsx", "const f = (a: number, b: number) => {\n  return a && b;\n};", 1, ["return a || b;"]),
    ("java", "int f(int a, int b) {\n    if (a <= b) {\n        return max(a, b);\n    }\n    return 1;\n}", 1,
     ["if (a < b) {", "if (a >= b) {", "if (!(a <= b)) {", "if (b <= a) {"]),
    ("java", "int f(int a, int b) {\n    return compute(a, b);\n}", 1, ["return compute(b, a);"]),
    ("c", "int f(int *xs, int n) {\n    for (int i = 0; i <= n; i++) {\n        xs[i] = 0;\n    }\n    return n;\n}", 1,
     ["for (int i = 0; i < n; i++) {", "for (int i = 1; i <= n; i++) {", "for (int i = 0; i <= n; i--) {"]),
    ("cpp", "int f(int a, int b) {\n    a += b;\n    return a;\n}", 1, ["a -= b;"]),
    ("go", "func f(a int, b int) bool {\n\tif a == b {\n\t\treturn true\n\t}\n\treturn false\n}", 1,
     ["if a != b {", "if !(a == b) {"]),
    ("go", "func f(a int, b int) bool {\n\tif a == b {\n\t\treturn true\n\t}\n\treturn false\n}", 2, ["return false"]),
    ("rust", "fn f(a: i32, b: i32) -> i32 {\n    let c = a - b;\n    c * 2\n}", 1,
     ["let c = a + b;", "let c = b - a;"]),
])
def test_other_languages(language, code, line, expected):
    found = lines_of(language, code, line)
    missing = [e for e in expected if e not in found]
    assert not missing, (missing, sorted(found))


@pytest.mark.parametrize("language, code", [
    ("python", "def f(a, b, c):\n    x = g(a, b) + h(b, c) - a * b / c\n    return x < a <= b and c or not a"),
    ("java", "class A {\n  int f(int a, int b) {\n    return a + b - a * b / (a - 1) + g(a, b, 3);\n  }\n}"),
    ("go", "func f(a, b int) int {\n\treturn a + b - a*b/(a-1) + g(a, b, 3)\n}"),
])
def test_every_candidate_parses_is_distinct_and_capped(language, code):
    lines = list(range(code.count("\n") + 1))
    candidates = repair_candidates(language, code, lines, limit=20)
    assert 0 < len(candidates) <= 20
    assert len({c.text for c in candidates}) == len(candidates) and all(c.text != code for c in candidates)
    assert all(not parse(language, c.text).has_errors for c in candidates)
    for c in candidates:  # each changes exactly its own line
        before, after = code.split("\n"), c.text.split("\n")
        assert after == before[:c.line] + [c.new_line] + before[c.line + 1:]
    assert len(repair_candidates(language, code, lines)) <= MAX_CANDIDATES


def test_the_second_line_gets_its_share_of_the_budget():
    code = ("def f(a, b, c):\n    x = g(a, b) + h(b, c) - a * b / c + a - b\n    y = a - 1\n    return x + y")
    candidates = repair_candidates("python", code, [1, 2], limit=10)
    assert {c.line for c in candidates} == {1, 2}


def test_candidates_undo_most_mutations_at_their_line():
    """The enumeration inverts what the bug injector does: every mutant of a small corpus of functions
    whose operator has a single-line inverse is repaired exactly by one of its candidates."""
    functions = [
        ("python", ("def total(xs, limit):\n    s = 0\n    for i in range(len(xs)):\n        if xs[i] > limit:\n"
                   "            s += xs[i] - limit\n    return s")),
        ("java", ("int total(int[] xs, int limit) {\n    int s = 0;\n    for (int i = 0; i < xs.length; i++) {\n"
                 "        if (xs[i] > limit) {\n            s += xs[i] - limit;\n        }\n    }\n    return s;\n}")),
    ]
    operators = ("wrong_binary_operator", "wrong_comparison", "off_by_one", "negated_condition", "swapped_arguments",
                 "and_or_swap", "increment_swap", "is_vs_equality")
    tried = undone = 0
    for language, code in functions:
        for mutants in candidate_mutants(language, code, operators).values():
            for mutant in mutants:
                tried += 1
                texts = {c.text for c in repair_candidates(language, mutant.code, mutant.bug_lines)}
                undone += code in texts
    assert tried >= 20 and undone / tried >= 0.9, (undone, tried)
