"""What the mutation operators share: the `Edit` they yield, text helpers for the notes' snippets,
and syntax predicates more than one operator family asks (comparisons, negations, literals, guards,
nearby variables)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from manyskills.data.node_types import (
    BLOCK_TYPES,
    BOOL_TYPES,
    COMMENT_TYPES,
    FLOAT_TYPES,
    INT_TYPES,
    JUMP_TYPES,
    KEYWORDS,
    NULL_TYPES,
    SELF_NAMES,
    STRING_TYPES,
)
from manyskills.data.syntax import FunctionSyntax, unwrap_statement
from manyskills.index.treesitter import SyntaxNode


@dataclass
class Edit:
    operator: str
    start: int
    end: int
    new: str
    info: dict = field(default_factory=dict)

    def apply(self, code: str) -> str:
        return code[: self.start] + self.new + code[self.end:]

    def deltas(self, code: str) -> tuple[int, int]:
        old = code[self.start:self.end]
        return len(self.new) - len(old), self.new.count("\n") - old.count("\n")


def shorten(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def replace_in(f: FunctionSyntax, node: SyntaxNode, start: int, end: int, new: str) -> str:
    """The node's text with [start, end) (offsets into the code) replaced by `new`."""
    node_start, node_end = f.span(node)
    return f.code[node_start:start] + new + f.code[end:node_end]


def int_value(text: str) -> int | None:
    return int(text) if re.fullmatch(r"\d{1,3}", text) else None


def plus_one(f: FunctionSyntax, expr: SyntaxNode, delta: int, spaced: bool) -> str:
    text = f.text(expr)
    value = int_value(text)
    if value is not None and expr.type in INT_TYPES:
        return str(value + delta) if value + delta >= 0 else text
    sp = " " if spaced else ""
    return f"{text}{sp}{'+' if delta > 0 else '-'}{sp}1"


ATOMIC = frozenset({"identifier", "call", "call_expression", "attribute", "member_expression", "field_access",
                    "method_invocation", "field_expression", "selector_expression", "subscript",
                    "subscript_expression", "index_expression", "array_access", "parenthesized_expression",
                    "this", "self"}) | INT_TYPES


def is_plus_minus_one(f: FunctionSyntax, node: SyntaxNode) -> tuple[SyntaxNode, str] | None:
    """`X + 1` / `X - 1` -> (X, op)."""
    if node.type != f.binary_type():
        return None
    parts = f.binary_parts(node)
    if parts is None or parts[3] not in ("+", "-"):
        return None
    left, _, _, op, right = parts
    if right.type in INT_TYPES and f.text(right) == "1":
        return left, op
    return None


CMP_SWAP = {"<": ("<=", ">"), "<=": ("<", ">="), ">": (">=", "<"), ">=": (">", "<="), "==": ("!=",),
            "!=": ("==",), "===": ("!==",), "!==": ("===",), "in": ("not in",), "not in": ("in",)}
BOUND_SWAP = {"<": "<=", "<=": "<", ">": ">=", ">=": ">"}


def is_comparison(f: FunctionSyntax, node: SyntaxNode) -> bool:
    if node.type == "comparison_operator":
        return True
    if node.type == f.binary_type():
        parts = f.binary_parts(node)
        return parts is not None and parts[3] in CMP_SWAP
    return False


def negation_operand(f: FunctionSyntax, node: SyntaxNode) -> SyntaxNode | None:
    if node.type == "not_operator":
        return node.child_by_field("argument")
    if node.type == "unary_expression":
        op = node.child_by_field("operator") or (node.children[0] if node.children else None)
        if op is not None and f.text(op) == "!":
            operand = node.child_by_field("argument") or node.child_by_field("operand")
            if operand is None:
                named = f.named(node)
                operand = named[0] if named else None
            return operand
    return None


def is_literal(node: SyntaxNode) -> bool:
    return (node.type in INT_TYPES or node.type in FLOAT_TYPES or node.type in STRING_TYPES
            or node.type in NULL_TYPES or node.type in ("list", "dictionary", "array", "object", "tuple"))


def is_collection(node: SyntaxNode) -> bool:
    """String or collection literal: `"a" - x`, `[a] - b` would be type errors, not plausible bugs."""
    return node.type in STRING_TYPES or node.type in ("list", "tuple", "dictionary", "set", "array", "object",
                                                      "list_comprehension", "array_creation_expression")


def literal_alternatives(f: FunctionSyntax, node: SyntaxNode) -> list[str]:
    text = f.text(node)
    if node.type in INT_TYPES:
        value = int_value(text)
        if value is None or value > 16:
            return []
        if value == 0:
            return ["1"]
        if value == 1:
            return ["0", "2"]
        return [str(value - 1), str(value + 1)]
    if node.type in FLOAT_TYPES:
        return {"0.0": ["1.0"], "1.0": ["0.0"]}.get(text, [])
    if node.type in BOOL_TYPES:
        flipped = _PY_BOOL.get(text) or _BOOL.get(text)
        return [flipped] if flipped else []
    if node.type == "none" and f.language == "python":
        return ["False"]
    if node.type in ("null", "undefined") and f.family == "ecma":
        return ["undefined" if text == "null" else "null"]
    if f.language == "python" and node.type == "string" and text in ('""', "''"):
        return ["None"]
    return []


def nearby_names(f: FunctionSyntax, name: str, at: int, window: int = 8) -> list[str]:
    """Other bound names, in scope at `at`, occurring within `window` lines of it."""
    _, _, occurrences, _ = f.variables()
    bindings = f.variables()[0]
    line = f.line_of(at)
    found = []
    for other in bindings:
        if other == name or other in SELF_NAMES or other in KEYWORDS or not f.in_scope(other, at):
            continue
        if any(abs(f.line_of(f.start(n)) - line) <= window for n in occurrences.get(other, ())):
            found.append(other)
    return sorted(found)


def is_callee(f: FunctionSyntax, node: SyntaxNode) -> bool:
    parent = node.parent
    if parent is None or parent.type not in f.call_types():
        return False
    function = parent.child_by_field("function")
    return function is not None and function.key == node.key


def in_return_expr(f: FunctionSyntax, node: SyntaxNode) -> bool:
    """Is the node the whole returned expression (handled by wrong_return_value)?"""
    parent = node.parent
    if parent is not None and parent.type == "expression_list":
        parent = parent.parent
    return parent is not None and parent.type in ("return_statement", "return_expression")


_PY_BOOL = {"True": "False", "False": "True"}
_BOOL = {"true": "false", "false": "true"}


def block_statements(f: FunctionSyntax, node: SyntaxNode | None) -> list[SyntaxNode]:
    if node is None:
        return []
    if node.type in BLOCK_TYPES:
        return f.statements(node)
    return [node]


def jump_of(f: FunctionSyntax, node: SyntaxNode) -> SyntaxNode | None:
    """The single jump statement forming an if's consequence, if that is all it holds."""
    body = block_statements(f, node.child_by_field("consequence"))
    if len(body) != 1:
        return None
    inner = unwrap_statement(body[0])
    if inner.type not in JUMP_TYPES:
        return None
    values = [c for c in inner.named_children if c.type not in COMMENT_TYPES]
    if inner.type in ("return_statement", "return_expression") and values:
        value = values[0]
        if value.type == "expression_list":
            value = (value.named_children or [value])[0]
        if not (is_literal(value) or value.type in ("identifier", "true", "false", "boolean_literal")
                or re.fullmatch(r"-\s*\d+|\w+\s*\(\s*\)|None|null|nil|Err\(.*\)|errors\.New\(.*\)|"
                                r"\w+(\.\w+)?", " ".join(f.text(value).split()))):
            return None
    return body[0]


def statement_node(node: SyntaxNode) -> SyntaxNode:
    parent = node.parent
    if parent is not None and parent.type == "expression_statement":
        return parent
    return node


def delete_lines_edit(f: FunctionSyntax, first: int, last: int) -> tuple[int, int] | None:
    if last + 1 >= len(f.line_starts):
        return None
    return f.line_starts[first], f.line_starts[last + 1]


def loop_label(f: FunctionSyntax, loop: SyntaxNode) -> str:
    text = f.lines[f.line_of(f.start(loop))].strip()
    return shorten(text.rstrip("{:").strip(), 50)
