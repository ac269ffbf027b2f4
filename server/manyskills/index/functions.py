"""Find the functions of a document with tree-sitter queries, and keep that index current as the
document is edited.

The queries are data: `queries/<language>.scm`; a line `; inherits: other` also applies the
patterns of `queries/other.scm`, after the file's own. Their capture names mean:

* `@definition.<kind>` – the function node itself (kind: function, method, constructor, lambda).
  It identifies the function: several matches on the same node are merged, the first pattern in
  the file deciding the name.
* `@name` – the node naming it. Quoted strings (test names) are unquoted; other names may be
  qualified (`Foo::bar` gives name "bar" qualified by "Foo").
* `@qualifier` – optional node naming the owner type (Go receivers).
* `@span` – optional larger node that belongs to the function (`const f = () => 1`,
  `it("works", () => ...)`). The span then grows over enclosing wrappers and over the decorators,
  attributes and doc comments directly above (see `languages.LanguageSpec`).
* `@body` – the body, for `FunctionInfo.body_start_line` (default: the function's "body" field).
* `@test` – marks a function node (possibly captured by another pattern) as a test.
* `@scope.<kind>` with `@scope.name` – a container whose name qualifies what it contains
  (class, namespace, suite). A plain function directly inside a `scope.class` is a method.
* Captures starting with "_" only feed predicates (`#match?`, `#eq?`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from manyskills.index.languages import LANGUAGES, LanguageSpec
from manyskills.index.treesitter import QueryMatch, SyntaxNode, SyntaxTree, parse
from manyskills.index.types import FunctionInfo, Position, Span

__all__ = ["DocumentIndex", "function_query", "functions_in_tree", "index_functions"]

_QUERY_DIR = Path(__file__).with_name("queries")
_INHERITS = re.compile(r"^;\s*inherits:\s*(\S+)\s*$", re.MULTILINE)


@functools.cache
def function_query(language: str) -> str:
    """The function-index query source for a language, with `; inherits:` files appended (a file's
    own patterns come first, so they take precedence over inherited ones on the same node)."""
    if language not in LANGUAGES and not language.startswith("_"):
        raise ValueError(f"unsupported language {language!r}")
    source = (_QUERY_DIR / f"{language}.scm").read_text(encoding="utf-8")
    inherited = [function_query(parent) for parent in _INHERITS.findall(source)]
    return "\n".join([source, *inherited])


def index_functions(language: str, text: str) -> list[FunctionInfo]:
    """All functions of a document, sorted by start position (outer before nested).

    Raises ValueError for an unsupported language; never for the text, whatever it holds."""
    return functions_in_tree(parse(language, text))


# --- collecting query results -------------------------------------------------------------------


@dataclass
class _Candidate:
    """A function found by the query, before spans and names are resolved."""

    definition: SyntaxNode
    kind: str
    name_node: SyntaxNode | None = None
    qualifier_node: SyntaxNode | None = None
    span_node: SyntaxNode | None = None
    body_node: SyntaxNode | None = None


@dataclass
class _Scope:
    node: SyntaxNode
    kind: str  # "class", "namespace", "suite", or "function" for an enclosing function
    name: str


@dataclass
class _Resolved:
    candidate: _Candidate
    name: str
    qualifier: list[str]
    enclosing: list[_Scope] = field(default_factory=list)


def _collect(matches: list[QueryMatch]) -> tuple[list[_Candidate], list[_Scope], set[tuple]]:
    candidates: dict[tuple, _Candidate] = {}
    scopes: dict[tuple, _Scope] = {}
    test_keys: set[tuple] = set()
    # Earlier patterns in the query file take precedence when two describe the same node.
    for match in sorted(matches, key=lambda m: m.pattern_index):
        captures = match.captures
        test_keys.update(node.key for node in captures.get("test", ()))
        for capture_name, nodes in captures.items():
            if capture_name.startswith("definition."):
                _add_candidate(candidates, capture_name.removeprefix("definition."), nodes[0], match)
            elif capture_name.startswith("scope.") and capture_name != "scope.name":
                scope_name_node = match.first("scope.name")
                if scope_name_node is not None and nodes[0].key not in scopes:
                    name = _display_name(scope_name_node)
                    if name:
                        scopes[nodes[0].key] = _Scope(nodes[0], capture_name.removeprefix("scope."), name)
    return list(candidates.values()), list(scopes.values()), test_keys


def _add_candidate(candidates: dict[tuple, _Candidate], kind: str, definition: SyntaxNode, match: QueryMatch):
    existing = candidates.get(definition.key)
    span_node = match.first("span")
    if existing is None:
        candidates[definition.key] = _Candidate(
            definition=definition,
            kind=kind,
            name_node=match.first("name"),
            qualifier_node=match.first("qualifier"),
            span_node=span_node,
            body_node=match.first("body"),
        )
        return
    # A later pattern on the same node may only widen the span.
    current_span = existing.span_node or existing.definition
    if span_node is not None and (
        span_node.start_byte < current_span.start_byte or span_node.end_byte > current_span.end_byte
    ):
        existing.span_node = span_node


# --- names ----------------------------------------------------------------------------------------

_QUOTES = "\"'`"
_OPERATOR = re.compile(r"\boperator\b")
_GENERIC_ARGUMENTS = re.compile(r"<[^<>]*>|\[[^\[\]]*\]")
_NAME_NOISE = re.compile(r"[\s*&()]")
_QUALIFIER_SEPARATOR = re.compile(r"::|\.")
_MAX_NAME_CHARS = 300  # names longer than this come from garbage input; don't spend time on them


def _is_string_node(node: SyntaxNode) -> bool:
    return "string" in node.type


def _display_name(node: SyntaxNode) -> str:
    """A name node's text as one name: string literals unquoted, generics stripped from type names."""
    text = node.text[:_MAX_NAME_CHARS]
    if _is_string_node(node):
        if len(text) >= 2 and text[0] in _QUOTES and text[-1] == text[0]:
            text = text[1:-1]
        return text
    parts = _name_parts(text)
    return ".".join(parts)


def _name_parts(text: str) -> list[str]:
    """`ns::Foo<T>::bar` -> ["ns", "Foo", "bar"]; `*Box[T]` -> ["Box"]; `Foo::operator<<` -> ["Foo", "operator<<"]."""
    text = text[:_MAX_NAME_CHARS]
    operator = _OPERATOR.search(text)
    head, operator_name = (text[: operator.start()], text[operator.start():]) if operator else (text, "")
    previous = None
    while previous != head:  # strip nested generic arguments, innermost first
        previous, head = head, _GENERIC_ARGUMENTS.sub("", head)
    parts = [part for part in _QUALIFIER_SEPARATOR.split(_NAME_NOISE.sub("", head)) if part]
    if operator_name:
        parts.append(re.sub(r"\s+", "", operator_name))
    return parts


def _resolve_name(candidate: _Candidate) -> _Resolved | None:
    if candidate.name_node is None:
        return None
    if _is_string_node(candidate.name_node):
        name, qualifier = _display_name(candidate.name_node), []
    else:
        parts = _name_parts(candidate.name_node.text)
        if not parts:
            return None
        name, qualifier = parts[-1], parts[:-1]
    if candidate.qualifier_node is not None:
        qualifier = _name_parts(candidate.qualifier_node.text) + qualifier
    if not name:
        return None
    return _Resolved(candidate, name, qualifier)


# --- nesting ------------------------------------------------------------------------------------


def _assign_enclosing(resolved: list[_Resolved], scopes: list[_Scope]) -> None:
    """Fill each function's chain of enclosing scopes and functions, outermost first.

    One sweep over the nodes sorted by (start, -end): a stack holds the chain of containers
    around the current position. No parent walking, so deep trees cost nothing extra."""
    entries: list[tuple[int, int, int, _Scope | _Resolved]] = []
    for scope in scopes:
        entries.append((scope.node.start_byte, -scope.node.end_byte, 0, scope))
    for function in resolved:
        node = function.candidate.definition
        entries.append((node.start_byte, -node.end_byte, 1, function))
    entries.sort(key=lambda entry: entry[:3])

    stack: list[tuple[int, _Scope]] = []  # (end_byte, container)
    for start, negative_end, _, entry in entries:
        end = -negative_end
        while stack and (stack[-1][0] < end or stack[-1][0] <= start):
            stack.pop()
        if isinstance(entry, _Resolved):
            entry.enclosing = [container for _, container in stack]
            own_name = ".".join([*entry.qualifier, entry.name])  # `Server.Run` for a Go method
            as_scope = _Scope(entry.candidate.definition, "function", own_name)
            stack.append((end, as_scope))
        else:
            stack.append((end, entry))


def _final_kind(function: _Resolved, spec: LanguageSpec, is_test: bool) -> str:
    """Plain functions inside a class, or qualified by a type (`Foo::bar`, Go receivers), are
    methods; those named like their class (or `__init__`, `constructor`) are constructors."""
    kind = function.candidate.kind
    if kind not in ("function", "method"):
        return kind
    owner = function.enclosing[-1] if function.enclosing else None
    owner_is_class = owner is not None and owner.kind == "class"
    # A test's qualifier is its suite (`TEST(Suite, Name)`), not a type.
    qualifier_type = function.qualifier[-1] if function.qualifier and not is_test else None
    owner_type_name = qualifier_type or (owner.name if owner_is_class else None)
    if owner_type_name is not None:
        if function.name in spec.constructor_names or function.name == owner_type_name:
            return "constructor"
        return "method"
    return kind


# --- spans ----------------------------------------------------------------------------------------


def _span_bytes(candidate: _Candidate, spec: LanguageSpec) -> tuple[int, int]:
    """Byte range of the function's span: the span node, widened over wrappers
    (decorated_definition, export, ...) and over decorators/doc comments directly above."""
    node = _climb_wrappers(candidate.span_node or candidate.definition, spec)
    return _first_attached(node, spec).start_byte, node.end_byte


def _climb_wrappers(node: SyntaxNode, spec: LanguageSpec) -> SyntaxNode:
    while True:
        parent = node.parent
        if parent is None or parent.type not in spec.wrapper_types:
            return node
        # A wrapper holding several definitions (`const a = () => 1, b = () => 2`) belongs to none.
        if sum(1 for child in parent.named_children if child.type == node.type) > 1:
            return node
        node = parent


def _first_attached(node: SyntaxNode, spec: LanguageSpec) -> SyntaxNode:
    first = node
    text = node.tree.text
    while True:
        previous = first.prev_named_sibling
        if previous is None or not _attaches(previous, first, spec, text):
            return first
        first = previous


def _attaches(previous: SyntaxNode, following: SyntaxNode, spec: LanguageSpec, text: str) -> bool:
    """Does `previous` (the sibling just before `following`) belong to the definition below it?"""
    is_doc_comment = previous.type in spec.comment_types and previous.text.startswith(spec.doc_comment_prefixes)
    if not (is_doc_comment or previous.type in spec.attachment_types):
        return False
    if following.start.line - previous.end.line > 1:  # a blank line separates them
        return False
    # A comment after code on its line (`x = 1;  // note`) documents that code, not what follows.
    start_offset = previous.start_offset
    line_start = start_offset - previous.start.character
    return text[line_start:start_offset].strip() == ""


def _trimmed_end(text: str, start: int, end: int) -> int:
    """Drop trailing whitespace (a "\\r" of CRLF, trailing newlines) from a span."""
    while end > start and text[end - 1] in " \t\r\n":
        end -= 1
    return end


def _body_start_line(candidate: _Candidate) -> int:
    body = candidate.body_node or candidate.definition.child_by_field("body")
    if body is None:
        return -1
    children = body.children
    # In a braced block the body proper starts after "{" (often on the next line).
    if len(children) >= 2 and children[0].type == "{" and children[1].type != "}":
        return children[1].start.line
    return body.start.line


# --- assembling -----------------------------------------------------------------------------------


def functions_in_tree(tree: SyntaxTree) -> list[FunctionInfo]:
    """The functions of a parsed document, sorted by start position (outer before nested)."""
    spec = LANGUAGES[tree.language]
    candidates, scopes, test_keys = _collect(tree.matches(function_query(tree.language)))
    resolved = [function for function in map(_resolve_name, candidates) if function is not None]
    _assign_enclosing(resolved, scopes)

    source = tree.source
    functions = []
    for function in resolved:
        candidate = function.candidate
        start_byte, end_byte = _span_bytes(candidate, spec)
        start = source.char_offset(start_byte)
        end = _trimmed_end(source.text, start, source.char_offset(end_byte))
        qualified = [scope.name for scope in function.enclosing] + function.qualifier + [function.name]
        is_test = candidate.definition.key in test_keys
        functions.append(
            FunctionInfo(
                language=tree.language,
                name=function.name,
                qualified_name=".".join(qualified),
                kind=_final_kind(function, spec, is_test),
                span=Span(source.position_of_char(start), source.position_of_char(end)),
                text=source.text[start:end],
                is_test=is_test,
                body_start_line=_body_start_line(candidate),
            )
        )
    functions.sort(key=lambda f: (f.span.start, -f.span.end.line, -f.span.end.character))
    return functions


class DocumentIndex:
    """One open document: its text, syntax tree and functions, kept current by incremental edits."""

    def __init__(self, language: str, text: str):
        if language not in LANGUAGES:
            raise ValueError(f"unsupported language {language!r}")
        self._language = language
        self._set_tree(parse(language, text))
        self.incremental_parse_count = 0  # edits whose tree came from reparsing with the previous tree
        self.full_reparse_count = 0  # edits that left syntax errors, reparsed from scratch

    def _set_tree(self, tree: SyntaxTree) -> None:
        self._tree = tree
        self._functions = functions_in_tree(tree)

    @property
    def language(self) -> str:
        return self._language

    @property
    def text(self) -> str:
        return self._tree.text

    @property
    def tree(self) -> SyntaxTree:
        """The current syntax tree (replaced, and the old one invalidated, by each edit)."""
        return self._tree

    @property
    def functions(self) -> list[FunctionInfo]:
        return list(self._functions)

    @property
    def has_errors(self) -> bool:
        return self._tree.has_errors

    def apply_change(self, start: Position, end: Position, new_text: str) -> None:
        """Apply an LSP incremental change (code point positions): edit the tree and reparse it
        incrementally (from scratch if the result has syntax errors), then refresh the functions."""
        new_tree = self._tree.edit(start, end, new_text)
        if new_tree.has_errors:
            # tree-sitter's error recovery can depend on which old nodes an incremental parse
            # reuses, so a tree with errors may differ from a fresh parse of the same text (seen
            # with an unterminated triple-quoted string). The index must depend on the text alone
            # (function hashes key caches), so such documents are reparsed from scratch: a few
            # milliseconds per thousand lines.
            new_tree = parse(self._language, new_tree.text)
            self.full_reparse_count += 1
        else:
            self.incremental_parse_count += 1
        self._set_tree(new_tree)

    def replace_text(self, text: str) -> None:
        """Full-document sync: parse from scratch."""
        self._set_tree(parse(self._language, text))

    def function_at(self, line: int) -> FunctionInfo | None:
        """The innermost function whose span covers `line`, or None."""
        best = None
        for function in self._functions:
            if function.span.contains_line(line) and (best is None or function.span.start >= best.span.start):
                best = function
        return best
