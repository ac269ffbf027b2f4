"""Semantics-preserving rewrites of a function's text: the positives of the clone pairs
(`manyskills.data.clones`).

Rewrites edit the text through the syntax tree (`manyskills.data.syntax.analyze`) and keep the
author's formatting; each step must re-parse without errors (and, for Python, compile):

* `rename` – consistent renaming of 1-3 parameters/locals (`manyskills.data.renaming`);
* `reorder` – swap two adjacent independent statements (no shared names, no calls with effects);
* `loop_form` – Python `for i in range(len(x))` -> `for i, _ in enumerate(x)`; C-family/Go
  counting `for` <-> `init; while (cond) { ...; update; }` where no `continue` or closure can tell;
* `extract_temp` – `return <expr>` -> `result = <expr>; return result`;
* `inline_temp` – `t = <expr>; return t` -> `return <expr>`;
* `flip_comparison` – `a < b` -> `b > a` where neither operand calls anything;
* `increment_form` – statement `i++` <-> `i += 1` (C, Java, JS/TS, Go).
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Callable

from manyskills.data.node_types import COMMENT_TYPES, FUNCTION_TYPES
from manyskills.data.renaming import rename, used_words
from manyskills.data.syntax import FunctionSyntax, analyze, apply_edits, unwrap_statement
from manyskills.index.treesitter import SyntaxNode

__all__ = ["REWRITES", "apply_rewrite", "rewrite_function"]

REWRITES = ("rename", "reorder", "loop_form", "extract_temp", "inline_temp", "flip_comparison", "increment_form")


# --- reordering -----------------------------------------------------------------------------------

_PURE_CALLS = frozenset({"len", "str", "int", "float", "bool", "tuple", "list", "dict", "set", "frozenset",
                         "abs", "min", "max", "isinstance", "repr", "ord", "chr", "type", "Math.max",
                         "Math.min", "Math.abs", "Math.floor", "Math.ceil", "Math.round", "String",
                         "Number", "Boolean", "strlen", "make", "new"})
_SIMPLE_STATEMENTS = frozenset({"expression_statement", "lexical_declaration", "variable_declaration",
                                "local_variable_declaration", "declaration", "short_var_declaration",
                                "assignment_statement", "let_declaration", "var_declaration", "inc_statement",
                                "dec_statement"})


def _statement_names(f: FunctionSyntax, statement: SyntaxNode) -> tuple[set[str], set[str]] | None:
    """(names read or written, names written) of a simple statement; None if it calls something
    that may have effects, or does something else order-sensitive."""
    names: set[str] = set()
    writes: set[str] = set()
    for node in statement.walk(named_only=True):
        kind = node.type
        if kind in ("call", "call_expression", "method_invocation", "new_expression", "object_creation_expression",
                    "macro_invocation"):
            function = node.child_by_field("function") or node.child_by_field("name")
            callee = f.text(function) if function is not None else ""
            if callee not in _PURE_CALLS:
                return None
        if kind in ("await", "await_expression", "yield", "yield_expression", "update_expression",
                    "lambda", "arrow_function", "function_expression", "closure_expression", "lambda_expression",
                    "inc_statement", "dec_statement", "delete_expression", "comment"):
            return None
        if kind in ("identifier", "field_identifier", "property_identifier", "this", "self"):
            names.add(f.text(node))
        if kind in ("attribute", "member_expression", "field_expression", "selector_expression", "field_access"):
            names.add(re.sub(r"\s+", "", f.text(node)))
    inner = unwrap_statement(statement)
    target = None
    if inner.type in ("assignment", "augmented_assignment", "assignment_expression",
                      "augmented_assignment_expression", "assignment_statement", "compound_assignment_expr"):
        target = inner.child_by_field("left")
    elif inner.type in ("lexical_declaration", "variable_declaration", "local_variable_declaration", "declaration"):
        declarators = [c for c in f.named(inner) if c.type in ("variable_declarator", "init_declarator")]
        if len(declarators) != 1:
            return None
        target = declarators[0].child_by_field("name") or declarators[0].child_by_field("declarator")
    elif inner.type in ("short_var_declaration", "let_declaration"):
        target = inner.child_by_field("left") or inner.child_by_field("pattern")
    else:
        return None
    if target is None:
        return None
    text = re.sub(r"\s+", "", f.text(target))
    for piece in re.split(r",", text):
        root = re.split(r"\[", piece)[0]
        writes.add(root)
        writes.add(re.split(r"\.|->", root)[0] if "[" in piece else root)
    return names, writes


def _independent(a: tuple[set[str], set[str]], b: tuple[set[str], set[str]]) -> bool:
    names_a, writes_a = a
    names_b, writes_b = b

    def touches(writes: set[str], names: set[str]) -> bool:
        for written in writes:
            for name in names:
                if name == written or name.startswith((written + ".", written + "->")) \
                        or written.startswith((name + ".", name + "->")):
                    return True
        return False

    if touches(writes_a, names_b) or touches(writes_b, names_a):
        return False
    # a bare object both write into (`self`, `this`) is fine; the same written root is not
    return not (writes_a & writes_b)


def _reorder(f: FunctionSyntax, rng: random.Random) -> tuple[str, dict] | None:
    options = []
    for block_type in ("block", "statement_block", "compound_statement"):
        for block in f.typed(block_type):
            statements = f.statements(block)
            for first, second in itertools.pairwise(statements):
                if first.type not in _SIMPLE_STATEMENTS or second.type not in _SIMPLE_STATEMENTS:
                    continue
                lines_a, lines_b = f.whole_lines(first), f.whole_lines(second)
                if lines_a is None or lines_b is None or lines_b[0] != lines_a[1] + 1:
                    continue
                names_a, names_b = _statement_names(f, first), _statement_names(f, second)
                if names_a is None or names_b is None or not _independent(names_a, names_b):
                    continue
                if f.text(first) == f.text(second):
                    continue
                options.append((lines_a, lines_b))
    if not options:
        return None
    (a0, a1), (b0, b1) = rng.choice(options)
    lines = f.lines
    new_lines = lines[:a0] + lines[b0:b1 + 1] + lines[a0:a1 + 1] + lines[b1 + 1:]
    return "\n".join(new_lines), {"swapped_lines": [a0, b0]}


# --- loop form ------------------------------------------------------------------------------------


def _python_range_to_enumerate(f: FunctionSyntax) -> list[tuple[int, int, str]]:
    options = []
    if "_" in used_words(f.code):
        return options
    for loop in f.typed("for_statement"):
        left, right = loop.child_by_field("left"), loop.child_by_field("right")
        if left is None or right is None or left.type != "identifier":
            continue
        match = re.fullmatch(r"range\(\s*len\(\s*([A-Za-z_][\w.]*)\s*\)\s*\)", f.text(right))
        if not match:
            continue
        seq = match.group(1)
        body = loop.child_by_field("body")
        if body is None:
            continue
        body_text = f.text(body)
        if re.search(rf"(^|[^\w.]){re.escape(seq)}\s*(\.(append|pop|insert|remove|extend|clear)\b|[-+*]?=[^=]|\[[^\]]*\]\s*=[^=])",
                     body_text) or re.search(rf"\bdel\s+{re.escape(seq)}\b", body_text):
            continue
        end = f.end(right)
        options.append((f.start(left), end, f"{f.text(left)}, _ in enumerate({seq})"))
    return options


def _c_for_to_while(f: FunctionSyntax) -> list[tuple[int, int, str]]:
    options = []
    if f.language not in ("javascript", "typescript", "tsx", "java", "c", "cpp", "go"):
        return options
    for loop in f.typed("for_statement"):
        if f.language == "go":
            clause = next((c for c in loop.named_children if c.type == "for_clause"), None)
            if clause is None:
                continue
            init, cond, update = (clause.child_by_field(n) for n in ("initializer", "condition", "update"))
        else:
            init = loop.child_by_field("initializer") or loop.child_by_field("init")
            cond = loop.child_by_field("condition")
            update = loop.child_by_field("update") or loop.child_by_field("increment")
        body = loop.child_by_field("body")
        if init is None or cond is None or update is None or body is None:
            continue
        if body.type not in ("statement_block", "compound_statement", "block"):
            continue
        if len(loop.children_by_field("update")) > 1 or len(loop.children_by_field("initializer")) > 1:
            continue
        lines = f.whole_lines(loop)
        if lines is None:
            continue
        body_statements = f.statements(body)
        close = body.children[-1] if body.children else None
        if not body_statements or close is None or close.type != "}":
            continue
        if f.line_of(f.start(body)) != lines[0] or f.whole_lines(close) is None:
            continue
        first_lines = f.whole_lines(body_statements[0])
        if first_lines is None or first_lines[0] == lines[0]:
            continue
        if any(n.type in ("continue_statement", "labeled_statement") or n.type in FUNCTION_TYPES
               for n in body.walk(named_only=True)):
            continue
        # the loop variable must not be used (or declared) outside the loop
        declared = re.findall(r"[A-Za-z_]\w*", f.text(update))
        loop_start, loop_end = f.span(loop)
        outside = f.code[:loop_start] + f.code[loop_end:]
        if any(re.search(rf"\b{re.escape(name)}\b", outside) for name in declared):
            continue
        indent = f.indent_of_line(lines[0])
        body_indent = f.indent_of_line(first_lines[0])
        term = "" if f.language == "go" else ";"
        init_text = f.text(init).rstrip(";").strip()
        cond_text = " ".join(f.text(cond).rstrip(";").split())
        update_text = f.text(update).strip()
        if "\n" in init_text or "\n" in update_text:
            continue
        cr = f.cr
        if f.language == "go":
            header = f"{indent}{init_text}{cr}\n{indent}for {cond_text} {{{cr}"
        else:
            header = f"{indent}{init_text};{cr}\n{indent}while ({cond_text}) {{{cr}"
        close_line = f.whole_lines(close)[0]
        body_lines = f.lines[lines[0] + 1:close_line]
        new = "\n".join([header, *body_lines, f"{body_indent}{update_text}{term}{cr}", f.lines[close_line]])
        start = f.line_starts[lines[0]]
        end = f.line_starts[close_line] + len(f.lines[close_line])
        options.append((start, end, new))
    return options


def _loop_form(f: FunctionSyntax, rng: random.Random) -> tuple[str, dict] | None:
    options = _python_range_to_enumerate(f) if f.language == "python" else _c_for_to_while(f)
    if not options:
        return None
    start, end, new = rng.choice(options)
    return f.code[:start] + new + f.code[end:], {"loop_form": True}


# --- temporaries ----------------------------------------------------------------------------------

_TEMP_NAMES = ("result", "res", "ret", "value", "out", "retval", "rv")


def _return_type(f: FunctionSyntax) -> str | None:
    node = f.function_node
    if node is None:
        return None
    kind = node.child_by_field("type")
    if kind is None:
        return None
    if f.language == "c":
        declarator = node.child_by_field("declarator")
        if declarator is None or declarator.type != "function_declarator":
            return None  # pointer return types: the `*` sits in the declarator
    text = f.text(kind)
    return None if text in ("void",) or "\n" in text else text


def _declaration(f: FunctionSyntax, name: str, value: str) -> str | None:
    lang = f.language
    if lang == "python":
        return f"{name} = {value}"
    if lang in ("javascript", "typescript", "tsx"):
        return f"const {name} = {value};"
    if lang == "go":
        return f"{name} := {value}"
    if lang == "rust":
        return f"let {name} = {value};"
    if lang == "cpp":
        return f"auto {name} = {value};"
    kind = _return_type(f)
    if kind is None or re.search(r"\b[A-Z]\b", kind):  # generic type variables: leave alone
        return None
    return f"{kind} {name} = {value};"


def _extract_temp(f: FunctionSyntax, rng: random.Random) -> tuple[str, dict] | None:
    used = used_words(f.code)
    names = [n for n in _TEMP_NAMES if n not in used]
    if not names:
        return None
    name = names[0]
    options = []
    return_type = "return_expression" if f.language == "rust" else "return_statement"
    for node in f.typed(return_type):
        statement = node.parent if node.parent is not None and node.parent.type == "expression_statement" else node
        values = [c for c in node.named_children if c.type not in COMMENT_TYPES]
        if len(values) != 1 or values[0].type == "expression_list" and len(values[0].named_children) != 1:
            continue
        value = values[0]
        if value.type == "expression_list":
            value = value.named_children[0]
        if value.type in ("unary_expression", "unary_operator") and re.fullmatch(r"[-!~]\s*\w+", f.text(value)):
            continue
        if value.type in ("identifier", "true", "false", "none", "null", "nil", "integer", "number", "string",
                          "int_literal", "number_literal", "decimal_integer_literal", "integer_literal",
                          "boolean_literal", "null_literal", "string_literal", "interpreted_string_literal",
                          "yield", "await", "lambda", "arrow_function", "function_expression"):
            continue
        lines = f.whole_lines(statement)
        if lines is None or lines[0] != lines[1] or statement.parent is None \
                or statement.parent.type not in ("block", "statement_block", "compound_statement"):
            continue
        if f.language == "python" and any(n.type in ("yield", "await") for n in value.walk(named_only=True)):
            continue
        declaration = _declaration(f, name, f.text(value))
        if declaration is None:
            continue
        indent = f.indent_of_line(lines[0])
        line = f.lines[lines[0]]
        value_start = f.start(value) - f.line_starts[lines[0]]
        value_end = f.end(value) - f.line_starts[lines[0]]
        returned = line[:value_start] + name + line[value_end:]
        new = f"{indent}{declaration}{f.cr}\n{returned}"
        options.append((f.line_starts[lines[0]], f.line_starts[lines[0]] + len(line), new))
    if not options:
        return None
    start, end, new = rng.choice(options)
    return f.code[:start] + new + f.code[end:], {"temp": name}


def _inline_temp(f: FunctionSyntax, rng: random.Random) -> tuple[str, dict] | None:
    _, _, occurrences, unsafe = f.variables()
    options = []
    return_type = "return_expression" if f.language == "rust" else "return_statement"
    for node in f.typed(return_type):
        statement = node.parent if node.parent is not None and node.parent.type == "expression_statement" else node
        values = [c for c in node.named_children if c.type not in COMMENT_TYPES]
        if len(values) == 1 and values[0].type == "expression_list" and len(values[0].named_children) == 1:
            values = values[0].named_children
        if len(values) != 1 or values[0].type != "identifier":
            continue
        name = f.text(values[0])
        if name in unsafe or len(occurrences.get(name, ())) != 2:
            continue
        previous = statement.prev_named_sibling
        if previous is None:
            continue
        inner = unwrap_statement(previous)
        target = value = None
        if inner.type == "assignment" and f.language == "python":
            target, value = inner.child_by_field("left"), inner.child_by_field("right")
            if inner.child_by_field("type") is not None:
                continue
        elif inner.type in ("lexical_declaration", "variable_declaration", "local_variable_declaration",
                            "declaration"):
            declarators = [c for c in f.named(inner) if c.type in ("variable_declarator", "init_declarator")]
            if len(declarators) == 1:
                target = declarators[0].child_by_field("name") or declarators[0].child_by_field("declarator")
                value = declarators[0].child_by_field("value")
        elif inner.type == "short_var_declaration":
            left, right = inner.child_by_field("left"), inner.child_by_field("right")
            if left is not None and right is not None and len(left.named_children) == 1 \
                    and len(right.named_children) == 1:
                target, value = left.named_children[0], right.named_children[0]
        elif inner.type == "let_declaration" and inner.child_by_field("type") is None:
            target, value = inner.child_by_field("pattern"), inner.child_by_field("value")
        if target is None or value is None or target.type != "identifier" or f.text(target) != name:
            continue
        if inner.type == "local_variable_declaration" and f.language == "java":
            pass
        prev_lines, ret_lines = f.whole_lines(previous), f.whole_lines(statement)
        if prev_lines is None or ret_lines is None or ret_lines[0] != prev_lines[1] + 1 \
                or ret_lines[0] != ret_lines[1]:
            continue
        if f.language == "c" and inner.type == "declaration" and re.search(r"\*", f.text(inner).split("=")[0]):
            pass  # pointer declarations inline fine: the value keeps its type
        value_text = f.text(value)
        line = f.lines[ret_lines[0]]
        column_start = f.start(values[0]) - f.line_starts[ret_lines[0]]
        column_end = f.end(values[0]) - f.line_starts[ret_lines[0]]
        value_lines = value_text.split("\n")
        if len(value_lines) > 1:
            # keep continuation lines where they are, re-indented relative to the new first line
            shift = column_start - (f.start(value) - f.line_starts[prev_lines[0]])
            if shift < 0:
                continue
            value_text = "\n".join([value_lines[0], *[" " * shift + v if v.strip() else v for v in value_lines[1:]]])
        new = line[:column_start] + value_text + line[column_end:]
        start = f.line_starts[prev_lines[0]]
        end = f.line_starts[ret_lines[0]] + len(line)
        options.append((start, end, new))
    if not options:
        return None
    start, end, new = rng.choice(options)
    return f.code[:start] + new + f.code[end:], {"inlined": True}


# --- small expression rewrites --------------------------------------------------------------------

_FLIPPED = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "==": "==", "!=": "!=", "===": "===", "!==": "!=="}
_PURE_OPERAND_TYPES = frozenset({"identifier", "attribute", "member_expression", "field_expression",
                                 "selector_expression", "field_access", "integer", "float", "number", "none",
                                 "null", "nil", "true", "false", "int_literal", "number_literal",
                                 "decimal_integer_literal", "integer_literal", "float_literal", "string",
                                 "string_literal", "interpreted_string_literal", "null_literal", "this", "self"})


def _is_constant(node: SyntaxNode) -> bool:
    return node.type not in ("identifier", "attribute", "member_expression", "field_expression",
                             "selector_expression", "field_access", "this", "self") \
        or node.text.isupper()  # MAX_SIZE


def _pure_operand(f: FunctionSyntax, node: SyntaxNode) -> bool:
    return node.type in _PURE_OPERAND_TYPES and "\n" not in f.text(node)


def _flip_comparison(f: FunctionSyntax, rng: random.Random) -> tuple[str, dict] | None:
    """`a < b` -> `b > a` (operands without calls, so evaluation order cannot matter)."""
    kind = "comparison_operator" if f.language == "python" else f.binary_type()
    options = []
    for node in f.typed(kind):
        parts = f.binary_parts(node)
        if parts is None or parts[3] not in _FLIPPED:
            continue
        left, op_start, op_end, op, right = parts
        if not (_pure_operand(f, left) and _pure_operand(f, right)) or f.text(left) == f.text(right):
            continue
        if _is_constant(right) and not _is_constant(left):
            continue  # `n <= 1` -> `1 >= n` would read as an artefact
        start, end = f.span(left)
        new = f.text(right) + f.code[end:op_start] + _FLIPPED[op] + f.code[op_end:f.start(right)] + f.text(left)
        options.append((start, f.end(right), new))
    if not options:
        return None
    chosen = rng.sample(options, min(len(options), rng.randint(1, 2)))
    return apply_edits(f.code, chosen), {"flipped": len(chosen)}


def _increment_form(f: FunctionSyntax, rng: random.Random) -> tuple[str, dict] | None:
    """`i++;` <-> `i += 1;` as whole statements on an integer-looking variable (not C++, where `it++`
    may be an iterator without `+=`)."""
    if f.language not in ("javascript", "typescript", "tsx", "java", "c", "go"):
        return None
    options = []
    for node in f.typed("update_expression", "inc_statement", "dec_statement", "augmented_assignment_expression",
                        "assignment_expression", "assignment_statement"):
        statement = node if node.type in ("inc_statement", "dec_statement", "assignment_statement") else node.parent
        if statement is None or statement.type not in ("expression_statement", "inc_statement", "dec_statement",
                                                       "assignment_statement"):
            continue
        if statement.type == "expression_statement" and len(statement.named_children) != 1:
            continue
        text = f.text(node)
        match = re.fullmatch(r"(\+\+|--)?([A-Za-z_]\w*)(\+\+|--)?", text)
        if match and bool(match.group(1)) != bool(match.group(3)):
            op = match.group(1) or match.group(3)
            options.append((*f.span(node), f"{match.group(2)} {'+' if op == '++' else '-'}= 1"))
            continue
        match = re.fullmatch(r"([A-Za-z_]\w*)\s*([-+])=\s*1", text)
        if match:
            options.append((*f.span(node), f"{match.group(1)}{match.group(2) * 2}"))
    if not options:
        return None
    start, end, new = rng.choice(options)
    return f.code[:start] + new + f.code[end:], {"increment": new}


# --- applying rewrites ----------------------------------------------------------------------------

_REWRITE_FUNCTIONS: dict[str, Callable[[FunctionSyntax, random.Random], tuple[str, dict] | None]] = {
    "rename": rename,
    "reorder": _reorder,
    "loop_form": _loop_form,
    "extract_temp": _extract_temp,
    "inline_temp": _inline_temp,
    "flip_comparison": _flip_comparison,
    "increment_form": _increment_form,
}


def _rewrite(f: FunctionSyntax, rewrite: str, rng: random.Random) -> tuple[str, FunctionSyntax] | None:
    result = _REWRITE_FUNCTIONS[rewrite](f, rng)
    if result is None or result[0] == f.code:
        return None
    rewritten = analyze(f.language, result[0])
    if rewritten is None:
        return None
    return result[0], rewritten


def apply_rewrite(language: str, code: str, rewrite: str, rng: random.Random) -> str | None:
    """One rewrite of a function's text, or None when it does not apply (or would not parse)."""
    f = analyze(language, code)
    if f is None:
        return None
    result = _rewrite(f, rewrite, rng)
    return result[0] if result is not None else None


def rewrite_function(language: str, code: str, rng: random.Random, count: int | None = None
                     ) -> tuple[str, list[str]] | None:
    """Apply 1-3 rewrites (random order; each at most once). (new code, rewrites applied) or None."""
    wanted = count if count is not None else rng.choice((1, 1, 2, 2, 3))
    f = analyze(language, code)
    if f is None:
        return None
    order = list(REWRITES)
    rng.shuffle(order)
    applied = []
    for name in order:
        if len(applied) >= wanted:
            break
        result = _rewrite(f, name, rng)
        if result is not None:
            f = result[1]
            applied.append(name)
    if not applied or f.code == code:
        return None
    return f.code, applied
