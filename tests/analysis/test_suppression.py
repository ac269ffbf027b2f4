"""`manyskills: ignore` comments (analysis/suppression.py), as the server and the CLI honour them."""

from manyskills.analysis.suppression import is_suppressed, suppression_comment
from manyskills.index.functions import index_functions

PYTHON = """\
@decorator
def total(xs):  # manyskills: ignore[clone]
    result = 0
    for i in range(len(xs)):
        result += xs[i]  # manyskills: ignore
    return result
"""


def _function(text: str, language: str = "python"):
    (function,) = index_functions(language, text)
    return function


def test_a_directive_on_the_flagged_line_suppresses_every_skill():
    lines = PYTHON.split("\n")
    function = _function(PYTHON)
    for skill in ("defect", "flaky", "clone"):
        assert is_suppressed(lines, function, 4, skill, "#")
    assert not is_suppressed(lines, function, 3, "defect", "#")


def test_a_directive_in_the_header_covers_the_function_but_only_the_listed_skills():
    lines = PYTHON.split("\n")
    function = _function(PYTHON)
    assert function.span.start.line == 0 and function.body_start_line == 2
    assert is_suppressed(lines, function, 5, "clone", "#")  # the signature line lists clone
    assert not is_suppressed(lines, function, 5, "defect", "#")


def test_skill_lists_are_case_and_space_insensitive():
    text = "def f(x):  # MANYSKILLS: IGNORE[ Flaky , defect ]\n    return x\n"
    lines, function = text.split("\n"), _function(text)
    assert is_suppressed(lines, function, 1, "defect", "#") and is_suppressed(lines, function, 1, "flaky", "#")
    assert not is_suppressed(lines, function, 1, "clone", "#")


def test_the_directive_must_follow_the_languages_own_comment_prefix():
    text = 'def f(x):\n    return "manyskills: ignore"  # not a directive: # is followed by other text\n'
    lines, function = text.split("\n"), _function(text)
    assert not is_suppressed(lines, function, 1, "defect", "#")
    assert not is_suppressed(lines, function, 1, "defect", "//")
    js = "function f(x) {\n  return x + 1; // manyskills: ignore[defect]\n}\n"
    assert is_suppressed(js.split("\n"), _function(js, "javascript"), 1, "defect", "//")
    assert not is_suppressed(js.split("\n"), _function(js, "javascript"), 1, "defect", "#")


def test_a_line_outside_the_document_never_suppresses():
    lines, function = PYTHON.split("\n"), _function(PYTHON)
    assert not is_suppressed(lines[:3], function, 40, "defect", "#")


def test_the_quick_fix_comment_is_itself_a_directive():
    text = "def f(x):\n    return x - 1\n"
    lines, function = text.split("\n"), _function(text)
    lines[1] += suppression_comment("#", "defect")
    assert lines[1] == "    return x - 1  # manyskills: ignore[defect]"
    assert is_suppressed(lines, function, 1, "defect", "#") and not is_suppressed(lines, function, 1, "clone", "#")
