"""Operator family "wrong operand": the right operator applied to the wrong thing (swapped arguments
or branches, a misused variable, a wrong literal, return value or attribute)."""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Iterator

from manyskills.data.node_types import (
    BOOL_TYPES,
    FLOAT_TYPES,
    INT_TYPES,
    RETURN_TYPE,
    SELF_NAMES,
    STRING_TYPES,
    TERNARY_TYPE,
)
from manyskills.data.operators.base import (
    Edit,
    in_return_expr,
    is_callee,
    literal_alternatives,
    nearby_names,
    replace_in,
    shorten,
)
from manyskills.data.syntax import FunctionSyntax
from manyskills.index.treesitter import SyntaxNode


def swapped_branches(f: FunctionSyntax) -> Iterator[Edit]:
    """The two branches of a one-line conditional expression swapped."""
    kind = TERNARY_TYPE.get(f.language)
    candidates = []
    if kind:
        for node in f.typed(kind):
            if f.language == "python":
                parts = f.named(node)
                if len(parts) != 3:
                    continue
                first, cond, second = parts
            else:
                first, second = node.child_by_field("consequence"), node.child_by_field("alternative")
                cond = node.child_by_field("condition")
                if first is None or second is None or cond is None:
                    continue
            candidates.append((node, cond, first, second))
    if f.language == "rust":
        for node in f.typed("if_expression"):
            alternative = node.child_by_field("alternative")
            consequence = node.child_by_field("consequence")
            if alternative is None or consequence is None:
                continue
            blocks = [c for c in f.named(alternative) if c.type == "block"]
            if len(blocks) != 1:
                continue
            a, b = f.named(consequence), f.named(blocks[0])
            if len(a) == 1 and len(b) == 1 and a[0].type != "expression_statement" \
                    and b[0].type != "expression_statement":
                candidates.append((node, node.child_by_field("condition"), a[0], b[0]))
    for node, cond, first, second in candidates:
        start, end = f.span(node)
        if "\n" in f.code[start:end]:
            continue
        a_text, b_text = f.text(first), f.text(second)
        if a_text == b_text:
            continue
        a_start, a_end = f.span(first)
        b_start, b_end = f.span(second)
        new = b_text + f.code[a_end:b_start] + a_text
        yield Edit("swapped_branches", a_start, b_end, new,
                   {"cond": shorten(f.text(cond), 40) if cond is not None else "", "first": shorten(a_text, 30),
                    "second": shorten(b_text, 30), "good_expr": shorten(f.text(node)),
                    "bad_expr": shorten(replace_in(f, node, a_start, b_end, new))})


_COMMUTATIVE = frozenset({"max", "min", "Math.max", "Math.min", "std::max", "std::min", "hypot", "math.hypot",
                          "gcd", "math.gcd", "set", "print", "isinstance", "issubclass", "getattr", "setattr",
                          "hasattr", "format", "join", "os.path.join", "Objects.equals", "equals",
                          "assertEqual", "assertEquals", "assert_eq", "assert_ne", "assertNotEqual", "zip",
                          "console.log", "printf", "fprintf", "println", "print!", "Printf", "Println",
                          "Sprintf", "Errorf", "log", "debug", "info", "warn", "warning", "error",
                          "String.format"})
_ARG_KINDS = frozenset({"identifier", "attribute", "member_expression", "field_access", "field_expression",
                        "selector_expression"}) | INT_TYPES | STRING_TYPES | FLOAT_TYPES


def swapped_arguments(f: FunctionSyntax) -> Iterator[Edit]:
    """Two adjacent same-kind arguments of a non-commutative call swapped."""
    for call in f.typed(*f.call_types()):
        parts = f.call_parts(call)
        if parts is None:
            continue
        callee, args = parts
        short = callee.split(".")[-1].split("::")[-1]
        if callee in _COMMUTATIVE or short in _COMMUTATIVE:
            continue
        for a, b in itertools.pairwise(args):
            if a.type != b.type or a.type not in _ARG_KINDS:
                continue
            a_text, b_text = f.text(a), f.text(b)
            if a_text == b_text:
                continue
            a_start, a_end = f.span(a)
            b_start, b_end = f.span(b)
            between = f.code[a_end:b_start]
            if "\n" in between:
                continue
            new = b_text + between + a_text
            yield Edit("swapped_arguments", a_start, b_end, new,
                       {"callee": shorten(callee, 40), "first": shorten(a_text, 30), "second": shorten(b_text, 30),
                        "good_expr": shorten(f.text(call)), "bad_expr": shorten(replace_in(f, call, a_start, b_end, new))})


def variable_misuse(f: FunctionSyntax) -> Iterator[Edit]:
    """A variable read replaced by another variable in scope nearby."""
    _, uses, _, _ = f.variables()
    for name, nodes in uses.items():
        if name in SELF_NAMES:
            continue
        for node in nodes:
            if is_callee(f, node) or in_return_expr(f, node):
                continue
            start, end = f.span(node)
            line = f.line_of(start)
            line_start = f.line_starts[line]
            line_text = f.lines[line]
            for other in nearby_names(f, name, start):
                bad_line = line_text[: start - line_start] + other + line_text[end - line_start:]
                yield Edit("variable_misuse", start, end, other,
                           {"good": name, "bad": other, "line_text": shorten(bad_line.strip())})


def wrong_literal(f: FunctionSyntax) -> Iterator[Edit]:
    """A small number, boolean, null or empty string replaced by a neighbouring value."""
    for node in f.nodes:
        if node.type not in INT_TYPES and node.type not in FLOAT_TYPES and node.type not in BOOL_TYPES \
                and node.type not in ("none", "null", "undefined", "string"):
            continue
        if not f.in_body(node) or in_return_expr(f, node):
            continue
        parent = node.parent
        if parent is None or parent.type in ("case_statement", "switch_case", "switch_label", "expression_case",
                                             "match_pattern", "unary_expression", "unary_operator",
                                             "keyword_argument", "default_parameter", "attribute",
                                             "case_clause", "pair", "dictionary"):
            continue
        if node.type in INT_TYPES and (parent.type in ("subscript", "slice") and f.language == "python"):
            pass
        alternatives = literal_alternatives(f, node)
        line_context = parent.type in ("argument_list", "arguments", "expression_list", "literal_value",
                                       "array", "list", "tuple", "initializer_list", "array_expression")
        if node.type in INT_TYPES and parent.type == f.binary_type():
            parts = f.binary_parts(parent)
            if parts is not None and parts[3] in ("+", "-", "*", "/", "//", "%", "<<", ">>", "+=", "-="):
                alternatives = [a for a in alternatives if a not in ("0", "1")]
        for alt in alternatives:
            start, end = f.span(node)
            if line_context:
                good_expr, bad_expr = _line_texts(f, start, end, alt)
            else:
                good_expr, bad_expr = f.text(parent), replace_in(f, parent, start, end, alt)
            yield Edit("wrong_literal", start, end, alt,
                       {"good": f.text(node), "bad": alt, "good_expr": shorten(good_expr), "bad_expr": shorten(bad_expr)})


def _line_texts(f: FunctionSyntax, start: int, end: int, new: str) -> tuple[str, str]:
    """(original line, mutated line), stripped, for an edit within one line."""
    line = f.line_of(start)
    line_start = f.line_starts[line]
    text = f.lines[line]
    if f.line_of(end) != line:
        return text.strip(), text.strip()
    return text.strip(), (text[: start - line_start] + new + text[end - line_start:]).strip()


def _return_values(f: FunctionSyntax) -> Iterator[tuple[SyntaxNode, SyntaxNode]]:
    for node in f.typed(RETURN_TYPE.get(f.language, "return_statement")):
        values = f.named(node)
        if len(values) != 1:
            continue
        value = values[0]
        if value.type == "expression_list":  # go `return x, err`
            inner = f.named(value)
            if not inner:
                continue
            value = inner[0]
        yield node, value


def wrong_return_value(f: FunctionSyntax) -> Iterator[Edit]:
    """A returned variable or literal replaced by another plausible one."""
    for node, value in _return_values(f):
        start, end = f.span(value)
        whole = value.parent if value.parent is not None and value.parent.type == "expression_list" else value
        alternatives: list[str] = []
        kind = "literal"
        if value.type == "identifier" and f.text(value) in f.variables()[0]:
            kind = "variable"
            alternatives = nearby_names(f, f.text(value), start, window=12)
        elif value.type in BOOL_TYPES or value.type in INT_TYPES or value.type in FLOAT_TYPES:
            alternatives = literal_alternatives(f, value)
            if value.type in INT_TYPES and f.text(value) == "-1":
                alternatives = ["0"]
        elif value.type in ("unary_expression", "unary_operator") and f.text(value) == "-1":
            alternatives = ["0", "1"]
        for alt in alternatives:
            yield Edit("wrong_return_value", start, end, alt,
                       {"kind": kind, "good": shorten(f.text(whole), 30),
                        "bad": shorten(replace_in(f, whole, start, end, alt), 30), "good_name": f.text(value),
                        "bad_name": alt, "function": f.name or "the function"})


def wrong_attribute(f: FunctionSyntax) -> Iterator[Edit]:
    """An attribute or method name replaced by another used on the same object (or elsewhere)."""
    entries = []
    for node in f.typed(*f.attribute_types()):
        parts = f.attribute_parts(node)
        if parts is None:
            continue
        obj, name = parts
        if obj is None:
            continue
        entries.append((node, f.text(obj), f.text(name), name, f.is_called(node)))
    by_kind: dict[bool, set[str]] = defaultdict(set)
    by_object: dict[tuple[str, bool], set[str]] = defaultdict(set)
    for _, obj, name, _, called in entries:
        by_kind[called].add(name)
        by_object[(obj, called)].add(name)
    for node, obj, name, name_node, called in entries:
        same = sorted(by_object[(obj, called)] - {name})
        others = same or sorted(by_kind[called] - {name})
        others = [o for o in others if not o.startswith("__") and not re.search(rf"\b{re.escape(o)}\b", obj)]
        if not others or name.startswith("__"):
            continue
        start, end = f.span(name_node)
        for other in others[:6]:
            yield Edit("wrong_attribute", start, end, other,
                       {"kind": "method" if called else "attribute", "good": name, "bad": other, "object": shorten(obj, 30),
                        "good_expr": shorten(f.text(node)), "bad_expr": shorten(replace_in(f, node, start, end, other))})
