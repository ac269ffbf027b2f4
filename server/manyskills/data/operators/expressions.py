"""Operator family "wrong operator": an arithmetic, comparison, boolean, identity, assignment or
increment operator replaced by a plausible wrong one, or a condition negated."""

from __future__ import annotations

from collections.abc import Iterator

from manyskills.data.node_types import AUG_ASSIGN_TYPE, C_LIKE, UPDATE_TYPES
from manyskills.data.operators.base import (
    CMP_SWAP,
    Edit,
    is_collection,
    is_comparison,
    is_literal,
    negation_operand,
    replace_in,
    shorten,
)
from manyskills.data.syntax import FunctionSyntax
from manyskills.index.treesitter import SyntaxNode

_ARITH_SWAP = {"+": ("-",), "-": ("+",), "*": ("/", "+"), "/": ("*",), "%": ("/",), "<<": (">>",), ">>": ("<<",),
               "&": ("|",), "|": ("&",), "^": ("&",), "//": ("/",), "**": ("*",)}
_ORDER_OPS = frozenset({"<", "<=", ">", ">="})


def wrong_binary_operator(f: FunctionSyntax) -> Iterator[Edit]:
    """`a + b` -> `a - b` and other plausible arithmetic/bitwise swaps."""
    for node in f.typed(f.binary_type()):
        parts = f.binary_parts(node)
        if parts is None:
            continue
        left, op_start, op_end, op, right = parts
        alternatives = _ARITH_SWAP.get(op)
        if not alternatives or is_collection(left) or is_collection(right):
            continue
        if op == "//" and f.language != "python" or op == "**" and f.language != "python":
            continue
        if op == "/" and f.language == "python":
            alternatives = ("*", "//")
        if op in ("&", "|", "^") and f.language == "rust" and node.parent is not None \
                and node.parent.type == "binary_expression":
            continue
        for alt in alternatives:
            bad = replace_in(f, node, op_start, op_end, alt)
            yield Edit("wrong_binary_operator", op_start, op_end, alt,
                       {"good": op, "bad": alt, "good_expr": shorten(f.text(node)), "bad_expr": shorten(bad)})


def _comparisons(f: FunctionSyntax) -> Iterator[tuple[SyntaxNode, tuple]]:
    types = ("comparison_operator",) if f.language == "python" else (f.binary_type(),)
    for node in f.typed(*types):
        parts = f.binary_parts(node)
        if parts is not None and parts[3] in CMP_SWAP:
            yield node, parts


def _loop_bound_keys(f: FunctionSyntax) -> set[tuple]:
    keys = set()
    for loop in f.typed(*f.loop_types(), *f.while_types()):
        cond = f.condition(loop)
        if cond is not None:
            keys.add(cond.key)
    return keys


def wrong_comparison(f: FunctionSyntax) -> Iterator[Edit]:
    """`a < b` -> `a <= b` / `a > b`, `==` <-> `!=`, `in` <-> `not in` (loop bounds are off_by_one's)."""
    bounds = _loop_bound_keys(f)
    for node, (left, op_start, op_end, op, right) in _comparisons(f):
        if node.key in bounds and op in _ORDER_OPS:
            continue  # off_by_one
        for alt in CMP_SWAP[op]:
            if f.language != "python" and alt in ("in", "not in"):
                continue
            new = alt
            if op in ("in", "not in"):
                new = alt
            bad = replace_in(f, node, op_start, op_end, new)
            yield Edit("wrong_comparison", op_start, op_end, new,
                       {"good": op, "bad": alt, "good_expr": shorten(f.text(node)), "bad_expr": shorten(bad),
                        "left": shorten(f.text(left), 30), "right": shorten(f.text(right), 30)})


_SIMPLE_OPERANDS = frozenset({"identifier", "call", "call_expression", "attribute", "member_expression",
                              "pointer_expression",
                              "field_access", "method_invocation", "field_expression", "selector_expression",
                              "subscript", "subscript_expression", "index_expression", "array_access",
                              "parenthesized_expression"})


def _negated(f: FunctionSyntax, cond: SyntaxNode) -> str | None:
    text = f.text(cond)
    operand = negation_operand(f, cond)
    if operand is not None:
        inner = f.unwrap(operand) if operand.type == "parenthesized_expression" else operand
        return f.text(inner) if inner is not None else None
    if is_comparison(f, cond):
        return None
    if f.language == "python":
        if cond.type == "boolean_operator" or cond.type == "conditional_expression":
            return f"not ({text})"
        return f"not {text}"
    if cond.type in _SIMPLE_OPERANDS or cond.type in ("this", "true", "false"):
        return f"!{text}"
    if cond.type == f.binary_type():
        parts = f.binary_parts(cond)
        if parts is not None and parts[3] in ("&&", "||"):
            return f"!({text})"
    return None


def negated_condition(f: FunctionSyntax) -> Iterator[Edit]:
    """The condition of an `if`/`while` negated, or its negation dropped."""
    for node in f.typed(*f.if_types(), *f.while_types()):
        cond = f.condition(node)
        if cond is None or cond.type in ("let_condition", "named_expression", "assignment_expression"):
            continue
        raw = node.child_by_field("condition")
        if f.language == "python" and raw is not None and raw.type == "parenthesized_expression" \
                and negation_operand(f, cond) is None and not is_comparison(f, cond):
            start = f.start(raw)  # `if (a and\n b):` -> `if not (a and\n b):` edits one line only
            yield Edit("negated_condition", start, start, "not ",
                       {"kind": "added", "good_expr": shorten(f.text(raw)), "bad_expr": shorten("not " + f.text(raw)),
                        "statement": "while" if "while" in node.type else "if"})
            continue
        new = _negated(f, cond)
        if new is None:
            continue
        start, end = f.span(cond)
        kind = "removed" if negation_operand(f, cond) is not None else "added"
        yield Edit("negated_condition", start, end, new,
                   {"kind": kind, "good_expr": shorten(f.text(cond)), "bad_expr": shorten(new),
                    "statement": "while" if "while" in node.type or node.type == "do_statement" else "if"})


def is_vs_equality(f: FunctionSyntax) -> Iterator[Edit]:
    """Python `==` <-> `is`, `!=` <-> `is not` (not against None/True/False)."""
    if f.language != "python":
        return
    swap = {"==": "is", "!=": "is not", "is": "==", "is not": "!="}
    for node, (left, op_start, op_end, op, right) in _comparisons_any(f):
        if op not in swap:
            continue
        if {left.type, right.type} & {"none", "true", "false"}:
            continue  # `x is None` == `x == None` in practice: not a bug
        alt = swap[op]
        yield Edit("is_vs_equality", op_start, op_end, alt,
                   {"good": op, "bad": alt, "good_expr": shorten(f.text(node)),
                    "bad_expr": shorten(replace_in(f, node, op_start, op_end, alt))})


def _comparisons_any(f: FunctionSyntax):
    for node in f.typed("comparison_operator"):
        parts = f.binary_parts(node)
        if parts is not None:
            yield node, parts


def assignment_vs_equality(f: FunctionSyntax) -> Iterator[Edit]:
    """`if (x == y)` -> `if (x = y)`, and a statement `x = y;` -> `x == y;` (C-like languages)."""
    if f.language not in C_LIKE:
        return
    for node in f.typed("if_statement", "while_statement"):
        cond = f.condition(node)
        if cond is None or cond.type != "binary_expression":
            continue
        parts = f.binary_parts(cond)
        if parts is None or parts[3] not in ("==", "===") or parts[0].type != "identifier":
            continue
        _, op_start, op_end, op, _ = parts
        yield Edit("assignment_vs_equality", op_start, op_end, "=",
                   {"kind": "assign_in_condition", "good": op, "bad": "=", "good_expr": shorten(f.text(cond)),
                    "bad_expr": shorten(replace_in(f, cond, op_start, op_end, "="))})
    if f.language == "java":
        return
    for node in f.typed("expression_statement"):
        inner = f.named(node)
        if len(inner) != 1 or inner[0].type != "assignment_expression":
            continue
        assign = inner[0]
        op = assign.child_by_field("operator")
        left = assign.child_by_field("left")
        if left is None or left.type != "identifier":
            continue
        tokens = [c for c in assign.children if c.type == "="] if op is None else [op]
        if not tokens or f.text(tokens[0]) != "=":
            continue
        op_start, op_end = f.span(tokens[0])
        yield Edit("assignment_vs_equality", op_start, op_end, "==",
                   {"kind": "comparison_statement", "good": "=", "bad": "==", "good_expr": shorten(f.text(assign)),
                    "bad_expr": shorten(replace_in(f, assign, op_start, op_end, "=="))})


def and_or_swap(f: FunctionSyntax) -> Iterator[Edit]:
    """`and` <-> `or`, `&&` <-> `||` (not where an operand is a default value)."""
    swap = {"and": "or", "or": "and", "&&": "||", "||": "&&"}
    types = ("boolean_operator",) if f.language == "python" else (f.binary_type(),)
    for node in f.typed(*types):
        parts = f.binary_parts(node)
        if parts is None or parts[3] not in swap:
            continue
        left, op_start, op_end, op, right = parts
        if is_literal(left) or is_literal(right):
            continue  # `x || 0`, `x or []`: a default value, not a condition
        alt = swap[op]
        yield Edit("and_or_swap", op_start, op_end, alt,
                   {"good": op, "bad": alt, "good_expr": shorten(f.text(node)),
                    "bad_expr": shorten(replace_in(f, node, op_start, op_end, alt))})


def increment_swap(f: FunctionSyntax) -> Iterator[Edit]:
    """`++` <-> `--`, `+=` <-> `-=`."""
    swap = {"++": "--", "--": "++", "+=": "-=", "-=": "+="}
    for node in f.typed(*UPDATE_TYPES, AUG_ASSIGN_TYPE.get(f.language, "assignment_expression")):
        tokens = [c for c in node.children if not c.is_named and c.type in swap]
        if len(tokens) != 1:
            continue
        right = node.child_by_field("right")
        if right is not None and is_collection(right):
            continue  # `parts += ("x",)`: `-=` would not even run
        start, end = f.span(tokens[0])
        alt = swap[tokens[0].type]
        target = node.child_by_field("left") or node.child_by_field("argument") or (f.named(node) or [node])[0]
        yield Edit("increment_swap", start, end, alt,
                   {"good": tokens[0].type, "bad": alt, "var": shorten(f.text(target), 30),
                    "good_expr": shorten(f.text(node)), "bad_expr": shorten(replace_in(f, node, start, end, alt))})
