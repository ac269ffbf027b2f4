"""Bug injection: turn real functions into (clean, buggy) training pairs for the defect skills.

`make_defect_examples(functions, seed)` gives, for each function that admits a mutation, one clean
negative and up to `per_function` mutated positives sharing a `pair_id`. Every mutation is an edit
of the original text at character offsets found through the syntax tree (`manyskills.index.
treesitter`), so formatting, comments and indentation style stay exactly as the author wrote them.
A mutant is kept only when

* it re-parses without syntax errors (and, for Python, still compiles),
* it differs from the original, and
* replacing ONE line of it (`fix_line`) with `fix_replacement` gives back the original exactly
  (the repair target), so every bug is localised to one line (`bug_lines`).

Operators (`OPERATORS`) cover the classic single-point bugs (wrong operator, off-by-one, negated
condition, swapped arguments/branches, variable misuse, wrong literal/return/attribute, removed
check, missing await/break, ...) plus *inserting* operators (duplicated statement, extra
increment, extra break, reset inside a loop, return inside a loop) so that deleting operators are
balanced and length does not separate buggy from clean code. The generator balances operators (no
operator above `max_share` of the positives) and steers the running length difference between
buggy and clean code back to zero; `length_baseline_auc` and `operator_stats` measure the result.
"""

from __future__ import annotations

import bisect
import itertools
import random
import re
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from manyskills.data import notes as _notes
from manyskills.data.records import CorpusFunction, DefectExample, stable_id
from manyskills.index.treesitter import SyntaxNode, SyntaxTree, parse

__all__ = [
    "DELETING_OPERATORS",
    "INSERTING_OPERATORS",
    "LANGUAGES",
    "MAX_OPERATOR_SHARE",
    "OPERATORS",
    "FunctionSyntax",
    "Mutant",
    "analyze",
    "apply_fix",
    "candidate_mutants",
    "length_baseline_auc",
    "line_fix",
    "make_defect_examples",
    "mutate_function",
    "operator_stats",
]

LANGUAGES = ("python", "javascript", "typescript", "tsx", "java", "c", "cpp", "go", "rust")
ECMA = frozenset({"javascript", "typescript", "tsx"})
C_LIKE = frozenset({"javascript", "typescript", "tsx", "java", "c", "cpp"})  # `;`, `++`, `?:`, `switch`

MAX_OPERATOR_SHARE = 0.12
MAX_CODE_CHARS = 20_000  # longer functions are skipped (generated code, tables)

OPERATORS = (
    "wrong_binary_operator",
    "wrong_comparison",
    "off_by_one",
    "negated_condition",
    "swapped_branches",
    "swapped_arguments",
    "variable_misuse",
    "wrong_literal",
    "removed_check",
    "wrong_return_value",
    "is_vs_equality",
    "assignment_vs_equality",
    "missing_await",
    "missing_break",
    "wrong_attribute",
    "wrong_recursive_argument",
    "wrong_base_case",
    "and_or_swap",
    "increment_swap",
    # inserting operators (add a plausible but wrong statement)
    "extra_increment",
    "duplicated_statement",
    "duplicated_assignment",
    "extra_break",
    "reset_in_loop",
    "return_in_loop",
)
DELETING_OPERATORS = frozenset({"removed_check", "missing_await", "missing_break"})
INSERTING_OPERATORS = frozenset(
    {"extra_increment", "duplicated_statement", "duplicated_assignment", "extra_break", "reset_in_loop",
     "return_in_loop"}
)

# --- per-language node types ----------------------------------------------------------------------

_FUNCTION_TYPES = frozenset({
    "function_definition", "function_declaration", "function_expression", "function",
    "method_definition", "arrow_function", "generator_function_declaration", "generator_function",
    "method_declaration", "constructor_declaration", "compact_constructor_declaration",
    "function_item", "func_literal", "lambda_expression", "closure_expression", "lambda",
})

_BINARY = {"python": "binary_operator"}  # default "binary_expression"
_INT_TYPES = frozenset({"integer", "number", "decimal_integer_literal", "number_literal", "int_literal",
                        "integer_literal"})
_FLOAT_TYPES = frozenset({"float", "decimal_floating_point_literal", "float_literal"})
_STRING_TYPES = frozenset({"string", "template_string", "string_literal", "interpreted_string_literal",
                           "raw_string_literal", "concatenated_string", "char_literal",
                           "character_literal", "rune_literal", "raw_string"})
_BOOL_TYPES = frozenset({"true", "false", "boolean_literal"})
_NULL_TYPES = frozenset({"none", "null", "null_literal", "nil", "undefined"})
_COMMENT_TYPES = frozenset({"comment", "line_comment", "block_comment"})
_PAREN_TYPES = frozenset({"parenthesized_expression", "condition", "condition_clause"})

_IF = {"python": ("if_statement", "elif_clause"), "rust": ("if_expression",)}  # default if_statement
_WHILE = {"python": ("while_statement",), "rust": ("while_expression",), "go": ()}
_LOOPS = {
    "python": ("for_statement", "while_statement"),
    "go": ("for_statement",),
    "rust": ("for_expression", "while_expression", "loop_expression"),
    "java": ("for_statement", "enhanced_for_statement", "while_statement", "do_statement"),
    "cpp": ("for_statement", "for_range_loop", "while_statement", "do_statement"),
}  # default: C-like
_LOOPS_DEFAULT = ("for_statement", "for_in_statement", "while_statement", "do_statement")
_CALLS = {"python": ("call",), "java": ("method_invocation", "object_creation_expression"),
          "javascript": ("call_expression", "new_expression"), "typescript": ("call_expression", "new_expression"),
          "tsx": ("call_expression", "new_expression")}  # default call_expression
_RETURN = {"rust": "return_expression"}  # default return_statement
_BREAK = {"rust": "break_expression"}  # default break_statement
_JUMPS = frozenset({"return_statement", "return_expression", "raise_statement", "throw_statement",
                    "continue_statement", "continue_expression", "break_statement", "break_expression"})
_BLOCKS = frozenset({"block", "statement_block", "compound_statement", "switch_body", "switch_block",
                     "declaration_list", "module"})
_AUG_ASSIGN = {"python": "augmented_assignment", "rust": "compound_assignment_expr", "go": "assignment_statement",
               "javascript": "augmented_assignment_expression", "typescript": "augmented_assignment_expression",
               "tsx": "augmented_assignment_expression"}  # default assignment_expression
_UPDATES = frozenset({"update_expression", "inc_statement", "dec_statement"})
_TERNARY = {"python": "conditional_expression", "c": "conditional_expression", "cpp": "conditional_expression",
            "java": "ternary_expression", "javascript": "ternary_expression", "typescript": "ternary_expression",
            "tsx": "ternary_expression"}
_ATTRIBUTE = {  # node type -> (object field, name field)
    "python": {"attribute": ("object", "attribute")},
    "java": {"field_access": ("object", "field"), "method_invocation": ("object", "name")},
    "c": {"field_expression": ("argument", "field")},
    "cpp": {"field_expression": ("argument", "field")},
    "go": {"selector_expression": ("operand", "field")},
    "rust": {"field_expression": ("value", "field")},
}
_ATTRIBUTE_ECMA = {"member_expression": ("object", "property")}

# Identifiers that are bound (declared) by their position: binder node type -> field holding the
# binding (None: any child), and pattern node types the binding may sit inside.
_BINDERS = {
    "python": {"parameters": None, "lambda_parameters": None, "default_parameter": "name",
               "typed_default_parameter": "name", "typed_parameter": None, "assignment": "left",
               "augmented_assignment": "left", "for_statement": "left", "for_in_clause": "left",
               "named_expression": "name", "as_pattern_target": None},
    "ecma": {"formal_parameters": None, "required_parameter": "pattern", "optional_parameter": "pattern",
             "variable_declarator": "name", "for_in_statement": "left", "catch_clause": "parameter",
             "arrow_function": "parameter"},
    "java": {"formal_parameter": "name", "catch_formal_parameter": "name", "variable_declarator": "name",
             "enhanced_for_statement": "name", "inferred_parameters": None, "lambda_expression": "parameters",
             "resource": "name"},
    "c": {"parameter_declaration": "declarator", "optional_parameter_declaration": "declarator",
          "init_declarator": "declarator", "declaration": "declarator", "for_range_loop": "declarator"},
    "go": {"parameter_declaration": "name", "variadic_parameter_declaration": "name", "var_spec": "name",
           "const_spec": "name", "short_var_declaration": "left", "range_clause": "left"},
    "rust": {"parameter": "pattern", "let_declaration": "pattern", "for_expression": "pattern",
             "closure_parameters": None, "let_condition": "pattern"},
}
_PATTERNS = {
    "python": frozenset({"pattern_list", "tuple_pattern", "list_pattern", "list_splat_pattern",
                         "dictionary_splat_pattern", "parenthesized_expression"}),
    "ecma": frozenset({"array_pattern", "rest_pattern", "assignment_pattern"}),
    "java": frozenset(),
    "c": frozenset({"pointer_declarator", "array_declarator", "reference_declarator", "parenthesized_declarator"}),
    "go": frozenset({"expression_list"}),
    "rust": frozenset({"tuple_pattern", "mut_pattern", "ref_pattern", "reference_pattern", "slice_pattern",
                       "tuple_struct_pattern", "captured_pattern"}),
}
# (parent type, field) pairs where an identifier is a name of something else, not a variable.
_NOT_VARIABLE = {
    "python": {("attribute", "attribute"), ("keyword_argument", "name"), ("function_definition", "name"),
               ("class_definition", "name")},
    "ecma": {("function_declaration", "name"), ("function_expression", "name"), ("function", "name"),
             ("class_declaration", "name"), ("generator_function_declaration", "name")},
    "java": {("method_invocation", "name"), ("field_access", "field"), ("method_declaration", "name"),
             ("class_declaration", "name"), ("constructor_declaration", "name")},
    "c": {("function_declarator", "declarator")},
    "go": {("function_declaration", "name")},
    "rust": {("function_item", "name"), ("macro_invocation", "macro"), ("tuple_struct_pattern", "type")},
}
_NOT_VARIABLE_PARENTS = {
    "python": frozenset({"dotted_name", "aliased_import", "import_statement", "import_from_statement",
                         "global_statement", "nonlocal_statement", "decorator"}),
    "ecma": frozenset({"import_specifier", "export_specifier", "namespace_import", "labeled_statement"}),
    "java": frozenset({"scoped_identifier", "package_declaration", "import_declaration", "annotation",
                       "marker_annotation"}),
    "c": frozenset({"qualified_identifier", "preproc_def", "preproc_function_def", "template_function"}),
    "go": frozenset({"package_clause", "import_spec", "labeled_statement"}),
    "rust": frozenset({"scoped_identifier", "shorthand_field_initializer", "use_declaration", "scoped_use_list",
                       "use_as_clause", "generic_function"}),
}
# Nodes that open a scope for the names bound inside them.
_SCOPES = {
    "python": frozenset({"function_definition", "lambda", "list_comprehension", "set_comprehension",
                         "dictionary_comprehension", "generator_expression", "class_definition"}),
    "brace": frozenset({"block", "statement_block", "compound_statement", "for_statement", "for_in_statement",
                        "enhanced_for_statement", "for_range_loop", "for_expression", "catch_clause",
                        "closure_expression", "lambda_expression", "arrow_function", "if_statement",
                        "switch_block_statement_group", "case_statement", "expression_case",
                        "type_switch_statement", "match_arm", "if_expression", "while_expression"}),
}
_SELF_NAMES = frozenset({"self", "cls", "this", "_"})
_KEYWORDS = frozenset(
    "and as assert async await break case catch class const continue def default del do elif else enum "
    "except export extends false final finally fn for from func function go goto if impl import in "
    "instanceof interface is lambda let loop match mod move mut new nil none None not null or package "
    "pass pub raise ref return self Self static struct super switch this throw trait true True False try "
    "type typeof undefined unsafe use var void where while with yield int float char long short double "
    "bool boolean string str byte auto signed unsigned sizeof range chan map select defer fallthrough "
    "dyn crate extern union volatile register inline template typename namespace operator private "
    "protected public virtual override delete friend mutable explicit noexcept nullptr constexpr "
    "print len list dict set tuple object type id input open iter next max min sum abs all any".split()
)


def _family(language: str) -> str:
    if language in ECMA:
        return "ecma"
    if language in ("c", "cpp"):
        return "c"
    return language


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
        if _compiles(prefix + code):
            return prefix
    return None


def _compiles(source: str) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(source, "<mutant>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return False
    return True


class FunctionSyntax:
    """A function's text with its syntax tree, node offsets (in `code`), variables and scopes."""

    def __init__(self, language: str, code: str, tree: SyntaxTree, prefix: str, suffix: str):
        self.language = language
        self.family = _family(language)
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
            if self.function_node is None and node.type in _FUNCTION_TYPES:
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
        return node.type in _STRING_TYPES

    def named(self, node: SyntaxNode) -> list[SyntaxNode]:
        return [c for c in node.named_children if c.type not in _COMMENT_TYPES]

    def statements(self, block: SyntaxNode) -> list[SyntaxNode]:
        return [c for c in self.named(block) if c.type not in ("{", "}")]

    def unwrap(self, node: SyntaxNode | None) -> SyntaxNode | None:
        while node is not None and node.type in _PAREN_TYPES:
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
        return _IF.get(self.language, ("if_statement",))

    def while_types(self) -> tuple[str, ...]:
        if self.language in _WHILE:
            return _WHILE[self.language]
        return ("while_statement", "do_statement")

    def loop_types(self) -> tuple[str, ...]:
        return _LOOPS.get(self.language, _LOOPS_DEFAULT)

    def call_types(self) -> tuple[str, ...]:
        return _CALLS.get(self.language, ("call_expression",))

    def binary_type(self) -> str:
        return _BINARY.get(self.language, "binary_expression")

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
        table = _ATTRIBUTE_ECMA if self.family == "ecma" else _ATTRIBUTE.get(self.language, {})
        fields = table.get(node.type)
        if fields is None:
            return None
        name = node.child_by_field(fields[1])
        if name is None:
            return None
        return node.child_by_field(fields[0]), name

    def attribute_types(self) -> tuple[str, ...]:
        table = _ATTRIBUTE_ECMA if self.family == "ecma" else _ATTRIBUTE.get(self.language, {})
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
        binders = _BINDERS.get(self.family, {})
        patterns = _PATTERNS.get(self.family, frozenset())
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
        if parent.type in _NOT_VARIABLE_PARENTS.get(self.family, ()):
            return False
        for parent_type, field_name in _NOT_VARIABLE.get(self.family, ()):
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
        scopes = _SCOPES["python"] if self.language == "python" else _SCOPES["brace"]
        parent = node.parent
        while parent is not None:
            if parent.type in scopes or parent.type in _FUNCTION_TYPES:
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
            if name in _SELF_NAMES or name in _KEYWORDS:
                unsafe.add(name)
        self._variables = (dict(bindings), dict(uses), dict(occurrences), unsafe)
        return self._variables

    def _in_parameters(self, node: SyntaxNode) -> bool:
        parent = node.parent
        while parent is not None:
            if parent.type in ("parameters", "formal_parameters", "parameter_list", "lambda_parameters",
                               "closure_parameters", "inferred_parameters"):
                return True
            if parent.type in _FUNCTION_TYPES or parent.type in _BLOCKS:
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
            votes = self._spacing_votes(lambda node: node.parent is not None and node.parent.type in _INDEX_PARENTS)
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
    if language not in LANGUAGES or not code.strip() or len(code) > MAX_CODE_CHARS:
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


# --- fixes ------------------------------------------------------------------------------------------


def apply_fix(code: str, fix_line: int, fix_replacement: str) -> str:
    """Replace line `fix_line` of `code` by `fix_replacement` ("" deletes the line; "\\n" inside
    the replacement inserts lines)."""
    lines = code.split("\n")
    if fix_replacement == "":
        del lines[fix_line]
    else:
        lines[fix_line] = fix_replacement
    return "\n".join(lines)


def line_fix(original: str, mutant: str) -> tuple[list[int], int, str] | None:
    """(bug_lines, fix_line, fix_replacement) turning `mutant` back into `original` by replacing one
    line, or None when the difference does not fit one line of the mutant."""
    old, new = original.split("\n"), mutant.split("\n")
    prefix = 0
    while prefix < len(old) and prefix < len(new) and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while (suffix < len(old) - prefix and suffix < len(new) - prefix
           and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]):
        suffix += 1
    old_region = old[prefix:len(old) - suffix]
    new_region = new[prefix:len(new) - suffix]
    if len(new_region) == 1:
        replacement = "\n".join(old_region)
        if old_region and replacement == "":
            return None  # the fix would blank the line, which "" cannot express
        fix_line = prefix
    elif not new_region and old_region:
        if prefix < len(new):
            fix_line, replacement = prefix, "\n".join([*old_region, new[prefix]])
        elif prefix > 0:
            fix_line, replacement = prefix - 1, "\n".join([new[prefix - 1], *old_region])
        else:
            return None
    else:
        return None
    if apply_fix(mutant, fix_line, replacement) != original:
        return None
    return [fix_line], fix_line, replacement


# --- edits ------------------------------------------------------------------------------------------


@dataclass
class _Edit:
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


@dataclass
class Mutant:
    operator: str
    code: str
    bug_lines: list[int]
    fix_line: int
    fix_replacement: str
    note: str
    info: dict


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _replace_in(f: FunctionSyntax, node: SyntaxNode, start: int, end: int, new: str) -> str:
    """The node's text with [start, end) (offsets into the code) replaced by `new`."""
    node_start, node_end = f.span(node)
    return f.code[node_start:start] + new + f.code[end:node_end]


def _int_value(text: str) -> int | None:
    return int(text) if re.fullmatch(r"\d{1,3}", text) else None


def _plus_one(f: FunctionSyntax, expr: SyntaxNode, delta: int, spaced: bool) -> str:
    text = f.text(expr)
    value = _int_value(text)
    if value is not None and expr.type in _INT_TYPES:
        return str(value + delta) if value + delta >= 0 else text
    sp = " " if spaced else ""
    return f"{text}{sp}{'+' if delta > 0 else '-'}{sp}1"


_INDEX_PARENTS = frozenset({"subscript", "slice", "subscript_expression", "array_access", "index_expression",
                            "slice_expression", "subscript_argument_list"})
_ATOMIC = frozenset({"identifier", "call", "call_expression", "attribute", "member_expression", "field_access",
                     "method_invocation", "field_expression", "selector_expression", "subscript",
                     "subscript_expression", "index_expression", "array_access", "parenthesized_expression",
                     "this", "self"}) | _INT_TYPES


def _is_plus_minus_one(f: FunctionSyntax, node: SyntaxNode) -> tuple[SyntaxNode, str] | None:
    """`X + 1` / `X - 1` -> (X, op)."""
    if node.type != f.binary_type():
        return None
    parts = f.binary_parts(node)
    if parts is None or parts[3] not in ("+", "-"):
        return None
    left, _, _, op, right = parts
    if right.type in _INT_TYPES and f.text(right) == "1":
        return left, op
    return None


def _len_like(f: FunctionSyntax, node: SyntaxNode) -> bool:
    text = f.text(node)
    if node.type in ("call", "call_expression"):
        return bool(re.fullmatch(r"(len|strlen)\(\s*[\w.\[\]]+\s*\)|[\w.\[\]]+\.(len|size|length|count)\(\)", text))
    if node.type in ("method_invocation",):
        return bool(re.fullmatch(r"[\w.]+\.(size|length)\(\)", text))
    if node.type in ("member_expression", "field_access", "selector_expression"):
        return text.endswith(".length")
    return False


# --- operators --------------------------------------------------------------------------------------
# Each yields candidate edits; `_validate` keeps those that parse, compile and fix in one line.

_ARITH_SWAP = {"+": ("-",), "-": ("+",), "*": ("/", "+"), "/": ("*",), "%": ("/",), "<<": (">>",), ">>": ("<<",),
               "&": ("|",), "|": ("&",), "^": ("&",), "//": ("/",), "**": ("*",)}
_CMP_SWAP = {"<": ("<=", ">"), "<=": ("<", ">="), ">": (">=", "<"), ">=": (">", "<="), "==": ("!=",),
             "!=": ("==",), "===": ("!==",), "!==": ("===",), "in": ("not in",), "not in": ("in",)}
_ORDER_OPS = frozenset({"<", "<=", ">", ">="})
_BOUND_SWAP = {"<": "<=", "<=": "<", ">": ">=", ">=": ">"}


def _op_wrong_binary_operator(f: FunctionSyntax) -> Iterator[_Edit]:
    for node in f.typed(f.binary_type()):
        parts = f.binary_parts(node)
        if parts is None:
            continue
        left, op_start, op_end, op, right = parts
        alternatives = _ARITH_SWAP.get(op)
        if not alternatives or _is_collection(left) or _is_collection(right):
            continue
        if op == "//" and f.language != "python" or op == "**" and f.language != "python":
            continue
        if op == "/" and f.language == "python":
            alternatives = ("*", "//")
        if op in ("&", "|", "^") and f.language == "rust" and node.parent is not None \
                and node.parent.type == "binary_expression":
            continue
        for alt in alternatives:
            bad = _replace_in(f, node, op_start, op_end, alt)
            yield _Edit("wrong_binary_operator", op_start, op_end, alt,
                        {"good": op, "bad": alt, "good_expr": _short(f.text(node)), "bad_expr": _short(bad)})


def _comparisons(f: FunctionSyntax) -> Iterator[tuple[SyntaxNode, tuple]]:
    types = ("comparison_operator",) if f.language == "python" else (f.binary_type(),)
    for node in f.typed(*types):
        parts = f.binary_parts(node)
        if parts is not None and parts[3] in _CMP_SWAP:
            yield node, parts


def _loop_bound_keys(f: FunctionSyntax) -> set[tuple]:
    keys = set()
    for loop in f.typed(*f.loop_types(), *f.while_types()):
        cond = f.condition(loop)
        if cond is not None:
            keys.add(cond.key)
    return keys


def _op_wrong_comparison(f: FunctionSyntax) -> Iterator[_Edit]:
    bounds = _loop_bound_keys(f)
    for node, (left, op_start, op_end, op, right) in _comparisons(f):
        if node.key in bounds and op in _ORDER_OPS:
            continue  # off_by_one
        for alt in _CMP_SWAP[op]:
            if f.language != "python" and alt in ("in", "not in"):
                continue
            new = alt
            if op in ("in", "not in"):
                new = alt
            bad = _replace_in(f, node, op_start, op_end, new)
            yield _Edit("wrong_comparison", op_start, op_end, new,
                        {"good": op, "bad": alt, "good_expr": _short(f.text(node)), "bad_expr": _short(bad),
                         "left": _short(f.text(left), 30), "right": _short(f.text(right), 30)})


def _op_off_by_one(f: FunctionSyntax) -> Iterator[_Edit]:
    spaced = f.spaced_operators()
    # loop bounds: `i < n` <-> `i <= n`
    for loop in f.typed(*f.loop_types(), *f.while_types()):
        cond = f.condition(loop)
        if cond is None:
            continue
        parts = f.binary_parts(cond) if cond.type in (f.binary_type(), "comparison_operator") else None
        if parts is None or parts[3] not in _BOUND_SWAP:
            continue
        left, op_start, op_end, op, right = parts
        alt = _BOUND_SWAP[op]
        yield _Edit("off_by_one", op_start, op_end, alt,
                    {"kind": "loop_bound", "good": op, "bad": alt, "var": _short(f.text(left), 30),
                     "bound": _short(f.text(right), 30), "good_expr": _short(f.text(cond)),
                     "bad_expr": _short(_replace_in(f, cond, op_start, op_end, alt))})
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
        pm = _is_plus_minus_one(f, node)
        if pm is not None and _len_like(f, pm[0]) and not _inside_range_call(f, node):
            yield _Edit("off_by_one", f.start(node), f.end(node), f.text(pm[0]),
                        {"kind": "length", "good_expr": _short(f.text(node)), "bad_expr": _short(f.text(pm[0]))})
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
                    yield _Edit("off_by_one", start, end, alt,
                                {"kind": "range", "good_expr": _short(f.text(node)),
                                 "bad_expr": _short(_replace_in(f, node, start, end, alt))})


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
                 spaced: bool) -> Iterator[_Edit]:
    """`n` -> `n + 1` / `n - 1`; `n - 1` / `n + 1` -> `n`; `10` -> `11` / `9`."""
    if bound is None:
        return
    start, end = f.span(bound)
    context_text = f.text(context) if context is not None else f.text(bound)
    pm = _is_plus_minus_one(f, bound)
    if pm is not None:
        options = [f.text(pm[0])]
    elif bound.type in _ATOMIC:
        if bound.type in _INT_TYPES and _int_value(f.text(bound)) is None:
            return
        if bound.type == "identifier" and kind == "index" and (
                f.text(bound) not in f.variables()[0] or not _POSITION_NAME.match(f.text(bound))):
            return
        if kind == "index" and bound.type in _INT_TYPES and f.text(bound) == "0":
            options = [_plus_one(f, bound, +1, spaced)]
        else:
            options = [_plus_one(f, bound, +1, spaced), _plus_one(f, bound, -1, spaced)]
    else:
        return
    for new in options:
        if new == f.text(bound):
            continue
        bad_context = _replace_in(f, context, start, end, new) if context is not None else new
        yield _Edit("off_by_one", start, end, new,
                    {"kind": kind, "good_expr": _short(context_text), "bad_expr": _short(bad_context),
                     "good": _short(f.text(bound), 30), "bad": _short(new, 30)})


_SIMPLE_OPERANDS = frozenset({"identifier", "call", "call_expression", "attribute", "member_expression",
                              "pointer_expression",
                              "field_access", "method_invocation", "field_expression", "selector_expression",
                              "subscript", "subscript_expression", "index_expression", "array_access",
                              "parenthesized_expression"})


def _is_comparison(f: FunctionSyntax, node: SyntaxNode) -> bool:
    if node.type == "comparison_operator":
        return True
    if node.type == f.binary_type():
        parts = f.binary_parts(node)
        return parts is not None and parts[3] in _CMP_SWAP
    return False


def _negation_operand(f: FunctionSyntax, node: SyntaxNode) -> SyntaxNode | None:
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


def _negated(f: FunctionSyntax, cond: SyntaxNode) -> str | None:
    text = f.text(cond)
    operand = _negation_operand(f, cond)
    if operand is not None:
        inner = f.unwrap(operand) if operand.type == "parenthesized_expression" else operand
        return f.text(inner) if inner is not None else None
    if _is_comparison(f, cond):
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


def _op_negated_condition(f: FunctionSyntax) -> Iterator[_Edit]:
    for node in f.typed(*f.if_types(), *f.while_types()):
        cond = f.condition(node)
        if cond is None or cond.type in ("let_condition", "named_expression", "assignment_expression"):
            continue
        raw = node.child_by_field("condition")
        if f.language == "python" and raw is not None and raw.type == "parenthesized_expression" \
                and _negation_operand(f, cond) is None and not _is_comparison(f, cond):
            start = f.start(raw)  # `if (a and\n b):` -> `if not (a and\n b):` edits one line only
            yield _Edit("negated_condition", start, start, "not ",
                        {"kind": "added", "good_expr": _short(f.text(raw)), "bad_expr": _short("not " + f.text(raw)),
                         "statement": "while" if "while" in node.type else "if"})
            continue
        new = _negated(f, cond)
        if new is None:
            continue
        start, end = f.span(cond)
        kind = "removed" if _negation_operand(f, cond) is not None else "added"
        yield _Edit("negated_condition", start, end, new,
                    {"kind": kind, "good_expr": _short(f.text(cond)), "bad_expr": _short(new),
                     "statement": "while" if "while" in node.type or node.type == "do_statement" else "if"})


def _op_swapped_branches(f: FunctionSyntax) -> Iterator[_Edit]:
    kind = _TERNARY.get(f.language)
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
        yield _Edit("swapped_branches", a_start, b_end, new,
                    {"cond": _short(f.text(cond), 40) if cond is not None else "", "first": _short(a_text, 30),
                     "second": _short(b_text, 30), "good_expr": _short(f.text(node)),
                     "bad_expr": _short(_replace_in(f, node, a_start, b_end, new))})


_COMMUTATIVE = frozenset({"max", "min", "Math.max", "Math.min", "std::max", "std::min", "hypot", "math.hypot",
                          "gcd", "math.gcd", "set", "print", "isinstance", "issubclass", "getattr", "setattr",
                          "hasattr", "format", "join", "os.path.join", "Objects.equals", "equals",
                          "assertEqual", "assertEquals", "assert_eq", "assert_ne", "assertNotEqual", "zip",
                          "console.log", "printf", "fprintf", "println", "print!", "Printf", "Println",
                          "Sprintf", "Errorf", "log", "debug", "info", "warn", "warning", "error",
                          "String.format"})
_ARG_KINDS = frozenset({"identifier", "attribute", "member_expression", "field_access", "field_expression",
                        "selector_expression"}) | _INT_TYPES | _STRING_TYPES | _FLOAT_TYPES


def _op_swapped_arguments(f: FunctionSyntax) -> Iterator[_Edit]:
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
            yield _Edit("swapped_arguments", a_start, b_end, new,
                        {"callee": _short(callee, 40), "first": _short(a_text, 30), "second": _short(b_text, 30),
                         "good_expr": _short(f.text(call)), "bad_expr": _short(_replace_in(f, call, a_start, b_end, new))})


def _nearby_names(f: FunctionSyntax, name: str, at: int, window: int = 8) -> list[str]:
    """Other bound names, in scope at `at`, occurring within `window` lines of it."""
    _, _, occurrences, _ = f.variables()
    bindings = f.variables()[0]
    line = f.line_of(at)
    found = []
    for other in bindings:
        if other == name or other in _SELF_NAMES or other in _KEYWORDS or not f.in_scope(other, at):
            continue
        if any(abs(f.line_of(f.start(n)) - line) <= window for n in occurrences.get(other, ())):
            found.append(other)
    return sorted(found)


def _is_callee(f: FunctionSyntax, node: SyntaxNode) -> bool:
    parent = node.parent
    if parent is None or parent.type not in f.call_types():
        return False
    function = parent.child_by_field("function")
    return function is not None and function.key == node.key


def _op_variable_misuse(f: FunctionSyntax) -> Iterator[_Edit]:
    _, uses, _, _ = f.variables()
    for name, nodes in uses.items():
        if name in _SELF_NAMES:
            continue
        for node in nodes:
            if _is_callee(f, node) or _in_return_expr(f, node):
                continue
            start, end = f.span(node)
            line = f.line_of(start)
            line_start = f.line_starts[line]
            line_text = f.lines[line]
            for other in _nearby_names(f, name, start):
                bad_line = line_text[: start - line_start] + other + line_text[end - line_start:]
                yield _Edit("variable_misuse", start, end, other,
                            {"good": name, "bad": other, "line_text": _short(bad_line.strip())})


def _in_return_expr(f: FunctionSyntax, node: SyntaxNode) -> bool:
    """Is the node the whole returned expression (handled by wrong_return_value)?"""
    parent = node.parent
    if parent is not None and parent.type == "expression_list":
        parent = parent.parent
    return parent is not None and parent.type in ("return_statement", "return_expression")


_PY_BOOL = {"True": "False", "False": "True"}
_BOOL = {"true": "false", "false": "true"}


def _literal_alternatives(f: FunctionSyntax, node: SyntaxNode) -> list[str]:
    text = f.text(node)
    if node.type in _INT_TYPES:
        value = _int_value(text)
        if value is None or value > 16:
            return []
        if value == 0:
            return ["1"]
        if value == 1:
            return ["0", "2"]
        return [str(value - 1), str(value + 1)]
    if node.type in _FLOAT_TYPES:
        return {"0.0": ["1.0"], "1.0": ["0.0"]}.get(text, [])
    if node.type in _BOOL_TYPES:
        flipped = _PY_BOOL.get(text) or _BOOL.get(text)
        return [flipped] if flipped else []
    if node.type == "none" and f.language == "python":
        return ["False"]
    if node.type in ("null", "undefined") and f.family == "ecma":
        return ["undefined" if text == "null" else "null"]
    if f.language == "python" and node.type == "string" and text in ('""', "''"):
        return ["None"]
    return []


def _op_wrong_literal(f: FunctionSyntax) -> Iterator[_Edit]:
    for node in f.nodes:
        if node.type not in _INT_TYPES and node.type not in _FLOAT_TYPES and node.type not in _BOOL_TYPES \
                and node.type not in ("none", "null", "undefined", "string"):
            continue
        if not f.in_body(node) or _in_return_expr(f, node):
            continue
        parent = node.parent
        if parent is None or parent.type in ("case_statement", "switch_case", "switch_label", "expression_case",
                                             "match_pattern", "unary_expression", "unary_operator",
                                             "keyword_argument", "default_parameter", "attribute",
                                             "case_clause", "pair", "dictionary"):
            continue
        if node.type in _INT_TYPES and (parent.type in ("subscript", "slice") and f.language == "python"):
            pass
        alternatives = _literal_alternatives(f, node)
        line_context = parent.type in ("argument_list", "arguments", "expression_list", "literal_value",
                                       "array", "list", "tuple", "initializer_list", "array_expression")
        if node.type in _INT_TYPES and parent.type == f.binary_type():
            parts = f.binary_parts(parent)
            if parts is not None and parts[3] in ("+", "-", "*", "/", "//", "%", "<<", ">>", "+=", "-="):
                alternatives = [a for a in alternatives if a not in ("0", "1")]
        for alt in alternatives:
            start, end = f.span(node)
            if line_context:
                good_expr, bad_expr = _line_texts(f, start, end, alt)
            else:
                good_expr, bad_expr = f.text(parent), _replace_in(f, parent, start, end, alt)
            yield _Edit("wrong_literal", start, end, alt,
                        {"good": f.text(node), "bad": alt, "good_expr": _short(good_expr), "bad_expr": _short(bad_expr)})


def _line_texts(f: FunctionSyntax, start: int, end: int, new: str) -> tuple[str, str]:
    """(original line, mutated line), stripped, for an edit within one line."""
    line = f.line_of(start)
    line_start = f.line_starts[line]
    text = f.lines[line]
    if f.line_of(end) != line:
        return text.strip(), text.strip()
    return text.strip(), (text[: start - line_start] + new + text[end - line_start:]).strip()


def _block_statements(f: FunctionSyntax, node: SyntaxNode | None) -> list[SyntaxNode]:
    if node is None:
        return []
    if node.type in _BLOCKS:
        return f.statements(node)
    return [node]


def _unwrap_statement(node: SyntaxNode) -> SyntaxNode:
    if node.type == "expression_statement" and len(node.named_children) == 1:
        return node.named_children[0]
    return node


def _jump_of(f: FunctionSyntax, node: SyntaxNode) -> SyntaxNode | None:
    """The single jump statement forming an if's consequence, if that is all it holds."""
    body = _block_statements(f, node.child_by_field("consequence"))
    if len(body) != 1:
        return None
    inner = _unwrap_statement(body[0])
    if inner.type not in _JUMPS:
        return None
    values = [c for c in inner.named_children if c.type not in _COMMENT_TYPES]
    if inner.type in ("return_statement", "return_expression") and values:
        value = values[0]
        if value.type == "expression_list":
            value = (value.named_children or [value])[0]
        if not (_is_literal(value) or value.type in ("identifier", "true", "false", "boolean_literal")
                or re.fullmatch(r"-\s*\d+|\w+\s*\(\s*\)|None|null|nil|Err\(.*\)|errors\.New\(.*\)|"
                                r"\w+(\.\w+)?", " ".join(f.text(value).split()))):
            return None
    return body[0]


def _is_guard(f: FunctionSyntax, node: SyntaxNode) -> bool:
    if node.type not in ("if_statement", "if_expression") or node.child_by_field("alternative") is not None:
        return False
    if f.language == "python" and any(c.type in ("elif_clause", "else_clause") for c in node.children):
        return False
    if f.language == "go" and node.child_by_field("initializer") is not None:
        return False
    return _jump_of(f, node) is not None


def _statement_node(node: SyntaxNode) -> SyntaxNode:
    parent = node.parent
    if parent is not None and parent.type == "expression_statement":
        return parent
    return node


def _delete_lines_edit(f: FunctionSyntax, first: int, last: int) -> tuple[int, int] | None:
    if last + 1 >= len(f.line_starts):
        return None
    return f.line_starts[first], f.line_starts[last + 1]


def _check_like(f: FunctionSyntax, node: SyntaxNode) -> bool:
    node = f.unwrap(node) or node
    if _is_comparison(f, node) or _negation_operand(f, node) is not None or node.type == "identifier":
        return True
    if node.type in ("call", "call_expression", "method_invocation"):
        return bool(re.match(r"(isinstance|hasattr|callable|Array\.isArray|\w+\.(has|contains|containsKey|"
                             r"isEmpty|is_empty|is_some|is_none|is_ok|startswith|endswith|exists))\b", f.text(node)))
    if node.type == f.binary_type():
        parts = f.binary_parts(node)
        return parts is not None and parts[3] in ("instanceof", "in")
    return False


def _op_removed_check(f: FunctionSyntax) -> Iterator[_Edit]:
    # (a) a guard `if <check>: return/raise/continue` dropped entirely
    for node in f.typed(*f.if_types()):
        if node.type == "elif_clause":
            continue
        statement = _statement_node(node)
        if not _is_guard(f, node) or statement.parent is None:
            continue
        siblings = _block_statements(f, statement.parent)
        if len(siblings) < 2 or statement.parent.type not in _BLOCKS:
            continue
        lines = f.whole_lines(statement)
        if lines is None:
            continue
        span = _delete_lines_edit(f, *lines)
        if span is None:
            continue
        cond = f.condition(node)
        jump = _jump_of(f, node)
        yield _Edit("removed_check", span[0], span[1], "",
                    {"kind": "guard", "cond": _short(f.text(cond), 50) if cond is not None else "",
                     "jump": _short(f.text(jump), 40) if jump is not None else ""})
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
                yield _Edit("removed_check", start, end, "",
                            {"kind": "conjunct", "check": _short(f.text(left), 50), "op": op,
                             "good_expr": _short(f.text(cond)),
                             "bad_expr": _short(_replace_in(f, cond, start, end, ""))})
            if _check_like(f, right) and op in ("and", "&&"):
                start, end = f.end(left), f.end(right)
                yield _Edit("removed_check", start, end, "",
                            {"kind": "conjunct", "check": _short(f.text(right), 50), "op": op,
                             "good_expr": _short(f.text(cond)),
                             "bad_expr": _short(_replace_in(f, cond, start, end, ""))})


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


def _return_values(f: FunctionSyntax) -> Iterator[tuple[SyntaxNode, SyntaxNode]]:
    for node in f.typed(_RETURN.get(f.language, "return_statement")):
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


def _op_wrong_return_value(f: FunctionSyntax) -> Iterator[_Edit]:
    for node, value in _return_values(f):
        start, end = f.span(value)
        whole = value.parent if value.parent is not None and value.parent.type == "expression_list" else value
        alternatives: list[str] = []
        kind = "literal"
        if value.type == "identifier" and f.text(value) in f.variables()[0]:
            kind = "variable"
            alternatives = _nearby_names(f, f.text(value), start, window=12)
        elif value.type in _BOOL_TYPES or value.type in _INT_TYPES or value.type in _FLOAT_TYPES:
            alternatives = _literal_alternatives(f, value)
            if value.type in _INT_TYPES and f.text(value) == "-1":
                alternatives = ["0"]
        elif value.type in ("unary_expression", "unary_operator") and f.text(value) == "-1":
            alternatives = ["0", "1"]
        for alt in alternatives:
            yield _Edit("wrong_return_value", start, end, alt,
                        {"kind": kind, "good": _short(f.text(whole), 30),
                         "bad": _short(_replace_in(f, whole, start, end, alt), 30), "good_name": f.text(value),
                         "bad_name": alt, "function": f.name or "the function"})


def _op_is_vs_equality(f: FunctionSyntax) -> Iterator[_Edit]:
    if f.language != "python":
        return
    swap = {"==": "is", "!=": "is not", "is": "==", "is not": "!="}
    for node, (left, op_start, op_end, op, right) in _comparisons_any(f):
        if op not in swap:
            continue
        if {left.type, right.type} & {"none", "true", "false"}:
            continue  # `x is None` == `x == None` in practice: not a bug
        alt = swap[op]
        yield _Edit("is_vs_equality", op_start, op_end, alt,
                    {"good": op, "bad": alt, "good_expr": _short(f.text(node)),
                     "bad_expr": _short(_replace_in(f, node, op_start, op_end, alt))})


def _comparisons_any(f: FunctionSyntax):
    for node in f.typed("comparison_operator"):
        parts = f.binary_parts(node)
        if parts is not None:
            yield node, parts


def _op_assignment_vs_equality(f: FunctionSyntax) -> Iterator[_Edit]:
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
        yield _Edit("assignment_vs_equality", op_start, op_end, "=",
                    {"kind": "assign_in_condition", "good": op, "bad": "=", "good_expr": _short(f.text(cond)),
                     "bad_expr": _short(_replace_in(f, cond, op_start, op_end, "="))})
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
        yield _Edit("assignment_vs_equality", op_start, op_end, "==",
                    {"kind": "comparison_statement", "good": "=", "bad": "==", "good_expr": _short(f.text(assign)),
                     "bad_expr": _short(_replace_in(f, assign, op_start, op_end, "=="))})


def _op_missing_await(f: FunctionSyntax) -> Iterator[_Edit]:
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
        yield _Edit("missing_await", start, inner_start, "", {"expr": _short(f.text(inner[0]), 50)})


def _op_missing_break(f: FunctionSyntax) -> Iterator[_Edit]:
    break_type = _BREAK.get(f.language, "break_statement")
    for node in f.typed(break_type):
        statement = _statement_node(node)
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
        elif container.type in _BLOCKS:
            kind = "loop"
            if len(f.statements(container)) < 2:
                continue
            if not _inside_loop(f, container):
                continue
        else:
            continue
        span = _delete_lines_edit(f, lines[0], lines[1])
        if span is None:
            continue
        if kind == "switch":
            context = _short(f.lines[f.line_of(f.start(container))].strip().rstrip("{").strip(), 40)
        else:
            context = _loop_label(f, _enclosing_loop(f, container))
        yield _Edit("missing_break", span[0], span[1], "", {"kind": kind, "context": context})


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
        if parent.type in _FUNCTION_TYPES or parent.type in ("switch_statement", "switch_expression"):
            return False
        parent = parent.parent
    return False


def _enclosing_loop(f: FunctionSyntax, node: SyntaxNode) -> SyntaxNode:
    parent = node.parent
    loops = set(f.loop_types())
    while parent is not None and parent.type not in loops:
        parent = parent.parent
    return parent or node


def _op_wrong_attribute(f: FunctionSyntax) -> Iterator[_Edit]:
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
            yield _Edit("wrong_attribute", start, end, other,
                        {"kind": "method" if called else "attribute", "good": name, "bad": other, "object": _short(obj, 30),
                         "good_expr": _short(f.text(node)), "bad_expr": _short(_replace_in(f, node, start, end, other))})


def _op_wrong_recursive_argument(f: FunctionSyntax) -> Iterator[_Edit]:
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
            pm = _is_plus_minus_one(f, arg_node)
            if pm is None:
                parts2 = f.binary_parts(arg_node) if arg_node.type == f.binary_type() else None
                if parts2 is None or parts2[3] not in ("+", "-", "//", "/", ">>") \
                        or parts2[4].type not in _INT_TYPES:
                    continue
                right = parts2[4]
                value = _int_value(f.text(right))
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
                yield _Edit("wrong_recursive_argument", a_start, a_end, new,
                            {"function": f.name, "good_expr": _short(f.text(call)),
                             "bad_expr": _short(_replace_in(f, call, a_start, a_end, new)),
                             "good": _short(f.text(arg_node), 30),
                             "bad": _short(_replace_in(f, arg_node, a_start, a_end, new), 30)})


def _op_wrong_base_case(f: FunctionSyntax) -> Iterator[_Edit]:
    for node in f.typed(*f.if_types()):
        if _jump_of(f, node) is None:
            continue
        jump = _unwrap_statement(_jump_of(f, node))
        if jump.type not in ("return_statement", "return_expression"):
            continue
        cond = f.condition(node)
        parts = f.binary_parts(cond) if cond is not None and _is_comparison(f, cond) else None
        if parts is None:
            continue
        left, op_start, op_end, op, right = parts
        literal = right if right.type in _INT_TYPES else left if left.type in _INT_TYPES else None
        options = []
        if literal is not None:
            start, end = f.span(literal)
            options += [(start, end, alt) for alt in _literal_alternatives(f, literal)]
        if op in _BOUND_SWAP:
            options.append((op_start, op_end, _BOUND_SWAP[op]))
        for start, end, new in options:
            yield _Edit("wrong_base_case", start, end, new,
                        {"good_expr": _short(f.text(cond)), "bad_expr": _short(_replace_in(f, cond, start, end, new)),
                         "returned": _short(f.text(jump), 40)})


def _is_collection(node: SyntaxNode) -> bool:
    """String or collection literal: `"a" - x`, `[a] - b` would be type errors, not plausible bugs."""
    return node.type in _STRING_TYPES or node.type in ("list", "tuple", "dictionary", "set", "array", "object",
                                                       "list_comprehension", "array_creation_expression")


def _is_literal(node: SyntaxNode) -> bool:
    return (node.type in _INT_TYPES or node.type in _FLOAT_TYPES or node.type in _STRING_TYPES
            or node.type in _NULL_TYPES or node.type in ("list", "dictionary", "array", "object", "tuple"))


def _op_and_or_swap(f: FunctionSyntax) -> Iterator[_Edit]:
    swap = {"and": "or", "or": "and", "&&": "||", "||": "&&"}
    types = ("boolean_operator",) if f.language == "python" else (f.binary_type(),)
    for node in f.typed(*types):
        parts = f.binary_parts(node)
        if parts is None or parts[3] not in swap:
            continue
        left, op_start, op_end, op, right = parts
        if _is_literal(left) or _is_literal(right):
            continue  # `x || 0`, `x or []`: a default value, not a condition
        alt = swap[op]
        yield _Edit("and_or_swap", op_start, op_end, alt,
                    {"good": op, "bad": alt, "good_expr": _short(f.text(node)),
                     "bad_expr": _short(_replace_in(f, node, op_start, op_end, alt))})


def _op_increment_swap(f: FunctionSyntax) -> Iterator[_Edit]:
    swap = {"++": "--", "--": "++", "+=": "-=", "-=": "+="}
    for node in f.typed(*_UPDATES, _AUG_ASSIGN.get(f.language, "assignment_expression")):
        tokens = [c for c in node.children if not c.is_named and c.type in swap]
        if len(tokens) != 1:
            continue
        right = node.child_by_field("right")
        if right is not None and _is_collection(right):
            continue  # `parts += ("x",)`: `-=` would not even run
        start, end = f.span(tokens[0])
        alt = swap[tokens[0].type]
        target = node.child_by_field("left") or node.child_by_field("argument") or (f.named(node) or [node])[0]
        yield _Edit("increment_swap", start, end, alt,
                    {"good": tokens[0].type, "bad": alt, "var": _short(f.text(target), 30),
                     "good_expr": _short(f.text(node)), "bad_expr": _short(_replace_in(f, node, start, end, alt))})


# --- inserting operators ----------------------------------------------------------------------------


def _body_of(f: FunctionSyntax, loop: SyntaxNode) -> SyntaxNode | None:
    body = loop.child_by_field("body")
    if body is None or body.type not in _BLOCKS:
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
    if _unwrap_statement(last).type in _JUMPS:
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


def _op_extra_increment(f: FunctionSyntax) -> Iterator[_Edit]:
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
        if update is not None and update.type in _UPDATES | {"augmented_assignment_expression", "assignment_expression",
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
                inner = _unwrap_statement(statement)
                if inner.type in _UPDATES or inner.type == _AUG_ASSIGN.get(f.language, "assignment_expression"):
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
        yield _Edit("extra_increment", offset, offset, new, {"var": var, "kind": kind, "stmt": text.strip()})


_SIDE_EFFECT_METHODS = frozenset({"append", "extend", "add", "insert", "update", "write", "push", "pop", "remove",
                                  "put", "send", "appendleft", "popleft", "push_back", "emplace_back", "push_str",
                                  "unshift", "shift", "offer", "poll", "addAll", "putAll", "delete", "discard",
                                  "writeln", "WriteString", "Write", "Add", "Set", "Push", "setdefault", "incr",
                                  "print", "println", "emit"})


def _op_duplicated_statement(f: FunctionSyntax) -> Iterator[_Edit]:
    aug = _AUG_ASSIGN.get(f.language, "assignment_expression")
    for statement in f.typed("expression_statement", "inc_statement", "dec_statement", "assignment_statement"):
        parent = statement.parent
        if parent is None or parent.type not in _BLOCKS:
            continue
        inner = _unwrap_statement(statement)
        kind = None
        if inner.type in _UPDATES:
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
        yield _Edit("duplicated_statement", offset, offset, new, {"kind": kind, "stmt": _short(line_text.strip())})


_PLAIN_ASSIGNMENTS = frozenset({"assignment", "assignment_expression", "assignment_statement"})


def _op_duplicated_assignment(f: FunctionSyntax) -> Iterator[_Edit]:
    """`x = a + b` followed by an inserted copy reading a wrong variable (`x = c + b`): a
    copy-pasted line that was not fully edited overwrites the value."""
    _, uses, _, _ = f.variables()
    use_by_key = {node.key: name for name, nodes in uses.items() for node in nodes}
    for statement in f.typed("expression_statement", "assignment_statement"):
        if statement.parent is None or statement.parent.type not in _BLOCKS:
            continue
        assign = _unwrap_statement(statement)
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
            if name is None or name in _SELF_NAMES or _is_callee(f, node):
                continue
            start, end = f.span(node)
            for other in _nearby_names(f, name, start)[:3]:
                if other == f.text(left):
                    continue
                copy = (line[: start - line_start] + other + line[end - line_start:]).strip()
                insertion = _insert_line_after(f, statement, copy)
                if insertion is None:
                    continue
                offset, new = insertion
                yield _Edit("duplicated_assignment", offset, offset, new,
                            {"target": _short(f.text(left), 30), "good": name, "bad": other, "stmt": _short(copy)})


def _op_extra_break(f: FunctionSyntax) -> Iterator[_Edit]:
    text = "break" + f.terminator
    for loop in f.typed(*f.loop_types()):
        body = _body_of(f, loop)
        if body is None:
            continue
        for statement in f.statements(body):
            inner = _unwrap_statement(statement)
            if inner.type not in f.if_types() or inner.child_by_field("alternative") is not None:
                continue
            if f.language == "python" and any(c.type in ("elif_clause", "else_clause") for c in inner.children):
                continue
            consequence = inner.child_by_field("consequence")
            if consequence is None or consequence.type not in _BLOCKS:
                continue
            last = _last_statement_ok(f, consequence)
            if last is None or _contains_loop(f, consequence):
                continue
            insertion = _insert_line_after(f, last, text)
            if insertion is None:
                continue
            offset, new = insertion
            cond = f.condition(inner)
            yield _Edit("extra_break", offset, offset, new,
                        {"cond": _short(f.text(cond), 50) if cond is not None else "", "loop": _loop_label(f, loop)})


def _contains_loop(f: FunctionSyntax, node: SyntaxNode) -> bool:
    loops = set(f.loop_types()) | {"switch_statement", "switch_expression", "expression_switch_statement"}
    return any(n.type in loops for n in node.walk(named_only=True))


def _loop_label(f: FunctionSyntax, loop: SyntaxNode) -> str:
    text = f.lines[f.line_of(f.start(loop))].strip()
    return _short(text.rstrip("{:").strip(), 50)


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
        inner = _unwrap_statement(statement)
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


def _op_reset_in_loop(f: FunctionSyntax) -> Iterator[_Edit]:
    for statement, var, value in _simple_inits(f):
        block = statement.parent
        if block is None or block.type not in _BLOCKS:
            continue
        siblings = f.statements(block)
        index = next((i for i, s in enumerate(siblings) if s.key == statement.key), None)
        if index is None:
            continue
        for later in siblings[index + 1:index + 4]:
            loop = _unwrap_statement(later)
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
            yield _Edit("reset_in_loop", offset, offset, new,
                        {"var": var, "value": value, "loop": _loop_label(f, loop)})


def _op_return_in_loop(f: FunctionSyntax) -> Iterator[_Edit]:
    return_type = _RETURN.get(f.language, "return_statement")
    for loop in f.typed(*f.loop_types()):
        statement = _statement_node(loop)
        after = statement.next_named_sibling
        while after is not None and after.type in _COMMENT_TYPES:
            after = after.next_named_sibling
        if after is None or _unwrap_statement(after).type != return_type:
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
        info = {"ret": _short(ret_text, 50), "loop": _loop_label(f, loop)}
        if f.language == "python":
            gap = f.lines[f.line_of(f.end(statement)) + 1:ret_lines[0]]
            if any(line.strip() for line in gap):
                continue
            start = f.line_starts[ret_lines[0]]
            end = start + len(f.indent_of_line(ret_lines[0]))
            if f.code[start:end] == body_indent:
                continue
            yield _Edit("return_in_loop", start, end, body_indent, info)
        else:
            last = _last_statement_ok(f, body)
            if last is None:
                continue
            insertion = _insert_line_after(f, last, ret_text, indent=body_indent)
            if insertion is None:
                continue
            offset, new = insertion
            yield _Edit("return_in_loop", offset, offset, new, info)


_OPERATOR_FUNCTIONS: dict[str, Callable[[FunctionSyntax], Iterator[_Edit]]] = {
    "wrong_binary_operator": _op_wrong_binary_operator,
    "wrong_comparison": _op_wrong_comparison,
    "off_by_one": _op_off_by_one,
    "negated_condition": _op_negated_condition,
    "swapped_branches": _op_swapped_branches,
    "swapped_arguments": _op_swapped_arguments,
    "variable_misuse": _op_variable_misuse,
    "wrong_literal": _op_wrong_literal,
    "removed_check": _op_removed_check,
    "wrong_return_value": _op_wrong_return_value,
    "is_vs_equality": _op_is_vs_equality,
    "assignment_vs_equality": _op_assignment_vs_equality,
    "missing_await": _op_missing_await,
    "missing_break": _op_missing_break,
    "wrong_attribute": _op_wrong_attribute,
    "wrong_recursive_argument": _op_wrong_recursive_argument,
    "wrong_base_case": _op_wrong_base_case,
    "and_or_swap": _op_and_or_swap,
    "increment_swap": _op_increment_swap,
    "extra_increment": _op_extra_increment,
    "duplicated_statement": _op_duplicated_statement,
    "duplicated_assignment": _op_duplicated_assignment,
    "extra_break": _op_extra_break,
    "reset_in_loop": _op_reset_in_loop,
    "return_in_loop": _op_return_in_loop,
}
assert tuple(_OPERATOR_FUNCTIONS) == OPERATORS


def _collect_edits(f: FunctionSyntax, operators: Iterable[str] = OPERATORS) -> dict[str, list[_Edit]]:
    found: dict[str, list[_Edit]] = {}
    for name in operators:
        edits = []
        seen = set()
        for edit in _OPERATOR_FUNCTIONS[name](f):
            key = (edit.start, edit.end, edit.new)
            if key in seen or f.code[edit.start:edit.end] == edit.new:
                continue
            if edit.start < f.edit_floor:
                continue
            seen.add(key)
            edits.append(edit)
        if edits:
            found[name] = edits
    return found


def _validate(f: FunctionSyntax, edit: _Edit, rng: random.Random) -> Mutant | None:
    mutant = edit.apply(f.code)
    if mutant == f.code:
        return None
    if parse(f.language, f.prefix + mutant + f.suffix).has_errors:
        return None
    if f.language == "python" and not _compiles((f.python_prefix or "") + mutant):
        return None
    fix = line_fix(f.code, mutant)
    if fix is None:
        return None
    bug_lines, fix_line, replacement = fix
    note = _notes.note_for(edit.operator, edit.info, rng)
    return Mutant(edit.operator, mutant, bug_lines, fix_line, replacement, note, edit.info)


def candidate_mutants(language: str, code: str, operators: Iterable[str] = OPERATORS, seed: int = 0,
                      limit_per_operator: int | None = None) -> dict[str, list[Mutant]]:
    """Every valid mutant of a function, by operator (for tests and inspection)."""
    f = analyze(language, code)
    if f is None:
        return {}
    rng = random.Random(seed)
    result: dict[str, list[Mutant]] = {}
    for name, edits in _collect_edits(f, operators).items():
        mutants = []
        for edit in edits:
            mutant = _validate(f, edit, rng)
            if mutant is not None:
                mutants.append(mutant)
                if limit_per_operator is not None and len(mutants) >= limit_per_operator:
                    break
        if mutants:
            result[name] = mutants
    return result


# --- generation with balancing ----------------------------------------------------------------------


class _Balance:
    """Running operator counts (overall) and buggy-minus-clean length drift (per language, so every
    language's subset stays balanced too)."""

    # Drift allowed before an edit that makes it worse is deprioritised; it grows with the number
    # of positives, keeping the mean length difference per example near zero (< 0.01 lines,
    # < 0.4 chars) while letting deleting and inserting operators both be used.
    CHAR_TOLERANCE = 60
    LINE_TOLERANCE = 3
    CHAR_TOLERANCE_PER_EXAMPLE = 0.4
    LINE_TOLERANCE_PER_EXAMPLE = 0.01

    def __init__(self, max_share: float):
        self.max_share = max_share
        self.counts: Counter[str] = Counter()
        self.total = 0
        self.drift: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # language -> [chars, lines, count]

    def allowed(self, operator: str) -> bool:
        return self.counts[operator] + 1 <= max(self.max_share * (self.total + 1), 8)

    def harmful(self, language: str, code: str, edit: _Edit) -> int:
        chars, lines = edit.deltas(code)
        drift_chars, drift_lines, count = self.drift[language]
        line_tolerance = max(self.LINE_TOLERANCE, self.LINE_TOLERANCE_PER_EXAMPLE * count)
        char_tolerance = max(self.CHAR_TOLERANCE, self.CHAR_TOLERANCE_PER_EXAMPLE * count)
        harm = 0
        if abs(drift_lines + lines) > abs(drift_lines) and abs(drift_lines + lines) > line_tolerance:
            harm += 2
        if abs(drift_chars + chars) > abs(drift_chars) and abs(drift_chars + chars) > char_tolerance:
            harm += 1
        return harm

    def record(self, language: str, operator: str, original: str, mutant: str, sign: int = 1) -> None:
        self.counts[operator] += sign
        self.total += sign
        drift = self.drift[language]
        drift[0] += sign * (len(mutant) - len(original))
        drift[1] += sign * (mutant.count("\n") - original.count("\n"))
        drift[2] += sign

    def forget(self, language: str, operator: str, original: str, mutant: str) -> None:
        self.record(language, operator, original, mutant, sign=-1)


def mutate_function(f: FunctionSyntax, rng: random.Random, balance: _Balance | None = None,
                    count: int = 1, exclude: Iterable[str] = ()) -> list[Mutant]:
    """Up to `count` mutants of one function, each from a different operator."""
    balance = balance or _Balance(1.0)
    candidates = _collect_edits(f)
    used = set(exclude)
    mutants: list[Mutant] = []
    for _ in range(count):
        ranked = []
        for operator, edits in candidates.items():
            if operator in used or not balance.allowed(operator):
                continue
            rng.shuffle(edits)
            edits.sort(key=lambda e: balance.harmful(f.language, f.code, e))  # stable: random among ties
            harm = balance.harmful(f.language, f.code, edits[0])
            ranked.append((harm * 1_000_000 + balance.counts[operator] + rng.random(), operator))
        ranked.sort()
        chosen = None
        for _, operator in ranked:
            for edit in candidates[operator][:6]:
                chosen = _validate(f, edit, rng)
                if chosen is not None:
                    break
            if chosen is not None:
                break
        if chosen is None:
            break
        used.add(chosen.operator)
        balance.record(f.language, chosen.operator, f.code, chosen.code)
        mutants.append(chosen)
    return mutants


def make_defect_examples(functions: list[CorpusFunction], seed: int, per_function: int = 1,
                         max_share: float = MAX_OPERATOR_SHARE, exact: bool = True) -> list[DefectExample]:
    """One clean negative plus `per_function` mutated positives per function (sharing a `pair_id`),
    each positive from a different operator.

    Functions that admit no valid mutation are left out entirely, so buggy and clean examples come
    from the same functions. With `exact` (default) a function is used only if it admits
    `per_function` mutants: longer functions admit more, so letting them contribute more positives
    than short ones would make length predict the label (AUROC ~0.54 at 3 per function on the
    standard library); with `exact=False` a function contributes up to `per_function`."""
    order = list(range(len(functions)))
    random.Random(seed).shuffle(order)
    balance = _Balance(max_share)
    produced: dict[int, list[DefectExample]] = {}
    for index in order:
        function = functions[index]
        if function.language not in LANGUAGES:
            continue
        f = analyze(function.language, function.code)
        if f is None:
            continue
        rng = random.Random(f"{seed}:{function.id}")
        mutants = mutate_function(f, rng, balance, per_function)
        if mutants and exact and len(mutants) < per_function:
            for mutant in mutants:
                balance.forget(function.language, mutant.operator, function.code, mutant.code)
            mutants = []
        if not mutants:
            continue
        pair_id = stable_id("defect-pair", function.id, seed)
        common = {"project": function.project, "language": function.language, "split": function.split,
                  "pair_id": pair_id, "source": "mutation"}
        examples = [DefectExample(id=stable_id("defect", function.id, seed, "clean"), code=function.code, label=0,
                                  operator="clean", **common)]
        for number, mutant in enumerate(mutants):
            examples.append(DefectExample(
                id=stable_id("defect", function.id, seed, mutant.operator, number), code=mutant.code, label=1,
                bug_lines=mutant.bug_lines, fix_line=mutant.fix_line, fix_replacement=mutant.fix_replacement,
                operator=mutant.operator, note=mutant.note, **common))
        produced[index] = examples
    return [example for index in range(len(functions)) for example in produced.get(index, ())]


# --- artefact checks ----------------------------------------------------------------------------------


def _auroc(positives: list[float], negatives: list[float]) -> float:
    """P(score of a random positive > score of a random negative), ties counting one half."""
    if not positives or not negatives:
        return 0.5
    scored = sorted([(s, 1) for s in positives] + [(s, 0) for s in negatives])
    rank_sum = 0.0
    i = 0
    while i < len(scored):
        j = i
        while j < len(scored) and scored[j][0] == scored[i][0]:
            j += 1
        average_rank = (i + 1 + j) / 2
        rank_sum += average_rank * sum(label for _, label in scored[i:j])
        i = j
    n_pos, n_neg = len(positives), len(negatives)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def length_baseline_auc(examples: Iterable[DefectExample], unit: str = "chars") -> float:
    """AUROC of "the longer function is the buggy one" over buggy vs clean examples (0.5: length
    tells nothing). `unit`: "chars" or "lines"."""
    def size(code: str) -> float:
        return float(len(code)) if unit == "chars" else float(code.count("\n") + 1)

    examples = list(examples)
    return _auroc([size(e.code) for e in examples if e.label == 1], [size(e.code) for e in examples if e.label == 0])


def operator_stats(examples: Iterable[DefectExample]) -> dict[str, dict[str, float]]:
    """Per operator: count, share of the positives, and mean char/line length change vs the clean
    counterpart (same pair_id). Key "_all" summarises all positives."""
    examples = list(examples)
    clean = {e.pair_id: e for e in examples if e.label == 0}
    positives = [e for e in examples if e.label == 1]
    groups: dict[str, list[DefectExample]] = defaultdict(list)
    for example in positives:
        groups[example.operator].append(example)
        groups["_all"].append(example)
    stats = {}
    for operator, group in sorted(groups.items()):
        char_deltas, line_deltas = [], []
        for example in group:
            base = clean.get(example.pair_id)
            if base is not None:
                char_deltas.append(len(example.code) - len(base.code))
                line_deltas.append(example.code.count("\n") - base.code.count("\n"))
        stats[operator] = {
            "count": len(group),
            "share": len(group) / max(1, len(positives)),
            "mean_char_delta": sum(char_deltas) / max(1, len(char_deltas)),
            "mean_line_delta": sum(line_deltas) / max(1, len(line_deltas)),
            "languages": len({e.language for e in group}),
        }
    return stats
