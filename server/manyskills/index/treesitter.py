"""The project's only door to tree-sitter (the `tree_sitter` 0.23 binding, grammars from
`tree_sitter_languages` 1.10).

The grammars are the compiled `languages.so` inside tree-sitter-languages 1.10.2 (ABI 14), loaded
here by symbol (`tree_sitter_<name>`). That package's own Python API needs the 0.21 binding, whose
`Query.matches` leaks one list per match (its QueryMatch dealloc never releases `captures`):
re-indexing a document on every keystroke grew a long-running server by ~80 bytes per function per
edit, without bound. 0.23 frees them; the grammars, and so every node type and query, are unchanged.

Other modules get tree-sitter's power through four small types, with positions already converted
to what the rest of the server speaks (0-based lines, columns in Unicode code points):

* `SourceText` – a document's text with its UTF-8 bytes, converting between byte offsets (what
  tree-sitter reports), code point offsets (Python `str` indices) and `Position`s.
* `SyntaxTree` – a parsed document: `parse(language, text)` builds one, `tree.edit(...)` derives
  the tree of an edited document by *incremental* reparsing, `tree.matches(query)` runs a query,
  `tree.walk_span(function.span)` visits the nodes of one function (e.g. to mutate operators).
* `QueryMatch` – one match of a query: pattern index and captured nodes by capture name.
* `SyntaxNode` – a read-only node: type, byte/char/position ranges, text, children, fields, and an
  iterative pre-order `walk()` that is safe on arbitrarily deep trees (no Python recursion).

Lines end at "\\n" only (a "\\r" before it is the last character of its line), as in tree-sitter.
Text is encoded with `surrogatepass`, so any Python `str` (even one holding lone surrogates from
decoding binary data) round-trips and never raises.
"""

from __future__ import annotations

import bisect
import ctypes
import functools
import importlib.util
import re
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import tree_sitter

from manyskills.index.types import Position, Span

__all__ = ["ENCODING_ERRORS", "QueryMatch", "SourceText", "SyntaxNode", "SyntaxTree", "parse"]

ENCODING_ERRORS = "surrogatepass"

# UTF-8 continuation bytes (0b10xxxxxx): deleting them from a byte string leaves one byte per code point.
_CONTINUATION_BYTES = bytes(range(0x80, 0xC0))


def _encode(text: str) -> bytes:
    return text.encode("utf-8", ENCODING_ERRORS)


def _line_starts(data: bytes | str, newline: bytes | str) -> list[int]:
    starts = [0]
    find = data.find
    at = find(newline)
    while at >= 0:
        starts.append(at + 1)
        at = find(newline, at + 1)
    return starts


class SourceText:
    """Immutable document text plus conversions between byte offsets, code point offsets and positions."""

    __slots__ = ("_line_start_bytes", "_line_start_chars", "data", "is_ascii", "text")

    def __init__(self, text: str):
        self.text = text
        self.data = _encode(text)
        self.is_ascii = len(self.data) == len(text)
        self._line_start_bytes = _line_starts(self.data, b"\n")
        self._line_start_chars = self._line_start_bytes if self.is_ascii else _line_starts(text, "\n")

    @property
    def line_count(self) -> int:
        return len(self._line_start_bytes)

    def char_offset(self, byte_offset: int) -> int:
        """Code point offset of a byte offset (clamped to the text; a byte inside a multi-byte
        character maps to the end of that character)."""
        byte_offset = min(max(byte_offset, 0), len(self.data))
        if self.is_ascii:
            return byte_offset
        line = bisect.bisect_right(self._line_start_bytes, byte_offset) - 1
        line_start = self._line_start_bytes[line]
        column = len(self.data[line_start:byte_offset].translate(None, _CONTINUATION_BYTES))
        return self._line_start_chars[line] + column

    def position_of_char(self, char_offset: int) -> Position:
        char_offset = min(max(char_offset, 0), len(self.text))
        line = bisect.bisect_right(self._line_start_chars, char_offset) - 1
        return Position(line, char_offset - self._line_start_chars[line])

    def position_of_byte(self, byte_offset: int) -> Position:
        return self.position_of_char(self.char_offset(byte_offset))

    def char_offset_of(self, position: Position) -> int:
        """Code point offset of a position. Like LSP: a line past the end means the end of the text,
        a character past the end of its line means the end of that line (before its "\\n")."""
        if position.line < 0:
            return 0
        if position.line >= self.line_count:
            return len(self.text)
        line_start = self._line_start_chars[position.line]
        if position.line + 1 < self.line_count:
            line_end = self._line_start_chars[position.line + 1] - 1  # the "\n"
        else:
            line_end = len(self.text)
        return min(line_start + max(position.character, 0), line_end)

    def byte_offset_of_char(self, char_offset: int) -> int:
        char_offset = min(max(char_offset, 0), len(self.text))
        if self.is_ascii:
            return char_offset
        line = bisect.bisect_right(self._line_start_chars, char_offset) - 1
        line_text = self.text[self._line_start_chars[line]:char_offset]
        return self._line_start_bytes[line] + len(_encode(line_text))

    def ts_point(self, byte_offset: int) -> tuple[int, int]:
        """tree-sitter's (row, byte column) for a byte offset."""
        line = bisect.bisect_right(self._line_start_bytes, byte_offset) - 1
        return line, byte_offset - self._line_start_bytes[line]


@dataclass(frozen=True)
class QueryMatch:
    """One match of one query pattern. Captures named with a leading "_" (predicate helpers) are dropped."""

    pattern_index: int
    captures: dict[str, list[SyntaxNode]]

    def first(self, capture_name: str) -> SyntaxNode | None:
        nodes = self.captures.get(capture_name)
        return nodes[0] if nodes else None


class SyntaxNode:
    """A node of a `SyntaxTree`. Equal nodes have the same tree, type and byte range."""

    __slots__ = ("_node", "_tree")

    def __init__(self, node: tree_sitter.Node, tree: SyntaxTree):
        self._node = node
        self._tree = tree

    # --- identity -----------------------------------------------------------------------------
    @property
    def key(self) -> tuple[str, int, int]:
        """(type, start_byte, end_byte): identifies the node within its tree."""
        return self._node.type, self._node.start_byte, self._node.end_byte

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SyntaxNode) and other._tree is self._tree and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"SyntaxNode({self.type!r}, {self.start} - {self.end})"

    # --- kind ---------------------------------------------------------------------------------
    @property
    def type(self) -> str:
        """Grammar node type, e.g. "binary_expression", "identifier", or "+" for anonymous tokens."""
        return self._node.type

    @property
    def is_named(self) -> bool:
        return self._node.is_named

    @property
    def is_error(self) -> bool:
        """An ERROR node: text the parser could not fit into the grammar."""
        return self._node.is_error

    @property
    def is_missing(self) -> bool:
        """A zero-width node the parser inserted to recover from an error."""
        return self._node.is_missing

    @property
    def has_error(self) -> bool:
        """This node or a descendant is an ERROR or MISSING node."""
        return self._node.has_error

    # --- ranges -------------------------------------------------------------------------------
    @property
    def start_byte(self) -> int:
        return self._node.start_byte

    @property
    def end_byte(self) -> int:
        return self._node.end_byte

    @property
    def start_offset(self) -> int:
        """Start as a code point offset into `tree.text`."""
        return self._tree.source.char_offset(self._node.start_byte)

    @property
    def end_offset(self) -> int:
        return self._tree.source.char_offset(self._node.end_byte)

    @property
    def start(self) -> Position:
        return self._tree.source.position_of_byte(self._node.start_byte)

    @property
    def end(self) -> Position:
        return self._tree.source.position_of_byte(self._node.end_byte)

    @property
    def text(self) -> str:
        return self._tree.text[self.start_offset:self.end_offset]

    # --- navigation ---------------------------------------------------------------------------
    @property
    def tree(self) -> SyntaxTree:
        return self._tree

    def _wrap(self, node: tree_sitter.Node | None) -> SyntaxNode | None:
        return None if node is None else SyntaxNode(node, self._tree)

    @property
    def parent(self) -> SyntaxNode | None:
        return self._wrap(self._node.parent)

    @property
    def children(self) -> list[SyntaxNode]:
        """All children, anonymous tokens ("(", "+", "return") included."""
        return [SyntaxNode(child, self._tree) for child in self._node.children]

    @property
    def named_children(self) -> list[SyntaxNode]:
        return [SyntaxNode(child, self._tree) for child in self._node.named_children]

    @property
    def prev_named_sibling(self) -> SyntaxNode | None:
        return self._wrap(self._node.prev_named_sibling)

    @property
    def next_named_sibling(self) -> SyntaxNode | None:
        return self._wrap(self._node.next_named_sibling)

    def child_by_field(self, field_name: str) -> SyntaxNode | None:
        """The child in a grammar field, e.g. "body", "name", "left", "operator"."""
        return self._wrap(self._node.child_by_field_name(field_name))

    def children_by_field(self, field_name: str) -> list[SyntaxNode]:
        return [SyntaxNode(child, self._tree) for child in self._node.children_by_field_name(field_name)]

    def walk(
        self, named_only: bool = False, start_byte: int | None = None, end_byte: int | None = None
    ) -> Iterator[SyntaxNode]:
        """Pre-order traversal of this node's subtree (itself first), iterative: safe at any depth.

        With a byte range, yields only the nodes lying inside it and skips subtrees outside it."""
        low = self._node.start_byte if start_byte is None else start_byte
        high = self._node.end_byte if end_byte is None else end_byte
        cursor = self._node.walk()  # a cursor started here treats this node as its root
        tree = self._tree
        while True:
            node = cursor.node
            if low <= node.start_byte and node.end_byte <= high and (node.is_named or not named_only):
                yield SyntaxNode(node, tree)
            overlaps = node.start_byte <= high and node.end_byte >= low
            if overlaps and cursor.goto_first_child():
                continue
            while not cursor.goto_next_sibling():
                if not cursor.goto_parent():
                    return

    def descendant_for_bytes(self, start_byte: int, end_byte: int, named: bool = True) -> SyntaxNode | None:
        """Smallest (named) descendant covering the byte range."""
        if named:
            return self._wrap(self._node.named_descendant_for_byte_range(start_byte, end_byte))
        return self._wrap(self._node.descendant_for_byte_range(start_byte, end_byte))


# --- parsers and queries, cached ---------------------------------------------------------------

_thread_parsers = threading.local()  # a tree-sitter Parser is not safe to share between threads


@functools.cache
def _grammar_library() -> ctypes.CDLL:
    """tree-sitter-languages' compiled grammars, found without importing that package (its Python
    module is built against the 0.21 binding). Kept loaded for the life of the process: every
    Language points into it."""
    spec = importlib.util.find_spec("tree_sitter_languages")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError("tree-sitter grammars missing: install tree-sitter-languages==1.10.2")
    name = "languages.dll" if sys.platform == "win32" else "languages.so"  # as tree-sitter-languages names it
    return ctypes.CDLL(str(Path(next(iter(spec.submodule_search_locations))) / name))


@functools.cache
def _language(language: str) -> tree_sitter.Language:
    if not re.fullmatch(r"[a-z_]+", language):
        raise ValueError(f"no tree-sitter grammar for language {language!r}")
    try:
        entry = getattr(_grammar_library(), f"tree_sitter_{language}")
    except AttributeError as error:
        raise ValueError(f"no tree-sitter grammar for language {language!r}") from error
    entry.restype = ctypes.c_void_p
    return tree_sitter.Language(entry())


def _parser(language: str) -> tree_sitter.Parser:
    parsers = _thread_parsers.__dict__.setdefault("by_language", {})
    parser = parsers.get(language)
    if parser is None:
        parser = parsers[language] = tree_sitter.Parser(_language(language))
    return parser


@functools.lru_cache(maxsize=256)
def _query(language: str, source: str) -> tree_sitter.Query:
    return tree_sitter.Query(_language(language), source)


def check_query(language: str, source: str) -> None:
    """Compile a query, raising if it does not fit the grammar (for tests of query files)."""
    _query(language, source)


# --- trees ----------------------------------------------------------------------------------------


class SyntaxTree:
    """A parsed document. Created by `parse()` or `SyntaxTree.edit()`; nodes stay valid until the
    tree is edited (an edit consumes the old tree: tree-sitter mutates it to reuse it)."""

    def __init__(self, language: str, source: SourceText, tree: tree_sitter.Tree, reused_previous_tree: bool):
        self.language = language
        self.source = source
        self._tree = tree
        # True when tree-sitter reparsed incrementally from a previous tree (what the tests check).
        self.reused_previous_tree = reused_previous_tree

    @property
    def text(self) -> str:
        return self.source.text

    @property
    def root(self) -> SyntaxNode:
        return SyntaxNode(self._tree.root_node, self)

    @property
    def has_errors(self) -> bool:
        return self._tree.root_node.has_error

    def walk(self, named_only: bool = False) -> Iterator[SyntaxNode]:
        return self.root.walk(named_only)

    def walk_span(self, span: Span, named_only: bool = False) -> Iterator[SyntaxNode]:
        """Pre-order traversal of the nodes lying inside `span` (e.g. a `FunctionInfo.span`):
        how a caller visits a function's statements, expressions, operators and identifiers."""
        source = self.source
        start_byte = source.byte_offset_of_char(source.char_offset_of(span.start))
        end_byte = source.byte_offset_of_char(source.char_offset_of(span.end))
        return self.root.walk(named_only, start_byte, end_byte)

    def node_covering(self, start_offset: int, end_offset: int, named: bool = True) -> SyntaxNode | None:
        """Smallest node covering the code point range [start_offset, end_offset)."""
        source = self.source
        start_byte = source.byte_offset_of_char(start_offset)
        end_byte = source.byte_offset_of_char(end_offset)
        return self.root.descendant_for_bytes(start_byte, max(start_byte, end_byte), named)

    def matches(self, query_source: str, node: SyntaxNode | None = None) -> list[QueryMatch]:
        """Run a tree-sitter query (S-expression source; compiled once and cached) over `node`
        (default: the whole tree). Text predicates (#eq?, #match?) are applied."""
        query = _query(self.language, query_source)
        target = (node or self.root)._node
        results = []
        for pattern_index, raw_captures in query.matches(target):
            captures = {
                name: [SyntaxNode(n, self) for n in nodes]
                for name, nodes in raw_captures.items()
                if not name.startswith("_")
            }
            results.append(QueryMatch(pattern_index, captures))
        return results

    def edit(self, start: Position, end: Position, new_text: str) -> SyntaxTree:
        """The tree of this document with [start, end) replaced by `new_text`, reparsed incrementally.

        Positions are in code points and clamped like LSP positions. This tree must not be used
        afterwards: tree-sitter edits it in place so the new parse can reuse its unchanged parts."""
        source = self.source
        start_char, end_char = sorted((source.char_offset_of(start), source.char_offset_of(end)))
        start_byte = source.byte_offset_of_char(start_char)
        old_end_byte = source.byte_offset_of_char(end_char)
        new_source = SourceText(source.text[:start_char] + new_text + source.text[end_char:])
        new_end_byte = start_byte + len(_encode(new_text))
        self._tree.edit(
            start_byte=start_byte,
            old_end_byte=old_end_byte,
            new_end_byte=new_end_byte,
            start_point=source.ts_point(start_byte),
            old_end_point=source.ts_point(old_end_byte),
            new_end_point=new_source.ts_point(new_end_byte),
        )
        new_tree = _parser(self.language).parse(new_source.data, self._tree)
        return SyntaxTree(self.language, new_source, new_tree, reused_previous_tree=True)


def parse(language: str, text: str) -> SyntaxTree:
    """Parse a whole document. Raises ValueError for an unknown language, never for the text."""
    source = SourceText(text)
    return SyntaxTree(language, source, _parser(language).parse(source.data), reused_previous_tree=False)
