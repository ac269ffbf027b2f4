"""Which mutation would reproduce a mined bug fix: a token-level classifier of (buggy lines, fixed lines).

A fix is a clean training label when one of our bug-injection rewrites, applied to the fixed code,
gives back the buggy code (PyPIBugs keeps only such fixes). `fix_tag` compares the token sequences
of the changed lines (comments already removed) and names that rewrite, or "other".

The names are the mutation operators' names (`data/mutations.OPERATORS`) where one corresponds;
they are spelled out here rather than imported because the tag describes a *diff*, not a rewrite
the mutator can perform, and the mutator's registry is free to change. Mapping and extras:

| tag                     | the buggy side ... (fixed → buggy)              | mutations operator      |
|-------------------------|-------------------------------------------------|-------------------------|
| off_by_one              | integer literal ±1, `<`↔`<=`, `>`↔`>=`, ±1 term  | off_by_one              |
| wrong_comparison        | another comparison operator                     | wrong_comparison        |
| wrong_binary_operator   | another arithmetic/bitwise operator             | wrong_binary_operator   |
| and_or_swap             | `and`↔`or`, `&&`↔`||`                           | and_or_swap             |
| is_vs_equality          | `is`↔`==`, `is not`↔`!=`                        | is_vs_equality          |
| assignment_vs_equality  | `=`↔`==`                                        | assignment_vs_equality  |
| increment_swap          | `++`↔`--`                                       | increment_swap          |
| negated_condition       | a `not`/`!` added or removed                    | negated_condition       |
| swapped_arguments       | two arguments of a call exchanged               | swapped_arguments       |
| swapped_operands        | two operands of an operator exchanged           | (none)                  |
| swapped_branches        | the two arms of a conditional exchanged         | swapped_branches        |
| variable_misuse         | one identifier in place of another              | variable_misuse         |
| wrong_function          | another plain function called (variable_misuse  | (none)                  |
|                         | never rewrites a callee)                        |                         |
| wrong_attribute         | another attribute / method name after `.`/`->`  | wrong_attribute         |
| wrong_literal           | another number / boolean / null literal         | wrong_literal           |
| wrong_string            | another string literal (often a message)        | (wrong_literal on text) |
| wrong_return_value      | another (or no) value after `return`            | wrong_return_value      |
| removed_check           | lacks an `if` guard the fix inserts             | removed_check           |
| missing_await           | lacks an `await` the fix inserts               | missing_await           |
| missing_break           | lacks a `break` the fix inserts                 | missing_break           |
| extra_break             | has a `break` the fix deletes                   | extra_break             |
| extra_increment         | has an increment the fix deletes                | extra_increment         |
| duplicated_statement    | has a repeated statement the fix deletes        | duplicated_statement    |
| missing_argument        | lacks an argument the fix inserts (`, x`)       | (none)                  |
| extra_argument          | has an argument the fix deletes                 | (none)                  |
| missing_statement       | lacks another statement the fix inserts         | (none)                  |
| extra_statement         | has another statement the fix deletes           | (none)                  |
| other                   | anything else                                   | (none)                  |
| message_text            | other prose in a string: not a behaviour change | (the miner drops these) |
"""

from __future__ import annotations

import difflib
import re

__all__ = ["FIX_TAGS", "MUTATION_OPERATOR_TAGS", "fix_tag", "tokens"]

FIX_TAGS = (
    "off_by_one", "wrong_comparison", "wrong_binary_operator", "and_or_swap", "is_vs_equality",
    "assignment_vs_equality", "increment_swap", "negated_condition", "swapped_arguments", "swapped_operands",
    "swapped_branches", "variable_misuse", "wrong_attribute", "wrong_literal", "wrong_string",
    "wrong_return_value", "removed_check", "missing_await", "missing_break", "extra_break", "extra_increment",
    "duplicated_statement", "missing_statement", "extra_statement", "wrong_function", "missing_argument",
    "extra_argument", "other", "message_text",
)
# the tags that name an operator of data/mutations.py (the rest have no injecting counterpart)
MUTATION_OPERATOR_TAGS = frozenset(FIX_TAGS) - {"swapped_operands", "wrong_string", "missing_statement",
                                                "extra_statement", "wrong_function", "missing_argument",
                                                "extra_argument", "other", "message_text"}

_TOKEN = re.compile(
    r"""[rbuRBUfF]{0,2}(?:"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`(?:\\.|[^`\\])*`)"""  # strings (with prefixes)
    r"|0[xXbBoO][0-9a-fA-F_]+[uUlLiz0-9]*|\d[\d_]*(?:\.\d*)?(?:[eE][+-]?\d+)?[a-zA-Z0-9_]*|\.\d+"  # numbers
    r"|[A-Za-z_$][A-Za-z0-9_$]*"  # identifiers and keywords
    r"|>>>=|<<=|>>=|\*\*=|//=|===|!==|\.\.\.|->|=>|::|\+\+|--|&&|\|\||<=|>=|==|!=|<<|>>|\*\*|//"
    r"|[-+*/%&|^]=|:=|\S"
)
_COMPARISON = frozenset({"<", "<=", ">", ">=", "==", "!=", "===", "!=="})
_ORDER_SWAP = {frozenset({"<", "<="}), frozenset({">", ">="})}
_ARITHMETIC = frozenset({"+", "-", "*", "/", "%", "//", "**", "<<", ">>", ">>>", "&", "|", "^",
                         "+=", "-=", "*=", "/=", "%=", "//=", "**=", "<<=", ">>=", "&=", "|=", "^="})
_BOOLEAN = frozenset({"and", "or", "&&", "||"})
_NEGATIONS_ADDED = (["not"], ["!"])  # the whole token edit of a negated condition
_BOOL_NULL = frozenset({"True", "False", "true", "false", "None", "null", "nil", "undefined", "NULL", "nullptr"})
_KEYWORDS = frozenset({
    "if", "else", "elif", "for", "while", "do", "return", "break", "continue", "def", "class", "fn", "func",
    "function", "let", "const", "var", "new", "delete", "in", "is", "not", "and", "or", "try", "except",
    "catch", "finally", "raise", "throw", "with", "as", "import", "from", "pass", "yield", "await", "async",
    "lambda", "switch", "case", "default", "struct", "impl", "pub", "mut", "static", "public", "private",
    "protected", "final", "void", "int", "goto", "sizeof", "typeof", "instanceof", "match", "loop",
})
_ATTRIBUTE_DOTS = frozenset({".", "->", "::", "?."})
_PROSE = re.compile(r"[A-Za-z]{2,}[,.:;!?]?\s+[A-Za-z(]")


def tokens(code: str) -> list[str]:
    """Code tokens: identifiers, numbers, whole string literals and multi-character operators."""
    return _TOKEN.findall(code)


def _is_string(tok: str) -> bool:
    return bool(re.match(r"""^[rbuRBUfF]{0,2}["'`]""", tok))


def _is_number(tok: str) -> bool:
    return bool(re.match(r"^(?:\d|\.\d)", tok))


def _int_value(tok: str) -> int | None:
    text = re.sub(r"[uUlLz]+$|_", "", tok)
    try:
        return int(text, 0)
    except ValueError:
        return None


def _is_identifier(tok: str) -> bool:
    return bool(re.match(r"^[A-Za-z_$][A-Za-z0-9_$]*$", tok)) and tok not in _KEYWORDS and tok not in _BOOL_NULL


def _is_literal(tok: str) -> bool:
    return _is_number(tok) or tok in _BOOL_NULL


def _one_token(a: str, b: str, prev: str | None, following: str | None) -> str:
    """Tag for a single token `b` (fixed) that the buggy side spelled `a`."""
    pair = frozenset({a, b})
    if a in _COMPARISON and b in _COMPARISON:
        return "off_by_one" if pair in _ORDER_SWAP else "wrong_comparison"
    if pair == frozenset({"=", "=="}) or pair == frozenset({"=", "==="}):
        return "assignment_vs_equality"
    if pair == frozenset({"is", "=="}):
        return "is_vs_equality"
    if pair == frozenset({"++", "--"}):
        return "increment_swap"
    if a in _BOOLEAN and b in _BOOLEAN:
        return "and_or_swap"
    if a in _ARITHMETIC and b in _ARITHMETIC:
        return "wrong_binary_operator"
    ia, ib = _int_value(a), _int_value(b)
    if ia is not None and ib is not None and abs(ia - ib) == 1:
        return "off_by_one"
    if _is_literal(a) and _is_literal(b):
        return "wrong_literal"
    if _is_string(a) and _is_string(b):
        # prose in both (a space between letters): a message or a comment-like text, not behaviour
        return "message_text" if _PROSE.search(a) and _PROSE.search(b) else "wrong_string"
    if _is_identifier(a) and _is_identifier(b):
        if prev in _ATTRIBUTE_DOTS:
            return "wrong_attribute"
        return "wrong_function" if following == "(" else "variable_misuse"
    return "other"


def _swap(a: list[str], b: list[str]) -> str | None:
    """`x SEP y` ↔ `y SEP x` (the middle parts of both sides, common ends removed)."""
    if sorted(a) != sorted(b) or a == b or len(a) != len(b):
        return None
    for i in range(1, len(a)):
        for j in range(i + 1, len(a)):
            x, sep, y = a[:i], a[i:j], a[j:]
            if x and y and b == y + sep + x:
                if sep == [","]:
                    return "swapped_arguments"
                if ("if" in sep and "else" in sep) or ("?" in sep and ":" in sep):
                    return "swapped_branches"
                if len(sep) == 1 and (sep[0] in _COMPARISON or sep[0] in _ARITHMETIC or sep[0] in _BOOLEAN):
                    return "swapped_operands"
    return None


def _inserted_tag(lines: list[str]) -> str:
    """Tag when the fix inserts whole lines (the buggy side lacks them)."""
    first = tokens(lines[0]) if lines else []
    head = first[0] if first else ""
    if head in ("if", "unless", "guard") or (head == "}" and first[1:2] == ["else"]):
        return "removed_check"
    if head == "await" or "await" in first[:3]:
        return "missing_await"
    if head == "break":
        return "missing_break"
    if head == "return":
        return "wrong_return_value"
    return "missing_statement"


def _deleted_tag(lines: list[str], before: list[str], after: list[str]) -> str:
    """Tag when the fix deletes whole lines (the buggy side has extra ones)."""
    toks = tokens(lines[0]) if lines else []
    if toks[:1] == ["break"]:
        return "extra_break"
    body = [t for t in toks if t != ";"]
    if "++" in body or "--" in body or (len(body) == 3 and body[1] in ("+=", "-=") and body[2] == "1"):
        return "extra_increment"
    block = [" ".join(tokens(x)) for x in lines]
    k = len(block)
    if (before[-k:] == block or after[:k] == block) and sum(len(tokens(x)) for x in lines) >= 3:
        return "duplicated_statement"  # the same statement(s) right before or after
    return "extra_statement"


def fix_tag(buggy_lines: list[str], fixed_lines: list[str], before: list[str] = (), after: list[str] = ()) -> str:
    """The operator tag of a fix that turns `buggy_lines` into `fixed_lines` (the changed, comment-free
    lines of each side; one side may be empty). `before` and `after` are the buggy function's
    unchanged lines above and below them (to recognise a deleted duplicate)."""
    if not buggy_lines and fixed_lines:
        return _inserted_tag(fixed_lines)
    if buggy_lines and not fixed_lines:
        norm = lambda lines: [" ".join(tokens(x)) for x in lines if tokens(x)]
        return _deleted_tag(buggy_lines, norm(before), norm(after))
    a = [t for line in buggy_lines for t in tokens(line)]
    b = [t for line in fixed_lines for t in tokens(line)]
    if a == b:
        return "other"
    # common ends off: what is left is the edit
    p = 0
    while p < min(len(a), len(b)) and a[p] == b[p]:
        p += 1
    s = 0
    while s < min(len(a), len(b)) - p and a[len(a) - 1 - s] == b[len(b) - 1 - s]:
        s += 1
    mid_a, mid_b = a[p:len(a) - s], b[p:len(b) - s]
    prev = a[p - 1] if p > 0 else None
    if len(mid_a) == 1 and len(mid_b) == 1:
        return _one_token(mid_a[0], mid_b[0], prev, a[len(a) - s] if s else None)
    pair = (tuple(mid_a), tuple(mid_b))
    if pair in ((("is", "not"), ("!=",)), (("!=",), ("is", "not")), (("is",), ("==",)), (("==",), ("is",))):
        return "is_vs_equality"
    if pair in ((("not", "in"), ("in",)), (("in",), ("not", "in")), (("is",), ("is", "not")), (("is", "not"), ("is",))):
        return "negated_condition"
    for left in range(min(p, 4) + 1):  # operands may share their first or last tokens (`x.a + x.b`)
        for right in range(min(s, 4) + 1):
            swapped = _swap(a[p - left:len(a) - s + right], b[p - left:len(b) - s + right])
            if swapped:
                return swapped
    ops = [op for op in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes() if op[0] != "equal"]
    if len(ops) == 1:
        tag, i1, i2, j1, j2 = ops[0]
        added, removed = b[j1:j2], a[i1:i2]
        if tag == "insert" and added in _NEGATIONS_ADDED or tag == "delete" and removed in _NEGATIONS_ADDED:
            return "negated_condition"
        if tag == "insert" and added == ["await"]:
            return "missing_await"
        if tag == "delete" and removed == ["return"] or tag == "insert" and added == ["return"]:
            return "wrong_return_value"
        change = added if tag == "insert" else removed if tag == "delete" else []
        if len(change) == 2 and change[0] in ("+", "-") and _int_value(change[1]) == 1:
            return "off_by_one"
        if tag == "insert" and change and change[0] in _BOOLEAN and a[:1] in (["if"], ["elif"], ["while"], ["else"]):
            return "removed_check"  # the fix adds a conjunct / disjunct to a condition
        if tag in ("insert", "delete") and len(change) >= 2 and (change[0] == "," or change[-1] == ","):
            return "missing_argument" if tag == "insert" else "extra_argument"
    if a[:1] == ["return"] and b[:1] == ["return"]:
        return "wrong_return_value"
    return "other"
