"""The shape filter of mined bug fixes: one file's two versions → the one-function, 1–3-line fix they
hold, or the reason they hold none.

Lines are compared by their *significant* text: comments (and Python docstrings) removed (the
comment nodes of the file's tree-sitter parse, so `#` inside a string stays) and the rest joined as tokens, so that layout and
comment edits count for nothing. In Python the indentation of a line is part of its significant
text (it is syntax there: moving `return` out of a loop is a real fix). The edit must fall inside one
function on each side (the innermost one holding all changed lines, the same qualified name on both
sides), change between 1 and `MAX_CHANGED_LINES` significant lines, and change more than the prose
of one message string or, in Python, annotations or docstrings (`changes.behaviour_key`). Functions are those of the server's index
(`index.functions`), cut out like every other training record (`extract.function_code`), and must be
of the size the corpus keeps (`extract.keep_function`).
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass

from manyskills.data.changes import behaviour_key, diff_functions
from manyskills.data.extract import function_code, keep_function
from manyskills.data.fixtags import fix_tag, tokens
from manyskills.index.functions import functions_in_tree
from manyskills.index.languages import LANGUAGES
from manyskills.index.treesitter import SyntaxTree, parse
from manyskills.index.types import FunctionInfo

__all__ = ["MAX_CHANGED_LINES", "FunctionFix", "function_fix", "significant_lines"]

MAX_CHANGED_LINES = 3
MAX_REGION_LINES = 60  # significant lines between the first and last change: more is never one small fix


@dataclass
class FunctionFix:
    qualified_name: str
    before: str  # the buggy function (dedented, as in every record)
    after: str  # the fixed function
    bug_lines: list[int]  # 0-based lines of `before`: the changed ones, or for an insertion its neighbours
    fix_line: int | None  # one line of `before` the fix replaces (see changes.diff_functions), else None
    fix_replacement: str | None
    tag: str  # fixtags.fix_tag
    changed_lines: int


@functools.cache
def _comment_query(language: str) -> str:
    types = LANGUAGES[language].comment_types or frozenset({"comment"})
    query = "[" + " ".join(f"({t})" for t in sorted(types)) + "] @comment"
    if language == "python":  # a bare string statement (a docstring) documents, it does nothing
        query += "\n(expression_statement (string) @comment)"
    return query


def _without_comments(tree: SyntaxTree, lines: list[str]) -> list[str]:
    out = list(lines)
    for match in tree.matches(_comment_query(tree.language)):
        for node in match.captures.get("comment", []):
            start, end = node.start, node.end
            for ln in range(start.line, min(end.line, len(out) - 1) + 1):
                text = out[ln]
                a = start.character if ln == start.line else 0
                b = end.character if ln == end.line else len(text)
                out[ln] = text[:a] + " " * max(0, b - a) + text[b:]
    return out


def significant_lines(language: str, code_lines: list[str]) -> list[str]:
    """Each line's significant text ("" for blank and comment-only lines), from lines whose comments
    are already blanked."""
    out = []
    for text in code_lines:
        toks = tokens(text)
        if not toks:
            out.append("")
        elif language == "python":
            out.append(f"{len(text.expandtabs(8)) - len(text.expandtabs(8).lstrip())}|{' '.join(toks)}")
        else:
            out.append(" ".join(toks))
    return out


@dataclass
class _Side:
    lines: list[str]
    tree: SyntaxTree
    code: list[str]  # the lines with comments blanked
    significant: list[str]
    functions: list[FunctionInfo]


def _side(language: str, text: str) -> _Side:
    tree = parse(language, text)
    lines = text.split("\n")
    code = _without_comments(tree, lines)
    return _Side(lines, tree, code, significant_lines(language, code), functions_in_tree(tree))


def _innermost(side: _Side, lines: list[int]) -> FunctionInfo | None:
    lo, hi = min(lines), max(lines)
    holding = [f for f in side.functions if f.span.start.line <= lo and f.span.end.line >= hi]
    if not holding:
        return None
    return max(holding, key=lambda f: (f.span.start.line, -f.span.end.line))


def _has_error_inside(side: _Side, fn: FunctionInfo) -> bool:
    if not side.tree.has_errors:
        return False
    return any(n.is_error or n.is_missing for n in side.tree.walk_span(fn.span))


def _neighbours(indices: list[int], at: int) -> list[int]:
    """The significant lines just before and just after position `at` of the significant-line list."""
    return [indices[k] for k in (at - 1, at) if 0 <= k < len(indices)]


def function_fix(language: str, before_text: str, after_text: str) -> FunctionFix | str:
    """The single-function fix between two versions of a file, or why there is none (a short reason)."""
    a, b = _side(language, before_text), _side(language, after_text)
    ia = [i for i, s in enumerate(a.significant) if s]
    ib = [j for j, s in enumerate(b.significant) if s]
    sa, sb = [a.significant[i] for i in ia], [b.significant[j] for j in ib]
    p = 0
    while p < min(len(sa), len(sb)) and sa[p] == sb[p]:
        p += 1
    s = 0
    while s < min(len(sa), len(sb)) - p and sa[len(sa) - 1 - s] == sb[len(sb) - 1 - s]:
        s += 1
    mid_a, mid_b = sa[p:len(sa) - s], sb[p:len(sb) - s]
    if not mid_a and not mid_b:
        return "formatting-only"
    if max(len(mid_a), len(mid_b)) > MAX_REGION_LINES:
        return "too-many-lines"
    ops = [op for op in difflib.SequenceMatcher(a=mid_a, b=mid_b, autojunk=False).get_opcodes() if op[0] != "equal"]
    changed = sum(max(i2 - i1, j2 - j1) for _, i1, i2, j1, j2 in ops)
    if changed > MAX_CHANGED_LINES:
        return "too-many-lines"
    removed = [ia[p + i] for _, i1, i2, _, _ in ops for i in range(i1, i2)]
    added = [ib[p + j] for _, _, _, j1, j2 in ops for j in range(j1, j2)]
    # an insertion is placed by the lines around it; a deletion likewise on the fixed side
    anchor_a = removed or [x for _, i1, _, _, _ in ops for x in _neighbours(ia, p + i1)]
    anchor_b = added or [x for _, _, _, j1, _ in ops for x in _neighbours(ib, p + j1)]
    if not anchor_a or not anchor_b:
        return "outside-function"
    fa = _innermost(a, removed or anchor_a[:1])
    fb = _innermost(b, added or anchor_b[:1])
    if fa is None or fb is None:
        every_line_in_one = all(_innermost(a, [x]) for x in removed) and all(_innermost(b, [x]) for x in added)
        return "several-functions" if every_line_in_one and (removed or added) else "outside-function"
    if fa.qualified_name != fb.qualified_name:
        return "several-functions"
    if any(not fa.span.contains_line(x) for x in removed) or any(not fb.span.contains_line(x) for x in added):
        return "several-functions"
    if fa.is_test or fb.is_test:
        return "test-function"
    # the two functions must be one function before and after: an overload or a moved copy with the
    # same name differs by more than the edit
    inner_a = [a.significant[i] for i in ia if fa.span.contains_line(i)]
    inner_b = [b.significant[j] for j in ib if fb.span.contains_line(j)]
    inner_ops = difflib.SequenceMatcher(a=inner_a, b=inner_b, autojunk=False).get_opcodes()
    if sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in inner_ops if tag != "equal") != changed:
        return "unmatched-function"
    before, after = function_code(fa, a.lines), function_code(fb, b.lines)
    if before.count("\n") != fa.span.end.line - fa.span.start.line or after.count("\n") != fb.span.end.line - fb.span.start.line:
        return "unaligned-function"
    if not (keep_function(before) and keep_function(after)):
        return "function-size"
    if _has_error_inside(a, fa) or _has_error_inside(b, fb):
        return "parse-error"
    key_a = behaviour_key(language, before)
    if key_a is not None and key_a == behaviour_key(language, after):
        return "not-behavioural"  # Python: annotations / docstrings only
    start = fa.span.start.line
    bug_lines = sorted({x - start for x in anchor_a if fa.span.contains_line(x)})
    inside = [i for i in ia if fa.span.contains_line(i) and i not in removed]
    first, last = min(anchor_a), max(anchor_a)
    tag = fix_tag([a.code[i] for i in removed], [b.code[j] for j in added],
                  [a.code[i] for i in inside if i < first], [a.code[i] for i in inside if i > last])
    if tag == "message_text":
        return "message-only"
    single = diff_functions(before, after)
    fix_line, fix_replacement = (single[1], single[2]) if single else (None, None)
    return FunctionFix(fa.qualified_name, before, after, bug_lines, fix_line, fix_replacement, tag, changed)
