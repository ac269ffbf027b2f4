"""A function's text on its own, parsed for rewriting: the syntax library of the mutation operators
(`manyskills.data.operators`) and the clone rewrites (`manyskills.data.rewrites`). The node types it
looks for are tables in `manyskills.data.node_types`, shared with the search pairs.

`analyze(language, code)` parses a function cut out of its file (inside a minimal wrapper when it is
a method) and returns a `FunctionSyntax`: the text with its syntax tree, node offsets into the text,
per-language helpers (conditions, calls, attributes, binary operators), bound variables and their
scopes. Edits made through it are character-offset edits of the original text, so formatting,
comments and indentation stay as the author wrote them.
"""

from __future__ import annotations

import bisect
import re
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator

from manyskills.data.node_types import (
    ATTRIBUTE_FIELDS,
    BINARY_TYPE,
    BINDERS,
    BINDING_PATTERNS,
    BLOCK_TYPES,
    CALL_TYPES,
    COMMENT_TYPES,
    DEFAULT_LOOP_TYPES,
    ECMA_ATTRIBUTE_FIELDS,
    FUNCTION_TYPES,
    IF_TYPES,
    INDEX_PARENTS,
    KEYWORDS,
    LOOP_TYPES,
    NOT_VARIABLE_FIELDS,
    NOT_VARIABLE_PARENTS,
    PAREN_TYPES,
    SCOPE_TYPES,
    SELF_NAMES,
    STRING_TYPES,
    WHILE_TYPES,
)
from manyskills.index.languages import LANGUAGE_NAMES, family
from manyskills.index.treesitter import SyntaxNode, SyntaxTree, parse

__all__ = ["MAX_CODE_CHARS", "FunctionSyntax", "analyze", "apply_edits", "compiles", "unwrap_statement"]

MAX_CODE_CHARS = 20_000  # longer functions are skipped (generated code, tables)


# --- parsing a function on its own ----------------------------------------------------------------

_WRAPPERS = {
    "python": [("", "")],
    "javascript": [("", ""), ("class _W {\n", "\n}")],
    "typescript": [("", ""), ("class _W {\n", "\n}")],
    "tsx": [("", ""), ("class _W {\n", "\n}")],
    "java": [("", ""), ("class _W {\n", "\n}")],
    "c": [("", "")],
    "cpp": [("", ""), ("struct _W {\n", "\n};")],
    "go": [("", "")],
    "rust": [("", ""), ("impl _W {\n", "\n}")],
}


def _parse_fragment(language: str, code: str) -> tuple[SyntaxTree, str, str] | None:
    """Parse a function's text on its own: as is, or inside a minimal wrapper (a class for a
    method). None when no wrapper gives an error-free tree."""
    for prefix, suffix in _WRAPPERS.get(language, [("", "")]):
        tree = parse(language, prefix + code + suffix)
        if not tree.has_errors:
            return tree, prefix, suffix
    return None


def _python_wrapper(code: str) -> str | None:
    """A prefix under which a Python function's text compiles (methods cut out of a class keep
    their indentation, decorators may sit left of the `def`). None if it does not compile."""
    candidates = [""]
    for line in code.split("\n")[1:]:
        stripped = line.lstrip(" \t")
        if stripped.startswith(("def ", "async def ")):
            indent = line[: len(line) - len(stripped)]
            candidates.append("if 1:\n" + (indent or " "))
            break
    for prefix in candidates:
        if compiles(prefix + code):
            return prefix
    return None


def compiles(source: str) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(source, "<mutant>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return False
    return True


# --- a function's syntax --------------------------------------------------------------------------


class FunctionSyntax:
    """A function's text with its syntax tree, node offsets (in `code`), variables and scopes."""

    def __init__(self, language: str, code: str, tree: SyntaxTree, prefix: str, suffix: str):
        self.language = language
        self.family = family(language)
        self.code = code
        self.tree = tree
        self.prefix = prefix
        self.suffix = suffix
        self.base = len(prefix)
        self.python_prefix: str | None = None
        self._offsets: dict[tuple, tuple[int, int]] = {}
        self._ascii = tree.source.is_ascii
        self.line_starts = [0] + [i + 1 for i, ch in enumerate(code) if ch == "\n"]
        self.lines = code.split("\n")
        # "\r" when the code uses CRLF line ends: new lines get the same ending
        self.cr = "\r" if sum(line.endswith("\r") for line in self.lines) * 2 > len(self.lines) - 1 > 0 else ""

        self.nodes: list[SyntaxNode] = []
        self.by_type: dict[str, list[SyntaxNode]] = defaultdict(list)
        self.function_node: SyntaxNode | None = None
        end = len(code)
        for node in tree.root.walk():
            start, stop = self.span(node)
            if start < 0 or stop > end or (start == stop and node.is_named):
                continue
            if self.function_node is None and node.type in FUNCTION_TYPES:
                self.function_node = node
            self.nodes.append(node)
            self.by_type[node.type].append(node)
        body = self.function_node.child_by_field("body") if self.function_node is not None else None
        self.body = body
        self.body_start = self.span(body)[0] if body is not None else 0
        # edits may start here: the body's first line from its indentation on, if the body starts it
        line_start = self.line_starts[self.line_of(self.body_start)]
        self.edit_floor = line_start if not code[line_start:self.body_start].strip() else self.body_start
        self.name = self._function_name()
        self._variables: tuple | None = None

    # --- offsets and lines ----------------------------------------------------------------------
    def span(self, node: SyntaxNode) -> tuple[int, int]:
        """(start, end) of a node as offsets into `code`."""
        if self._ascii:  # byte offsets are character offsets
            return node.start_byte - self.base, node.end_byte - self.base
        key = node.key
        found = self._offsets.get(key)
        if found is None:
            found = self._offsets[key] = (node.start_offset - self.base, node.end_offset - self.base)
        return found

    def start(self, node: SyntaxNode) -> int:
        return self.span(node)[0]

    def end(self, node: SyntaxNode) -> int:
        return self.span(node)[1]

    def text(self, node: SyntaxNode) -> str:
        start, end = self.span(node)
        return self.code[start:end]

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.line_starts, offset) - 1

    def indent_of_line(self, line: int) -> str:
        text = self.lines[line]
        return text[: len(text) - len(text.lstrip(" \t"))]

    def whole_lines(self, node: SyntaxNode) -> tuple[int, int] | None:
        """(first, last) line when the node is alone on its lines (only whitespace around it)."""
        start, end = self.span(node)
        first, last = self.line_of(start), self.line_of(end)
        if self.code[self.line_starts[first]:start].strip():
            return None
        line_end = self.line_starts[last + 1] - 1 if last + 1 < len(self.line_starts) else len(self.code)
        if self.code[end:line_end].strip():
            return None
        return first, last

    def in_body(self, node: SyntaxNode) -> bool:
        return self.start(node) >= self.body_start

    def typed(self, *types: str) -> Iterator[SyntaxNode]:
        """Nodes of the given types inside the body, in source order."""
        if len(types) == 1:
            nodes: Iterable[SyntaxNode] = self.by_type.get(types[0], ())
        else:
            nodes = sorted((n for t in types for n in self.by_type.get(t, ())), key=self.span)
        for node in nodes:
            if self.start(node) >= self.body_start:
                yield node

    # --- language helpers -------------------------------------------------------------------------
    @property
    def terminator(self) -> str:
        return "" if self.language in ("python", "go") else ";"

    def is_string(self, node: SyntaxNode) -> bool:
        return node.type in STRING_TYPES

    def named(self, node: SyntaxNode) -> list[SyntaxNode]:
        return [c for c in node.named_children if c.type not in COMMENT_TYPES]

    def statements(self, block: SyntaxNode) -> list[SyntaxNode]:
        return [c for c in self.named(block) if c.type not in ("{", "}")]

    def unwrap(self, node: SyntaxNode | None) -> SyntaxNode | None:
        while node is not None and node.type in PAREN_TYPES:
            inner = self.named(node)
            if len(inner) != 1:
                return node
            node = inner[0]
        return node

    def condition(self, node: SyntaxNode) -> SyntaxNode | None:
        """The (unparenthesized) condition of an if/while/for node."""
        cond = node.child_by_field("condition")
        if cond is None and self.language == "go" and node.type == "for_statement":
            for child in self.named(node):
                if child.type not in ("for_clause", "range_clause", "block"):
                    cond = child
                    break
            else:
                clause = next((c for c in node.named_children if c.type == "for_clause"), None)
                cond = clause.child_by_field("condition") if clause is not None else None
        if cond is not None and cond.type == "expression_statement":  # JS `for (;cond;)`
            inner = self.named(cond)
            cond = inner[0] if len(inner) == 1 else None
        return self.unwrap(cond)

    def if_types(self) -> tuple[str, ...]:
        return IF_TYPES.get(self.language, ("if_statement",))

    def while_types(self) -> tuple[str, ...]:
        if self.language in WHILE_TYPES:
            return WHILE_TYPES[self.language]
        return ("while_statement", "do_statement")

    def loop_types(self) -> tuple[str, ...]:
        return LOOP_TYPES.get(self.language, DEFAULT_LOOP_TYPES)

    def call_types(self) -> tuple[str, ...]:
        return CALL_TYPES.get(self.language, ("call_expression",))

    def binary_type(self) -> str:
        return BINARY_TYPE.get(self.language, "binary_expression")

    def binary_parts(self, node: SyntaxNode) -> tuple[SyntaxNode, int, int, str, SyntaxNode] | None:
        """(left, operator start, operator end, operator text, right) of a binary/comparison node."""
        if node.type == "comparison_operator":
            operands = self.named(node)
            if len(operands) != 2:
                return None
            tokens = [c for c in node.children if not c.is_named]
            if not tokens:
                return None
            op_start, op_end = self.start(tokens[0]), self.end(tokens[-1])
            return operands[0], op_start, op_end, " ".join(self.code[op_start:op_end].split()), operands[1]
        left, op, right = node.child_by_field("left"), node.child_by_field("operator"), node.child_by_field("right")
        if left is None or op is None or right is None:
            return None
        op_start, op_end = self.span(op)
        return left, op_start, op_end, self.code[op_start:op_end], right

    def attribute_parts(self, node: SyntaxNode) -> tuple[SyntaxNode | None, SyntaxNode] | None:
        table = ECMA_ATTRIBUTE_FIELDS if self.family == "ecma" else ATTRIBUTE_FIELDS.get(self.language, {})
        fields = table.get(node.type)
        if fields is None:
            return None
        name = node.child_by_field(fields[1])
        if name is None:
            return None
        return node.child_by_field(fields[0]), name

    def attribute_types(self) -> tuple[str, ...]:
        table = ECMA_ATTRIBUTE_FIELDS if self.family == "ecma" else ATTRIBUTE_FIELDS.get(self.language, {})
        return tuple(table)

    def call_parts(self, node: SyntaxNode) -> tuple[str, list[SyntaxNode]] | None:
        """(callee text, argument nodes) of a call."""
        args = node.child_by_field("arguments")
        if args is None:
            return None
        if node.type == "method_invocation":
            name = node.child_by_field("name")
            callee = self.text(name) if name is not None else ""
        else:
            function = node.child_by_field("function") or node.child_by_field("constructor") \
                or node.child_by_field("type")
            callee = self.text(function) if function is not None else ""
        return callee, self.named(args)

    def is_called(self, attribute: SyntaxNode) -> bool:
        if attribute.type == "method_invocation":
            return True
        parent = attribute.parent
        if parent is None or parent.type not in self.call_types():
            return False
        function = parent.child_by_field("function")
        return function is not None and function.key == attribute.key

    def _function_name(self) -> str:
        node = self.function_node
        if node is None:
            return ""
        name = node.child_by_field("name")
        if name is None:
            declarator = node.child_by_field("declarator")
            while declarator is not None and declarator.child_by_field("declarator") is not None:
                declarator = declarator.child_by_field("declarator")
            name = declarator
        if name is None:
            parent = node.parent  # `const f = () => ...`
            if parent is not None and parent.type == "variable_declarator":
                name = parent.child_by_field("name")
        if name is None:
            return ""
        return re.split(r"::|\.", self.text(name))[-1]

    # --- variables ------------------------------------------------------------------------------
    def _is_binding(self, node: SyntaxNode) -> bool:
        binders = BINDERS.get(self.family, {})
        patterns = BINDING_PATTERNS.get(self.family, frozenset())
        child, parent = node, node.parent
        while parent is not None:
            if parent.type in binders:
                field_name = binders[parent.type]
                if field_name is None:
                    return parent.type != "typed_parameter" or self.named(parent)[0].key == child.key
                return any(c.key == child.key for c in parent.children_by_field(field_name))
            if parent.type in patterns:
                if parent.type == "assignment_pattern":
                    left = parent.child_by_field("left")
                    if left is None or left.key != child.key:
                        return False
                elif parent.type == "tuple_struct_pattern":
                    kind = parent.child_by_field("type")
                    if kind is not None and kind.key == child.key:
                        return False
                child, parent = parent, parent.parent
                continue
            return False
        return False

    def is_variable_position(self, node: SyntaxNode) -> bool:
        parent = node.parent
        if parent is None:
            return False
        if parent.type in NOT_VARIABLE_PARENTS.get(self.family, ()):
            return False
        for parent_type, field_name in NOT_VARIABLE_FIELDS.get(self.family, ()):
            if parent.type == parent_type:
                target = parent.child_by_field(field_name)
                if target is not None and target.key == node.key:
                    return False
        if self.language == "go" and parent.type == "literal_element":
            grand = parent.parent
            if grand is not None and grand.type == "keyed_element" and grand.named_children[0].key == parent.key:
                return False
        return True

    def _scope_of(self, node: SyntaxNode) -> tuple[int, int]:
        scopes = SCOPE_TYPES["python"] if self.language == "python" else SCOPE_TYPES["brace"]
        parent = node.parent
        while parent is not None:
            if parent.type in scopes or parent.type in FUNCTION_TYPES:
                start, end = self.span(parent)
                return max(start, 0), min(end, len(self.code))
            parent = parent.parent
        return 0, len(self.code)

    def variables(self) -> tuple[dict[str, list[tuple[int, int, int]]], dict[str, list[SyntaxNode]],
                                 dict[str, list[SyntaxNode]], set[str]]:
        """(bindings, uses, all occurrences, unsafe names).

        bindings: name -> [(binding offset, scope start, scope end)] for parameters and locals;
        uses: name -> identifier nodes in the body reading a bound name (not binding it);
        occurrences: name -> every identifier node of a bound name in variable position;
        unsafe: names that must not be renamed (global/nonlocal, shorthand properties, ...)."""
        if self._variables is not None:
            return self._variables
        bindings: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
        occurrences: dict[str, list[SyntaxNode]] = defaultdict(list)
        binding_keys = set()
        for node in self.by_type.get("identifier", ()):
            if not self.is_variable_position(node):
                continue
            name = self.text(node)
            occurrences[name].append(node)
            if self._is_binding(node):
                binding_keys.add(node.key)
                scope = self._scope_of(node)
                if self._in_parameters(node):
                    bindings[name].append((scope[0], scope[0], scope[1]))
                else:
                    bindings[name].append((self.start(node), scope[0], scope[1]))
        uses: dict[str, list[SyntaxNode]] = defaultdict(list)
        for name, nodes in occurrences.items():
            if name not in bindings:
                continue
            for node in nodes:
                if node.key not in binding_keys and self.start(node) >= self.body_start:
                    uses[name].append(node)
        unsafe = set()
        for kind in ("shorthand_property_identifier", "shorthand_property_identifier_pattern"):
            unsafe.update(self.text(n) for n in self.by_type.get(kind, ()))
        for kind in ("global_statement", "nonlocal_statement", "shorthand_field_initializer"):
            for node in self.by_type.get(kind, ()):
                unsafe.update(self.text(n) for n in node.named_children)
        # a name bound somewhere else, or used under another role, is left alone
        for name in bindings:
            if name in SELF_NAMES or name in KEYWORDS:
                unsafe.add(name)
        self._variables = (dict(bindings), dict(uses), dict(occurrences), unsafe)
        return self._variables

    def _in_parameters(self, node: SyntaxNode) -> bool:
        parent = node.parent
        while parent is not None:
            if parent.type in ("parameters", "formal_parameters", "parameter_list", "lambda_parameters",
                               "closure_parameters", "inferred_parameters"):
                return True
            if parent.type in FUNCTION_TYPES or parent.type in BLOCK_TYPES:
                return False
            parent = parent.parent
        return False

    def in_scope(self, name: str, at: int) -> bool:
        """Is `name` bound on a line before `at` (or a parameter), in a scope containing `at`?"""
        bindings = self.variables()[0].get(name, ())
        line_start = self.line_starts[self.line_of(at)]
        return any((bound < line_start or bound == start) and start <= at < end for bound, start, end in bindings)

    def spaced_operators(self, in_index: bool = False) -> bool:
        """Does this code put spaces around `+`/`-` (inside subscripts when `in_index`)? Decides how
        an inserted `+ 1` is written."""
        if in_index:
            votes = self._spacing_votes(lambda node: node.parent is not None and node.parent.type in INDEX_PARENTS)
            if votes[0] or votes[1]:
                return votes[0] >= votes[1]
            if self.language == "go":
                return False
        spaced, tight = self._spacing_votes(lambda node: True)
        return spaced >= tight

    def _spacing_votes(self, keep: Callable[[SyntaxNode], bool]) -> tuple[int, int]:
        spaced = tight = 0
        for node in self.by_type.get(self.binary_type(), ()):
            parts = self.binary_parts(node)
            if parts is None or parts[3] not in ("+", "-", "*") or not keep(node):
                continue
            if self.code[parts[1] - 1:parts[1]] in (" ", "\t"):
                spaced += 1
            else:
                tight += 1
        return spaced, tight


def analyze(language: str, code: str) -> FunctionSyntax | None:
    """Parse a function's text for mutation (None if it does not parse cleanly, or for Python does
    not compile on its own)."""
    if language not in LANGUAGE_NAMES or not code.strip() or len(code) > MAX_CODE_CHARS:
        return None
    parsed = _parse_fragment(language, code)
    if parsed is None:
        return None
    tree, prefix, suffix = parsed
    syntax = FunctionSyntax(language, code, tree, prefix, suffix)
    if language == "python":
        syntax.python_prefix = _python_wrapper(code)
        if syntax.python_prefix is None:
            return None
    return syntax


def unwrap_statement(node: SyntaxNode) -> SyntaxNode:
    """The expression of an expression statement (`f(x);` -> `f(x)`), else the node itself."""
    if node.type == "expression_statement" and len(node.named_children) == 1:
        return node.named_children[0]
    return node


def apply_edits(code: str, edits: list[tuple[int, int, str]]) -> str:
    """`code` with each (start, end, new) edit applied; edits must not overlap."""
    for start, end, new in sorted(edits, reverse=True):
        code = code[:start] + new + code[end:]
    return code
