"""Operator family "boundaries": off-by-one loop bounds, ranges, lengths and indices, and a wrong
step or base case in a recursive function."""

from __future__ import annotations

import re
from collections.abc import Iterator

from manyskills.data.node_types import ECMA, INT_TYPES
from manyskills.data.operators.base import (
    ATOMIC,
    BOUND_SWAP,
    Edit,
    int_value,
    is_comparison,
    is_plus_minus_one,
    jump_of,
    literal_alternatives,
    plus_one,
    replace_in,
    shorten,
)
from manyskills.data.syntax import FunctionSyntax, unwrap_statement
from manyskills.index.treesitter import SyntaxNode


def off_by_one(f: FunctionSyntax) -> Iterator[Edit]:
    """Loop bound `<` <-> `<=`, a range/length/index end moved by one, Rust `..` <-> `..=`."""
    spaced = f.spaced_operators()
    # loop bounds: `i < n` <-> `i <= n`
    for loop in f.typed(*f.loop_types(), *f.while_types()):
        cond = f.condition(loop)
        if cond is None:
            continue
        parts = f.binary_parts(cond) if cond.type in (f.binary_type(), "comparison_operator") else None
        if parts is None or parts[3] not in BOUND_SWAP:
            continue
        left, op_start, op_end, op, right = parts
        alt = BOUND_SWAP[op]
        yield Edit("off_by_one", op_start, op_end, alt,
                   {"kind": "loop_bound", "good": op, "bad": alt, "var": shorten(f.text(left), 30),
                    "bound": shorten(f.text(right), 30), "good_expr": shorten(f.text(cond)),
                    "bad_expr": shorten(replace_in(f, cond, op_start, op_end, alt))})
    # python range(...) ends
    if f.language == "python":
        for call in f.typed("call"):
            parts = f.call_parts(call)
            if parts is None or parts[0] != "range" or not 1 <= len(parts[1]) <= 3:
                continue
            args = parts[1]
            if any(a.type in ("keyword_argument", "list_splat") for a in args):
                continue
            end_arg = args[0] if len(args) == 1 else args[1]
            yield from _bound_edits(f, end_arg, call, "range", spaced)
    # len(x) - 1 <-> len(x)
    for node in f.typed(f.binary_type()):
        pm = is_plus_minus_one(f, node)
        if pm is not None and _len_like(f, pm[0]) and not _inside_range_call(f, node):
            yield Edit("off_by_one", f.start(node), f.end(node), f.text(pm[0]),
                       {"kind": "length", "good_expr": shorten(f.text(node)), "bad_expr": shorten(f.text(pm[0]))})
    # index / slice bounds: x[i] -> x[i + 1], x[i - 1] -> x[i]
    spaced_index = f.spaced_operators(in_index=True)
    for index in _index_nodes(f):
        yield from _bound_edits(f, index, index.parent, "index", spaced_index)
    # rust ranges: a..b <-> a..=b
    if f.language == "rust":
        for node in f.typed("range_expression"):
            for child in node.children:
                if child.type in ("..", "..="):
                    alt = "..=" if child.type == ".." else ".."
                    start, end = f.span(child)
                    yield Edit("off_by_one", start, end, alt,
                               {"kind": "range", "good_expr": shorten(f.text(node)),
                                "bad_expr": shorten(replace_in(f, node, start, end, alt))})


def _len_like(f: FunctionSyntax, node: SyntaxNode) -> bool:
    text = f.text(node)
    if node.type in ("call", "call_expression"):
        return bool(re.fullmatch(r"(len|strlen)\(\s*[\w.\[\]]+\s*\)|[\w.\[\]]+\.(len|size|length|count)\(\)", text))
    if node.type in ("method_invocation",):
        return bool(re.fullmatch(r"[\w.]+\.(size|length)\(\)", text))
    if node.type in ("member_expression", "field_access", "selector_expression"):
        return text.endswith(".length")
    return False


def _inside_range_call(f: FunctionSyntax, node: SyntaxNode) -> bool:
    parent = node.parent
    if parent is not None and parent.type == "argument_list":
        call = parent.parent
        return call is not None and call.type == "call" and f.text(call).startswith("range(")
    return False


def _index_nodes(f: FunctionSyntax) -> Iterator[SyntaxNode]:
    lang = f.language
    if lang == "python":
        for node in f.typed("subscript"):
            for sub in node.children_by_field("subscript"):
                if sub.type == "slice":
                    yield from (c for c in f.named(sub))
                else:
                    yield sub
    elif lang in ECMA:
        for node in f.typed("subscript_expression"):
            index = node.child_by_field("index")
            if index is not None:
                yield index
    elif lang == "java":
        for node in f.typed("array_access"):
            index = node.child_by_field("index")
            if index is not None:
                yield index
    elif lang in ("c", "cpp"):
        for node in f.typed("subscript_expression"):
            index = node.child_by_field("index")
            if index is None:
                indices = node.child_by_field("indices")
                inner = f.named(indices) if indices is not None else []
                index = inner[0] if len(inner) == 1 else None
            if index is not None:
                yield index
    elif lang == "go":
        for node in f.typed("index_expression"):
            index = node.child_by_field("index")
            if index is not None:
                yield index
        for node in f.typed("slice_expression"):
            for name in ("start", "end"):
                bound = node.child_by_field(name)
                if bound is not None:
                    yield bound
    elif lang == "rust":
        for node in f.typed("index_expression"):
            inner = f.named(node)
            if len(inner) == 2:
                yield inner[1]


_POSITION_NAME = re.compile(
    r"(?i)^(i|j|k|n|m|ii|jj|idx|index|pos|position|mid|middle|lo|hi|low|high|start|end|begin|stop|off|offset|ix|"
    r"row|col|column|cur|current|count|cnt|len|length|size|p|q|l|r|left|right|first|last|at|nxt|prev|next|"
    r"level|depth|limit)(_?\w*)?$|^\w*(_?(idx|index|pos|start|end|offset|count|len|size|Index|Pos|Start|End|"
    r"Offset|Count|Len|Size))$"
)


def _bound_edits(f: FunctionSyntax, bound: SyntaxNode, context: SyntaxNode | None, kind: str,
                 spaced: bool) -> Iterator[Edit]:
    """`n` -> `n + 1` / `n - 1`; `n - 1` / `n + 1` -> `n`; `10` -> `11` / `9`."""
    if bound is None:
        return
    start, end = f.span(bound)
    context_text = f.text(context) if context is not None else f.text(bound)
    pm = is_plus_minus_one(f, bound)
    if pm is not None:
        options = [f.text(pm[0])]
    elif bound.type in ATOMIC:
        if bound.type in INT_TYPES and int_value(f.text(bound)) is None:
            return
        if bound.type == "identifier" and kind == "index" and (
                f.text(bound) not in f.variables()[0] or not _POSITION_NAME.match(f.text(bound))):
            return
        if kind == "index" and bound.type in INT_TYPES and f.text(bound) == "0":
            options = [plus_one(f, bound, +1, spaced)]
        else:
            options = [plus_one(f, bound, +1, spaced), plus_one(f, bound, -1, spaced)]
    else:
        return
    for new in options:
        if new == f.text(bound):
            continue
        bad_context = replace_in(f, context, start, end, new) if context is not None else new
        yield Edit("off_by_one", start, end, new,
                   {"kind": kind, "good_expr": shorten(context_text), "bad_expr": shorten(bad_context),
                    "good": shorten(f.text(bound), 30), "bad": shorten(new, 30)})


def wrong_recursive_argument(f: FunctionSyntax) -> Iterator[Edit]:
    """A recursive call's `n - 1` -> `n` / `n - 2`, or its step changed."""
    if not f.name:
        return
    for call in f.typed(*f.call_types()):
        parts = f.call_parts(call)
        if parts is None:
            continue
        callee, args = parts
        last = re.split(r"::|\.|->", callee)[-1]
        if last != f.name:
            continue
        for arg in args:
            arg_node = arg.child_by_field("value") if arg.type == "keyword_argument" else arg
            if arg_node is None:
                continue
            pm = is_plus_minus_one(f, arg_node)
            if pm is None:
                parts2 = f.binary_parts(arg_node) if arg_node.type == f.binary_type() else None
                if parts2 is None or parts2[3] not in ("+", "-", "//", "/", ">>") \
                        or parts2[4].type not in INT_TYPES:
                    continue
                right = parts2[4]
                value = int_value(f.text(right))
                if value is None:
                    continue
                start, end = f.span(right)
                alternatives = [(start, end, str(value + 1))]
            else:
                left = pm[0]
                start, end = f.span(arg_node)
                right_start = f.start(f.binary_parts(arg_node)[4])
                alternatives = [(start, end, f.text(left)), (right_start, end, "2")]
            for a_start, a_end, new in alternatives:
                yield Edit("wrong_recursive_argument", a_start, a_end, new,
                           {"function": f.name, "good_expr": shorten(f.text(call)),
                            "bad_expr": shorten(replace_in(f, call, a_start, a_end, new)),
                            "good": shorten(f.text(arg_node), 30),
                            "bad": shorten(replace_in(f, arg_node, a_start, a_end, new), 30)})


def wrong_base_case(f: FunctionSyntax) -> Iterator[Edit]:
    """The literal or the bound of a recursion's base-case comparison changed."""
    for node in f.typed(*f.if_types()):
        if jump_of(f, node) is None:
            continue
        jump = unwrap_statement(jump_of(f, node))
        if jump.type not in ("return_statement", "return_expression"):
            continue
        cond = f.condition(node)
        parts = f.binary_parts(cond) if cond is not None and is_comparison(f, cond) else None
        if parts is None:
            continue
        left, op_start, op_end, op, right = parts
        literal = right if right.type in INT_TYPES else left if left.type in INT_TYPES else None
        options = []
        if literal is not None:
            start, end = f.span(literal)
            options += [(start, end, alt) for alt in literal_alternatives(f, literal)]
        if op in BOUND_SWAP:
            options.append((op_start, op_end, BOUND_SWAP[op]))
        for start, end, new in options:
            yield Edit("wrong_base_case", start, end, new,
                       {"good_expr": shorten(f.text(cond)), "bad_expr": shorten(replace_in(f, cond, start, end, new)),
                        "returned": shorten(f.text(jump), 40)})
