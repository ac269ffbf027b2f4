"""Round planning (analysis/rounds.py): what a scan sends to the model, locally and on Ray."""

from manyskills.analysis.rounds import FUNCTIONS_PER_ROUND, plan_rounds, split_rounds, unique_by_content
from manyskills.index.functions import index_functions


def _functions(n: int):
    functions = index_functions("python", "\n\n".join(f"def f{i}(x):\n    return x + {i}" for i in range(n)))
    assert len(functions) == n
    return functions


def _same(text: str, copies: int):
    return index_functions("python", "\n\n".join([text] * copies))


def test_rounds_are_consecutive_slices_in_file_order():
    functions = _functions(150)
    rounds = split_rounds(functions)
    assert [len(r) for r in rounds] == [FUNCTIONS_PER_ROUND, FUNCTIONS_PER_ROUND, 150 - 2 * FUNCTIONS_PER_ROUND]
    assert [f for r in rounds for f in r] == functions
    assert split_rounds([]) == []


def test_equal_content_goes_once_and_known_content_not_at_all():
    copies = _same("def g(x):\n    return x", 3)
    other = index_functions("python", "def h(x):\n    return -x")
    assert len({f.content_hash for f in copies}) == 1
    chosen = unique_by_content(copies + other)
    assert chosen == [copies[0], other[0]]
    assert unique_by_content(copies + other, {copies[0].content_hash}) == [other[0]]


def test_a_plan_skips_what_earlier_rounds_or_the_cache_already_cover():
    repeated = _same("def g(x):\n    return x", FUNCTIONS_PER_ROUND + 1)  # a whole round of one function
    fresh = index_functions("python", "def h(x):\n    return -x")
    plan = plan_rounds(repeated + fresh)
    # round 1: g once; round 2: the 65th g is a cache hit by then, h is new
    assert plan == [[repeated[0]], [fresh[0]]]
    assert plan_rounds(repeated + fresh, known={fresh[0].content_hash}) == [[repeated[0]]]
    assert plan_rounds(repeated, known={repeated[0].content_hash}) == []
