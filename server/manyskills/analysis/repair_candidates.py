"""Candidate repairs for a suspect line: every single edit that undoes one of the bug-injection
operators (`data/mutations.py`) at that line, each a whole repaired function ready to be scored.

The published detectors that repair real bugs (RealiT, BugLab) do not generate a fix: they enumerate
the inverses of their bug-injection rewrites at the suspicious location and let the detector pick.
The inverses covered here, in all nine languages through the syntax tree:

* operators: arithmetic (`-` → `+`), comparison (any of `<`, `<=`, `>`, `>=`, `==`, `!=`), `and`/`or`,
  `is`/`==`, `in`/`not in`, compound assignment (`+=` → `-=`), `++`/`--`, `==` → `=` as a statement;
* off by one: integer literals ±1, `x + 1` / `x - 1` → `x`, `x` → `x ± 1` in an index or a bound;
* negation: negate an `if`/`while` condition, remove a `not` / `!`;
* swaps: adjacent call arguments, the operands of a non-commutative operator, ternary branches;
* variable misuse: a variable replaced by another name the function uses;
* literals: `True`/`False`, `None`/`null`/`nil`, `0.0`/`1.0`.

Deleting the line (the inverse of the inserting operators) is deliberately not a candidate: on the
validation functions the defect skill scored the function without its suspect line as clean far more
often than the real fix (the flagged line is simply gone), so deletions won the ranking and were wrong.

A candidate is kept only when its text parses (and, for Python, compiles) whenever the original does.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from manyskills.data.syntax import compiles  # the one "does this Python text compile" check
from manyskills.index.treesitter import SyntaxNode, SyntaxTree, parse

__all__ = ["Candidate", "repair_candidates"]

MAX_CANDIDATES = 64


@dataclass(frozen=True)
class Candidate:
    text: str  # the whole repaired function
    line: int  # the line of the function it changes (0-based)
    new_line: str  # that line's repaired text
    old: str  # the text it replaces (`-`, `amount`)
    new: str  # what replaces it (`+`)
    kind: str  # operator | negation | literal | off_by_one | swap | variable | attribute

    @property
    def description(self) -> str:
        if self.kind == "swap":
            return f"swap to `{_short(self.new)}`"
        return f"`{_short(self.old)}` → `{_short(self.new)}`"


def _short(text: str, limit: int = 50) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- tables ---------------------------------------------------------------------------------------

_ARITH = {"+": ("-", "*"), "-": ("+",), "*": ("/", "+"), "/": ("*",), "%": ("/",), "//": ("/",),
          "**": ("*",), "<<": (">>",), ">>": ("<<",), "&": ("|", "^"), "|": ("&",), "^": ("&", "|")}
_ORDER = ("<", "<=", ">", ">=", "==", "!=")
_CMP = {op: tuple(o for o in _ORDER if o != op) for op in _ORDER}
_CMP.update({"===": ("!==",), "!==": ("===",), "in": ("not in",), "not in": ("in",)})
_LOGIC = {"and": ("or",), "or": ("and",), "&&": ("||",), "||": ("&&",)}
_IS = {"is": ("==", "is not"), "is not": ("!=", "is"), "==": ("is",), "!=": ("is not",)}  # Python only
_COMPOUND = {"+=": ("-=",), "-=": ("+=",), "*=": ("/=",), "/=": ("*=",), "|=": ("&=",), "&=": ("|=",),
             "<<=": (">>=",), ">>=": ("<<=",)}
_UPDATE = {"++": ("--",), "--": ("++",)}
_NON_COMMUTATIVE = frozenset({"-", "/", "%", "//", "<<", ">>", "<", "<=", ">", ">="})

_BINARY = frozenset({"binary_operator", "binary_expression", "comparison_operator", "boolean_operator"})
_COMPOUND_NODES = frozenset({"augmented_assignment", "assignment_expression", "assignment_statement",
                             "compound_assignment_expr", "augmented_assignment_expression"})
_UPDATE_NODES = frozenset({"update_expression", "inc_statement", "dec_statement"})
_INT = frozenset({"integer", "number", "decimal_integer_literal", "number_literal", "int_literal",
                  "integer_literal"})
_LITERAL_SWAP = {"True": ("False",), "False": ("True", "None"), "true": ("false",), "false": ("true",),
                 "0.0": ("1.0",), "1.0": ("0.0",), "null": ("undefined",), "undefined": ("null",)}
_CONDITIONAL = frozenset({"if_statement", "elif_clause", "while_statement", "if_expression", "while_expression",
                          "do_statement"})
_PARENS = frozenset({"parenthesized_expression", "condition", "condition_clause"})
_NOT = frozenset({"not_operator", "unary_expression", "prefix_unary_expression"})
_ARGUMENTS = frozenset({"argument_list", "arguments"})
_SUBSCRIPT_INDEX = {"subscript": "subscript", "subscript_expression": "index", "array_access": "index",
                    "index_expression": "index"}
_TERNARY = {"conditional_expression", "ternary_expression"}
_NOT_VARIABLES = frozenset({"self", "cls", "this", "_", "super", "print", "len", "range", "str", "int", "float",
                            "list", "dict", "set", "tuple", "bool", "isinstance", "None", "True", "False"})
_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*\Z")

_WRAPPERS = {
    "javascript": ("class _W {\n", "\n}"), "typescript": ("class _W {\n", "\n}"), "tsx": ("class _W {\n", "\n}"),
    "java": ("class _W {\n", "\n}"), "cpp": ("struct _W {\n", "\n};"), "rust": ("impl _W {\n", "\n}"),
}


# --- parsing a function on its own ----------------------------------------------------------------


@dataclass
class _Parsed:
    language: str
    text: str
    tree: SyntaxTree
    prefix: str
    suffix: str
    clean: bool  # the original parses without errors
    compiles: bool  # Python only: the original compiles

    def offsets(self, node: SyntaxNode) -> tuple[int, int]:
        base = len(self.prefix)
        return node.start_offset - base, node.end_offset - base

    def source(self, node: SyntaxNode) -> str:
        start, end = self.offsets(node)
        return self.text[start:end]

    def valid(self, text: str) -> bool:
        if self.clean and parse(self.language, self.prefix + text + self.suffix).has_errors:
            return False
        return not (self.language == "python" and self.compiles and not compiles(text))


def _parse(language: str, text: str) -> _Parsed:
    """The function on its own, or inside a minimal wrapper (a class for a method) when that parses."""
    tree = parse(language, text)
    prefix = suffix = ""
    if tree.has_errors and language in _WRAPPERS:
        prefix, suffix = _WRAPPERS[language]
        wrapped = parse(language, prefix + text + suffix)
        if wrapped.has_errors:
            tree, prefix, suffix = parse(language, text), "", ""
        else:
            tree = wrapped
    return _Parsed(language, text, tree, prefix, suffix, not tree.has_errors,
                   language == "python" and compiles(text))


# --- edits ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Edit:
    start: int
    end: int
    new: str
    kind: str
    old: str | None = None  # what a note names as replaced (default: the text at start:end)
    shown: str | None = None  # what a note names as its replacement (default: `new`)


def _token(p: _Parsed, node: SyntaxNode) -> tuple[int, int, str] | None:
    """The operator token of a binary/comparison node: (start, end, text); `not in`/`is not` as one."""
    children = node.children
    for i, child in enumerate(children):
        if child.is_named or child.type in ("(", ")"):
            continue
        start, end = p.offsets(child)
        # `not in` / `is not` are one token type spread over two nodes
        following = i + 1
        while following < len(children) and children[following].type == child.type and " " in child.type:
            end = p.offsets(children[following])[1]
            following += 1
        return start, end, child.type
    return None


def _operator_edits(p: _Parsed, node: SyntaxNode) -> Iterator[_Edit]:
    if node.type in _BINARY:
        found = _token(p, node)
        if found is None:
            return
        start, end, op = found
        tables = [_ARITH, _CMP, _LOGIC] + ([_IS] if p.language == "python" else [])
        for table in tables:
            for alt in table.get(op, ()):
                if alt in ("//", "**", "is", "is not", "in", "not in") and p.language != "python":
                    continue
                yield _Edit(start, end, alt, "operator")
        left, right = node.child_by_field("left"), node.child_by_field("right")
        if op in _NON_COMMUTATIVE and left is not None and right is not None:
            (l_start, l_end), (r_start, r_end) = p.offsets(left), p.offsets(right)
            middle = p.text[l_end:r_start]
            yield _Edit(l_start, r_end, p.source(right) + middle + p.source(left), "swap")
        if op in ("+", "-") and right is not None and right.type in _INT and p.source(right) == "1" \
                and left is not None:
            yield _Edit(p.offsets(left)[1], p.offsets(right)[1], "", "off_by_one", p.source(node), p.source(left))
        if op == "==" and p.language == "python" and node.parent is not None \
                and node.parent.type == "expression_statement":
            yield _Edit(start, end, "=", "operator")
        if op in ("<", "<=", ">", ">=") and right is not None and right.type in ("identifier", "call",
                                                                                 "call_expression"):
            r_end = p.offsets(right)[1]
            for alt in (" + 1", " - 1"):
                yield _Edit(r_end, r_end, alt, "off_by_one", p.source(right), p.source(right) + alt)
    elif node.type in _COMPOUND_NODES or node.type in _UPDATE_NODES:
        for child in node.children:
            if not child.is_named and (child.type in _COMPOUND or child.type in _UPDATE):
                start, end = p.offsets(child)
                for alt in _COMPOUND.get(child.type, ()) + _UPDATE.get(child.type, ()):
                    yield _Edit(start, end, alt, "operator")


def _literal_edits(p: _Parsed, node: SyntaxNode) -> Iterator[_Edit]:
    text = p.source(node)
    start, end = p.offsets(node)
    if node.type in _INT and re.fullmatch(r"\d{1,4}", text):
        value = int(text)
        for alt in ([value - 1] if value > 0 else []) + [value + 1]:
            yield _Edit(start, end, str(alt), "literal")
    elif text in _LITERAL_SWAP and not node.named_children:
        for alt in _LITERAL_SWAP[text]:
            yield _Edit(start, end, alt, "literal")
    elif node.type == "none" and p.language == "python":
        for alt in ("False", "0", "''"):
            yield _Edit(start, end, alt, "literal")
    elif node.type == "string" and p.language == "python" and text in ('""', "''"):
        yield _Edit(start, end, "None", "literal")


def _negation_edits(p: _Parsed, node: SyntaxNode) -> Iterator[_Edit]:
    if node.type in _NOT:
        operator = node.child_by_field("operator")
        operand = node.child_by_field("argument") or node.child_by_field("operand")
        is_not = node.type == "not_operator" or (operator is not None and operator.type == "!")
        if is_not and operand is not None:
            inner = operand.named_children[0] if operand.type == "parenthesized_expression" and \
                len(operand.named_children) == 1 else operand
            start, end = p.offsets(node)
            yield _Edit(start, end, p.source(inner), "negation")
    if node.type in _CONDITIONAL:
        condition = node.child_by_field("condition")
        if condition is None:
            return
        if condition.type in _PARENS and len(condition.named_children) == 1:
            condition = condition.named_children[0]
        if condition.type in _NOT or condition.type == "let_condition":
            return  # removing the `not` is the inverse; `if let` cannot be negated
        text = p.source(condition)
        simple = condition.type in ("identifier", "call", "call_expression", "attribute", "member_expression",
                                    "field_expression", "selector_expression", "parenthesized_expression")
        if p.language == "python":
            new = f"not {text}" if simple else f"not ({text})"
        else:
            new = f"!{text}" if simple else f"!({text})"
        start, end = p.offsets(condition)
        yield _Edit(start, end, new, "negation")


def _swap_edits(p: _Parsed, node: SyntaxNode) -> Iterator[_Edit]:
    if node.type in _ARGUMENTS:
        args = [a for a in node.named_children if a.type not in ("keyword_argument", "comment")]
        for a, b in itertools.pairwise(args):
            (a_start, a_end), (b_start, b_end) = p.offsets(a), p.offsets(b)
            between = p.text[a_end:b_start]
            if "\n" not in between and p.source(a) != p.source(b):
                yield _Edit(a_start, b_end, p.source(b) + between + p.source(a), "swap")
    elif node.type in _TERNARY:
        parts = node.named_children
        if len(parts) == 3:
            first, second = (parts[0], parts[2]) if p.language == "python" else (parts[1], parts[2])
            (a_start, a_end), (b_start, b_end) = p.offsets(first), p.offsets(second)
            yield _Edit(a_start, b_end, p.source(second) + p.text[a_end:b_start] + p.source(first), "swap")


def _index_edits(p: _Parsed, node: SyntaxNode) -> Iterator[_Edit]:
    field = _SUBSCRIPT_INDEX.get(node.type)
    index = node.child_by_field(field) if field else None
    if index is not None and index.type in ("identifier", "call", "call_expression", "binary_operator",
                                            "binary_expression"):
        if index.type.startswith("binary"):
            return  # `a[i + 1]`: the literal edits already cover it
        end = p.offsets(index)[1]
        for alt in (" + 1", " - 1"):
            yield _Edit(end, end, alt, "off_by_one", p.source(index), p.source(index) + alt)


# --- variables ------------------------------------------------------------------------------------


def _is_variable(node: SyntaxNode) -> bool:
    if node.type != "identifier":
        return False
    parent = node.parent
    if parent is None:
        return False
    for field_name in ("function", "name", "attribute", "property", "field", "type", "macro", "label"):
        child = parent.child_by_field(field_name)
        if child is not None and child == node and not (field_name == "name" and parent.type in (
                "variable_declarator", "named_expression", "short_var_declaration")):
            return False
    return parent.type not in ("dotted_name", "import_statement", "import_from_statement",
                               "decorator", "scoped_identifier", "qualified_identifier", "function_declarator",
                               "function_definition", "function_declaration", "method_declaration",
                               "function_item", "class_definition", "class_declaration")


def _variable_edits(p: _Parsed, node: SyntaxNode, names: list[tuple[str, int]], per_name: int = 4
                    ) -> Iterator[_Edit]:
    if not _is_variable(node):
        return
    text = p.source(node)
    if text in _NOT_VARIABLES:
        return
    start, end = p.offsets(node)
    nearest = sorted((abs(at - start), name) for name, at in names if name != text)
    for _, name in nearest[:per_name]:
        yield _Edit(start, end, name, "variable")


def _function_names(p: _Parsed, function_node: SyntaxNode) -> list[tuple[str, int]]:
    """Variable names the function uses, each with the offset of its first use."""
    seen: dict[str, int] = {}
    for node in function_node.walk(named_only=True):
        if _is_variable(node):
            name = p.source(node)
            if name not in _NOT_VARIABLES and _IDENTIFIER.match(name) and name not in seen:
                seen[name] = p.offsets(node)[0]
    return list(seen.items())


# --- attributes -----------------------------------------------------------------------------------

_ATTRIBUTES = {"attribute": ("object", "attribute"), "member_expression": ("object", "property"),
               "field_access": ("object", "field"), "method_invocation": ("object", "name"),
               "field_expression": ("argument", "field"), "selector_expression": ("operand", "field")}


def _attribute_parts(node: SyntaxNode) -> tuple[SyntaxNode, SyntaxNode] | None:
    fields = _ATTRIBUTES.get(node.type)
    if fields is None:
        return None
    obj, name = node.child_by_field(fields[0]), node.child_by_field(fields[1])
    if obj is None or name is None:
        obj, name = node.child_by_field("value"), node.child_by_field("field")  # Rust
    return (obj, name) if obj is not None and name is not None else None


def _function_attributes(p: _Parsed, function_node: SyntaxNode) -> list[tuple[str, str]]:
    """(object, attribute name) of every attribute access in the function, in order."""
    out = []
    for node in function_node.walk(named_only=True):
        parts = _attribute_parts(node)
        if parts is not None:
            out.append((p.source(parts[0]), p.source(parts[1])))
    return out


def _attribute_edits(p: _Parsed, node: SyntaxNode, attributes: list[tuple[str, str]], per_name: int = 4
                     ) -> Iterator[_Edit]:
    parts = _attribute_parts(node)
    if parts is None:
        return
    obj, name_node = p.source(parts[0]), p.source(parts[1])
    if not _IDENTIFIER.match(name_node) or name_node.startswith("__"):
        return
    same = [name for o, name in attributes if o == obj]
    others = list(dict.fromkeys(same + [name for _, name in attributes]))
    start, end = p.offsets(parts[1])
    for name in [n for n in others if n != name_node and not n.startswith("__")][:per_name]:
        yield _Edit(start, end, name, "attribute")


# --- enumeration ----------------------------------------------------------------------------------

_KIND_ORDER = ("operator", "negation", "literal", "off_by_one", "swap", "variable", "attribute")


def _line_edits(p: _Parsed, line: int, names: list[tuple[str, int]], attributes: list[tuple[str, str]]
                ) -> list[_Edit]:
    lines = p.text.split("\n")
    if not 0 <= line < len(lines) or not lines[line].strip():
        return []
    line_start = sum(len(text) + 1 for text in lines[:line])
    line_end = line_start + len(lines[line])
    by_kind: dict[str, list[_Edit]] = {kind: [] for kind in _KIND_ORDER}
    for node in _nodes_over_line(p, line_start, line_end):
        edits = [edit for generator in (_operator_edits, _literal_edits, _negation_edits, _swap_edits, _index_edits)
                 for edit in generator(p, node)]
        edits += _variable_edits(p, node, names)
        edits += _attribute_edits(p, node, attributes)
        for edit in edits:
            if line_start <= edit.start and edit.end <= line_end:  # the edit itself lies on the line
                by_kind[edit.kind].append(edit)
    return [edit for kind in _KIND_ORDER for edit in by_kind[kind]]


def _nodes_over_line(p: _Parsed, line_start: int, line_end: int) -> Iterator[SyntaxNode]:
    """Nodes that overlap the line (a condition continued from the line above included)."""
    base = len(p.prefix)
    source = p.tree.source
    low = source.byte_offset_of_char(base + line_start)
    high = source.byte_offset_of_char(base + line_end)
    for node in p.tree.root.walk():
        if node.start_byte <= high and node.end_byte >= low and node.end_byte > node.start_byte:
            yield node


def _function_node(p: _Parsed) -> SyntaxNode:
    root = p.tree.root
    if not p.prefix:
        return root
    inner = root.walk(named_only=True)
    base = len(p.prefix)
    for node in inner:
        start, end = node.start_offset - base, node.end_offset - base
        if start >= 0 and end <= len(p.text) and end > start:
            return node
    return root


def repair_candidates(language: str, text: str, lines: Sequence[int], limit: int = MAX_CANDIDATES
                      ) -> list[Candidate]:
    """Distinct valid single-edit repairs of `text` at `lines` (most suspicious first), at most `limit`,
    the first line's candidates first; each later line gets at least an equal share of the budget."""
    p = _parse(language, text)
    function_node = _function_node(p)
    names = _function_names(p, function_node)
    attributes = _function_attributes(p, function_node)
    out: list[Candidate] = []
    seen = {text}
    lines = list(dict.fromkeys(lines))
    for number, line in enumerate(lines):
        budget = (limit - len(out)) // (len(lines) - number)
        taken = 0
        for edit in _line_edits(p, line, names, attributes):
            if taken >= budget:
                break
            if "\n" in edit.new or "\n" in text[edit.start:edit.end]:
                continue  # a repair replaces one line
            repaired = text[:edit.start] + edit.new + text[edit.end:]
            if repaired in seen or not p.valid(repaired):
                continue
            seen.add(repaired)
            new_line = repaired.split("\n")[line]
            old = text[edit.start:edit.end] if edit.old is None else edit.old
            new = edit.new if edit.shown is None else edit.shown
            out.append(Candidate(repaired, line, new_line, old, new, edit.kind))
            taken += 1
    return out
