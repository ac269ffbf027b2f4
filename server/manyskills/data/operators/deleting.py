"""Operator family "deleting": a check, an `await` or a `break` that is missing. Balanced against
the inserting operators so that length does not tell buggy code from clean code."""

from __future__ import annotations

import re
from collections.abc import Iterator

from manyskills.data.node_types import BLOCK_TYPES, BREAK_TYPE, FUNCTION_TYPES
from manyskills.data.operators.base import (
    Edit,
    block_statements,
    delete_lines_edit,
    is_comparison,
    jump_of,
    loop_label,
    negation_operand,
    replace_in,
    shorten,
    statement_node,
)
from manyskills.data.syntax import FunctionSyntax
from manyskills.index.treesitter import SyntaxNode


def removed_check(f: FunctionSyntax) -> Iterator[Edit]:
    """A guard (`if <check>: return`) deleted, or one conjunct of a condition dropped."""
    # (a) a guard `if <check>: return/raise/continue` dropped entirely
    for node in f.typed(*f.if_types()):
        if node.type == "elif_clause":
            continue
        statement = statement_node(node)
        if not _is_guard(f, node) or statement.parent is None:
            continue
        siblings = block_statements(f, statement.parent)
        if len(siblings) < 2 or statement.parent.type not in BLOCK_TYPES:
            continue
        lines = f.whole_lines(statement)
        if lines is None:
            continue
        span = delete_lines_edit(f, *lines)
        if span is None:
            continue
        cond = f.condition(node)
        jump = jump_of(f, node)
        yield Edit("removed_check", span[0], span[1], "",
                   {"kind": "guard", "cond": shorten(f.text(cond), 50) if cond is not None else "",
                    "jump": shorten(f.text(jump), 40) if jump is not None else ""})
    # (b) one conjunct of a condition dropped
    for node in f.typed(*f.if_types(), *f.while_types()):
        cond = f.condition(node)
        if cond is None:
            continue
        for bool_node in [cond, *[n for n in cond.walk(named_only=True) if n.key != cond.key]]:
            parts = _bool_parts(f, bool_node)
            if parts is None:
                continue
            left, _, _, op, right = parts
            if _has_side_effect(left) or _has_side_effect(right):
                continue  # dropping `(x = next()) != null` would leave `x` unassigned
            if _check_like(f, left):
                start, end = f.start(left), f.start(right)
                yield Edit("removed_check", start, end, "",
                           {"kind": "conjunct", "check": shorten(f.text(left), 50), "op": op,
                            "good_expr": shorten(f.text(cond)),
                            "bad_expr": shorten(replace_in(f, cond, start, end, ""))})
            if _check_like(f, right) and op in ("and", "&&"):
                start, end = f.end(left), f.end(right)
                yield Edit("removed_check", start, end, "",
                           {"kind": "conjunct", "check": shorten(f.text(right), 50), "op": op,
                            "good_expr": shorten(f.text(cond)),
                            "bad_expr": shorten(replace_in(f, cond, start, end, ""))})


def _is_guard(f: FunctionSyntax, node: SyntaxNode) -> bool:
    if node.type not in ("if_statement", "if_expression") or node.child_by_field("alternative") is not None:
        return False
    if f.language == "python" and any(c.type in ("elif_clause", "else_clause") for c in node.children):
        return False
    if f.language == "go" and node.child_by_field("initializer") is not None:
        return False
    return jump_of(f, node) is not None


def _check_like(f: FunctionSyntax, node: SyntaxNode) -> bool:
    node = f.unwrap(node) or node
    if is_comparison(f, node) or negation_operand(f, node) is not None or node.type == "identifier":
        return True
    if node.type in ("call", "call_expression", "method_invocation"):
        return bool(re.match(r"(isinstance|hasattr|callable|Array\.isArray|\w+\.(has|contains|containsKey|"
                             r"isEmpty|is_empty|is_some|is_none|is_ok|startswith|endswith|exists))\b", f.text(node)))
    if node.type == f.binary_type():
        parts = f.binary_parts(node)
        return parts is not None and parts[3] in ("instanceof", "in")
    return False


_EFFECT_TYPES = frozenset({"assignment_expression", "assignment", "named_expression", "augmented_assignment",
                           "augmented_assignment_expression", "update_expression", "await", "await_expression",
                           "yield", "short_var_declaration", "let_condition"})


def _has_side_effect(node: SyntaxNode) -> bool:
    return any(n.type in _EFFECT_TYPES for n in node.walk(named_only=True))


def _bool_parts(f: FunctionSyntax, node: SyntaxNode):
    if node.type == "boolean_operator" or node.type == f.binary_type():
        parts = f.binary_parts(node)
        if parts is not None and parts[3] in ("and", "or", "&&", "||"):
            return parts
    return None


def missing_await(f: FunctionSyntax) -> Iterator[Edit]:
    """An `await` dropped (Python, JavaScript/TypeScript)."""
    kind = "await" if f.language == "python" else "await_expression" if f.family == "ecma" else None
    if kind is None:
        return
    for node in f.typed(kind):
        inner = f.named(node)
        if len(inner) != 1:
            continue
        start, inner_start = f.start(node), f.start(inner[0])
        if "\n" in f.code[start:inner_start]:
            continue
        yield Edit("missing_await", start, inner_start, "", {"expr": shorten(f.text(inner[0]), 50)})


def missing_break(f: FunctionSyntax) -> Iterator[Edit]:
    """A `break` deleted from a switch case (not the last) or a loop body."""
    break_type = BREAK_TYPE.get(f.language, "break_statement")
    for node in f.typed(break_type):
        statement = statement_node(node)
        container = statement.parent
        if container is None or f.named(node):
            continue  # labelled / valued breaks are left alone
        lines = f.whole_lines(statement)
        if lines is None or lines[0] != lines[1]:
            continue
        siblings = [c for c in f.named(container) if c.type not in ("switch_label", "{", "}")]
        if container.type in ("switch_case", "case_statement", "switch_block_statement_group"):
            kind = "switch"
            owner = container.parent
            cases = [c for c in f.named(owner)] if owner is not None else []
            if not cases or cases[-1].key == container.key:
                continue  # the last case falls out of the switch anyway
            body = [c for c in siblings if c.key != statement.key and c.type not in ("value",)]
            body = [c for c in body if f.start(c) > f.start(_case_colon(f, container))]
            if not body:
                continue
        elif container.type in BLOCK_TYPES:
            kind = "loop"
            if len(f.statements(container)) < 2:
                continue
            if not _inside_loop(f, container):
                continue
        else:
            continue
        span = delete_lines_edit(f, lines[0], lines[1])
        if span is None:
            continue
        if kind == "switch":
            context = shorten(f.lines[f.line_of(f.start(container))].strip().rstrip("{").strip(), 40)
        else:
            context = loop_label(f, _enclosing_loop(f, container))
        yield Edit("missing_break", span[0], span[1], "", {"kind": kind, "context": context})


def _case_colon(f: FunctionSyntax, case: SyntaxNode) -> SyntaxNode:
    for child in case.children:
        if child.type == ":":
            return child
    return case


def _inside_loop(f: FunctionSyntax, node: SyntaxNode) -> bool:
    parent = node.parent
    loops = set(f.loop_types())
    while parent is not None:
        if parent.type in loops:
            return True
        if parent.type in FUNCTION_TYPES or parent.type in ("switch_statement", "switch_expression"):
            return False
        parent = parent.parent
    return False


def _enclosing_loop(f: FunctionSyntax, node: SyntaxNode) -> SyntaxNode:
    parent = node.parent
    loops = set(f.loop_types())
    while parent is not None and parent.type not in loops:
        parent = parent.parent
    return parent or node
