"""Operator family "inserting": a plausible but wrong statement added (an extra increment or break,
a duplicated statement or assignment, a reset or a return inside a loop)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from manyskills.data.node_types import (
    AUG_ASSIGN_TYPE,
    BLOCK_TYPES,
    COMMENT_TYPES,
    JUMP_TYPES,
    RETURN_TYPE,
    SELF_NAMES,
    UPDATE_TYPES,
)
from manyskills.data.operators.base import Edit, is_callee, loop_label, nearby_names, shorten, statement_node
from manyskills.data.syntax import FunctionSyntax, unwrap_statement
from manyskills.index.treesitter import SyntaxNode


def _body_of(f: FunctionSyntax, loop: SyntaxNode) -> SyntaxNode | None:
    body = loop.child_by_field("body")
    if body is None or body.type not in BLOCK_TYPES:
        return None
    return body


def _insert_line_before(f: FunctionSyntax, statement: SyntaxNode, text: str) -> tuple[int, str] | None:
    """(offset, text) inserting `text` as a new line above `statement`, with its indentation."""
    lines = f.whole_lines(statement)
    if lines is None:
        return None
    indent = f.indent_of_line(lines[0])
    return f.line_starts[lines[0]], indent + text + f.cr + "\n"


def _insert_line_after(f: FunctionSyntax, statement: SyntaxNode, text: str, indent: str | None = None
                       ) -> tuple[int, str] | None:
    lines = f.whole_lines(statement)
    if lines is None or lines[1] + 1 >= len(f.line_starts):
        return None
    if indent is None:
        indent = f.indent_of_line(lines[0])
    return f.line_starts[lines[1] + 1], indent + text + f.cr + "\n"


def _last_statement_ok(f: FunctionSyntax, block: SyntaxNode) -> SyntaxNode | None:
    statements = f.statements(block)
    if not statements:
        return None
    last = statements[-1]
    if unwrap_statement(last).type in JUMP_TYPES:
        return None
    if f.language != "python":  # the closing brace must be on a later line
        close = block.children[-1] if block.children else None
        if close is None or close.type != "}" or f.line_of(f.start(close)) == f.line_of(f.end(last)):
            return None
    return last


def _increment_text(f: FunctionSyntax, var: str, template: str | None = None) -> str:
    if template is not None:
        return template
    if f.language == "python":
        return f"{var} += 1"
    if f.language == "rust":
        return f"{var} += 1;"
    if f.language == "go":
        return f"{var}++"
    return f"{var}++;"


def extra_increment(f: FunctionSyntax) -> Iterator[Edit]:
    """The loop variable incremented once more inside the loop body."""
    for loop in f.typed(*f.loop_types()):
        body = _body_of(f, loop)
        if body is None:
            continue
        statements = f.statements(body)
        if not statements:
            continue
        var = template = None
        kind = "while"
        update = loop.child_by_field("update") or loop.child_by_field("increment")
        if update is None and f.language == "go":
            clause = next((c for c in loop.named_children if c.type == "for_clause"), None)
            update = clause.child_by_field("update") if clause is not None else None
        if update is not None and update.type in UPDATE_TYPES | {"augmented_assignment_expression", "assignment_expression",
                                                                 "assignment_statement"}:
            target = f.named(update)[0] if f.named(update) else None
            if target is not None and target.type == "identifier":
                var, kind = f.text(target), "for"
                template = f.text(update) + f.terminator
        elif f.language == "python" and loop.type == "for_statement":
            left, right = loop.child_by_field("left"), loop.child_by_field("right")
            if left is not None and left.type == "identifier" and right is not None \
                    and f.text(right).startswith("range("):
                var, kind = f.text(left), "shift"
        if var is None:  # a while loop counting with `i += 1` / `i++`
            for statement in statements:
                inner = unwrap_statement(statement)
                if inner.type in UPDATE_TYPES or inner.type == AUG_ASSIGN_TYPE.get(f.language, "assignment_expression"):
                    tokens = [c.type for c in inner.children if not c.is_named]
                    target = (f.named(inner) or [None])[0]
                    if target is not None and target.type == "expression_list":
                        target = (f.named(target) or [None])[0]
                    if target is not None and target.type == "identifier" and ("++" in tokens or "+=" in tokens) \
                            and f.whole_lines(statement) is not None:
                        var = f.text(target)
                        template = f.text(statement).strip()
                        break
            if var is None:
                continue
        text = _increment_text(f, var, template)
        anchor = statements[0] if kind in ("while", "shift") or f.language == "python" else None
        if anchor is not None:
            insertion = _insert_line_before(f, anchor, text)
            if insertion is not None and f.text(anchor).strip() == text.strip():
                continue
        else:
            last = _last_statement_ok(f, body)
            insertion = _insert_line_after(f, last, text) if last is not None else None
        if insertion is None:
            continue
        offset, new = insertion
        yield Edit("extra_increment", offset, offset, new, {"var": var, "kind": kind, "stmt": text.strip()})


_SIDE_EFFECT_METHODS = frozenset({"append", "extend", "add", "insert", "update", "write", "push", "pop", "remove",
                                  "put", "send", "appendleft", "popleft", "push_back", "emplace_back", "push_str",
                                  "unshift", "shift", "offer", "poll", "addAll", "putAll", "delete", "discard",
                                  "writeln", "WriteString", "Write", "Add", "Set", "Push", "setdefault", "incr",
                                  "print", "println", "emit"})


def duplicated_statement(f: FunctionSyntax) -> Iterator[Edit]:
    """An update or side-effecting call statement repeated on the next line."""
    aug = AUG_ASSIGN_TYPE.get(f.language, "assignment_expression")
    for statement in f.typed("expression_statement", "inc_statement", "dec_statement", "assignment_statement"):
        parent = statement.parent
        if parent is None or parent.type not in BLOCK_TYPES:
            continue
        inner = unwrap_statement(statement)
        kind = None
        if inner.type in UPDATE_TYPES:
            kind = "update"
        elif inner.type == aug:
            tokens = [c.type for c in inner.children if not c.is_named]
            if any(t in ("+=", "-=", "*=", "|=", "<<=") for t in tokens):
                kind = "update"
            elif f.language == "go" and re.search(r"=\s*append\(", f.text(inner)):
                kind = "call"
        elif inner.type in f.call_types():
            callee = (f.call_parts(inner) or ("", []))[0]
            if re.split(r"\.|::|->", callee)[-1] in _SIDE_EFFECT_METHODS and ("." in callee or "->" in callee
                                                                              or "::" in callee):
                kind = "call"
        if kind is None:
            continue
        lines = f.whole_lines(statement)
        if lines is None or lines[0] != lines[1]:
            continue
        line_text = f.lines[lines[0]]
        insertion = _insert_line_after(f, statement, line_text.strip())
        if insertion is None:
            continue
        offset, new = insertion
        yield Edit("duplicated_statement", offset, offset, new, {"kind": kind, "stmt": shorten(line_text.strip())})


_PLAIN_ASSIGNMENTS = frozenset({"assignment", "assignment_expression", "assignment_statement"})


def duplicated_assignment(f: FunctionSyntax) -> Iterator[Edit]:
    """`x = a + b` followed by an inserted copy reading a wrong variable (`x = c + b`): a
    copy-pasted line that was not fully edited overwrites the value."""
    _, uses, _, _ = f.variables()
    use_by_key = {node.key: name for name, nodes in uses.items() for node in nodes}
    for statement in f.typed("expression_statement", "assignment_statement"):
        if statement.parent is None or statement.parent.type not in BLOCK_TYPES:
            continue
        assign = unwrap_statement(statement)
        if assign.type not in _PLAIN_ASSIGNMENTS:
            continue
        tokens = [c for c in assign.children if not c.is_named]
        if [f.text(t) for t in tokens] != ["="]:
            continue
        left, right = assign.child_by_field("left"), assign.child_by_field("right")
        if left is None or right is None:
            continue
        lines = f.whole_lines(statement)
        if lines is None or lines[0] != lines[1]:
            continue
        line = f.lines[lines[0]]
        line_start = f.line_starts[lines[0]]
        for node in right.walk(named_only=True):
            name = use_by_key.get(node.key)
            if name is None or name in SELF_NAMES or is_callee(f, node):
                continue
            start, end = f.span(node)
            for other in nearby_names(f, name, start)[:3]:
                if other == f.text(left):
                    continue
                copy = (line[: start - line_start] + other + line[end - line_start:]).strip()
                insertion = _insert_line_after(f, statement, copy)
                if insertion is None:
                    continue
                offset, new = insertion
                yield Edit("duplicated_assignment", offset, offset, new,
                           {"target": shorten(f.text(left), 30), "good": name, "bad": other, "stmt": shorten(copy)})


def extra_break(f: FunctionSyntax) -> Iterator[Edit]:
    """A `break` added at the end of an `if` inside a loop."""
    text = "break" + f.terminator
    for loop in f.typed(*f.loop_types()):
        body = _body_of(f, loop)
        if body is None:
            continue
        for statement in f.statements(body):
            inner = unwrap_statement(statement)
            if inner.type not in f.if_types() or inner.child_by_field("alternative") is not None:
                continue
            if f.language == "python" and any(c.type in ("elif_clause", "else_clause") for c in inner.children):
                continue
            consequence = inner.child_by_field("consequence")
            if consequence is None or consequence.type not in BLOCK_TYPES:
                continue
            last = _last_statement_ok(f, consequence)
            if last is None or _contains_loop(f, consequence):
                continue
            insertion = _insert_line_after(f, last, text)
            if insertion is None:
                continue
            offset, new = insertion
            cond = f.condition(inner)
            yield Edit("extra_break", offset, offset, new,
                       {"cond": shorten(f.text(cond), 50) if cond is not None else "", "loop": loop_label(f, loop)})


def _contains_loop(f: FunctionSyntax, node: SyntaxNode) -> bool:
    loops = set(f.loop_types()) | {"switch_statement", "switch_expression", "expression_switch_statement"}
    return any(n.type in loops for n in node.walk(named_only=True))


_SIMPLE_INIT = re.compile(
    r"-?\d+(\.\d+)?|\"\"|''|\[\]|\{\}|set\(\)|dict\(\)|list\(\)|None|True|False|true|false|null|nil|"
    r"new \w+(<[\w<>, ]*>)?\(\)|Vec::new\(\)|String::new\(\)|HashMap::new\(\)|\[\]\w+\{\}|make\([^()]*\)|"
    r"\"\"\.to_string\(\)|String\(\)|0[uUlL]*"
)


def _simple_inits(f: FunctionSyntax) -> Iterator[tuple[SyntaxNode, str, str]]:
    """(statement, variable, initial value) for `v = 0` style initialisations."""
    lang = f.language
    for statement in f.typed("expression_statement", "lexical_declaration", "variable_declaration",
                             "local_variable_declaration", "declaration", "short_var_declaration",
                             "let_declaration"):
        inner = unwrap_statement(statement)
        var = value = None
        if lang == "python" and inner.type == "assignment":
            var, value = inner.child_by_field("left"), inner.child_by_field("right")
        elif inner.type in ("lexical_declaration", "variable_declaration", "local_variable_declaration", "declaration"):
            if inner.type == "lexical_declaration" and f.text(inner).startswith("const"):
                continue
            if re.match(r"(final|const)\b", f.text(inner)):
                continue
            declarators = [c for c in f.named(inner) if c.type in ("variable_declarator", "init_declarator")]
            if len(declarators) != 1:
                continue
            var = declarators[0].child_by_field("name") or declarators[0].child_by_field("declarator")
            value = declarators[0].child_by_field("value")
        elif inner.type == "short_var_declaration":
            left, right = f.named(inner.child_by_field("left")), f.named(inner.child_by_field("right"))
            if len(left) == 1 and len(right) == 1:
                var, value = left[0], right[0]
        elif inner.type == "let_declaration":
            if not any(c.type == "mutable_specifier" for c in inner.children):
                continue
            var, value = inner.child_by_field("pattern"), inner.child_by_field("value")
        if var is None or value is None or var.type != "identifier":
            continue
        if _SIMPLE_INIT.fullmatch(f.text(value)):
            yield statement, f.text(var), f.text(value)


def _modifies(f: FunctionSyntax, block: SyntaxNode, var: str) -> bool:
    pattern = re.compile(
        rf"(^|[^\w.]){re.escape(var)}\s*(\+\+|--|[-+*/|&]=|\.(append|add|extend|push|insert|update|put|push_back|"
        rf"push_str|addAll|Add|WriteString)\b)|(^|[^\w.]){re.escape(var)}\s*=\s*(append\()?{re.escape(var)}\b"
    )
    return bool(pattern.search(f.text(block)))


def reset_in_loop(f: FunctionSyntax) -> Iterator[Edit]:
    """A variable's initialisation repeated at the top of the loop that accumulates into it."""
    for statement, var, value in _simple_inits(f):
        block = statement.parent
        if block is None or block.type not in BLOCK_TYPES:
            continue
        siblings = f.statements(block)
        index = next((i for i, s in enumerate(siblings) if s.key == statement.key), None)
        if index is None:
            continue
        for later in siblings[index + 1:index + 4]:
            loop = unwrap_statement(later)
            if loop.type not in f.loop_types():
                continue
            body = _body_of(f, loop)
            if body is None or not _modifies(f, body, var):
                continue
            statements = f.statements(body)
            if not statements:
                continue
            text = f"{var} = {value}{f.terminator}"
            insertion = _insert_line_before(f, statements[0], text)
            if insertion is None:
                continue
            offset, new = insertion
            yield Edit("reset_in_loop", offset, offset, new,
                       {"var": var, "value": value, "loop": loop_label(f, loop)})


def return_in_loop(f: FunctionSyntax) -> Iterator[Edit]:
    """The return after a loop moved inside the loop (Python: indented into its body)."""
    return_type = RETURN_TYPE.get(f.language, "return_statement")
    for loop in f.typed(*f.loop_types()):
        statement = statement_node(loop)
        after = statement.next_named_sibling
        while after is not None and after.type in COMMENT_TYPES:
            after = after.next_named_sibling
        if after is None or unwrap_statement(after).type != return_type:
            continue
        body = _body_of(f, loop)
        if body is None or loop.child_by_field("alternative") is not None:
            continue
        statements = f.statements(body)
        ret_lines = f.whole_lines(after)
        if not statements or ret_lines is None or ret_lines[0] != ret_lines[1]:
            continue
        body_lines = f.whole_lines(statements[0])
        if body_lines is None:
            continue
        body_indent = f.indent_of_line(body_lines[0])
        ret_text = f.lines[ret_lines[0]].strip()
        info = {"ret": shorten(ret_text, 50), "loop": loop_label(f, loop)}
        if f.language == "python":
            gap = f.lines[f.line_of(f.end(statement)) + 1:ret_lines[0]]
            if any(line.strip() for line in gap):
                continue
            start = f.line_starts[ret_lines[0]]
            end = start + len(f.indent_of_line(ret_lines[0]))
            if f.code[start:end] == body_indent:
                continue
            yield Edit("return_in_loop", start, end, body_indent, info)
        else:
            last = _last_statement_ok(f, body)
            if last is None:
                continue
            insertion = _insert_line_after(f, last, ret_text, indent=body_indent)
            if insertion is None:
                continue
            offset, new = insertion
            yield Edit("return_in_loop", offset, offset, new, info)
