"""The generic syntax-tree helper and the language registry."""

from __future__ import annotations

import re
from pathlib import Path

import manyskills
import pytest
from manyskills.index import treesitter
from manyskills.index.functions import DocumentIndex, function_query
from manyskills.index.languages import LANGUAGES, language_for_lsp_id, language_for_path
from manyskills.index.treesitter import SourceText, parse
from manyskills.index.types import Position

PACKAGE_ROOT = Path(manyskills.__file__).parent


def test_only_the_treesitter_module_imports_tree_sitter():
    importers = {
        str(path.relative_to(PACKAGE_ROOT))
        for path in PACKAGE_ROOT.rglob("*.py")
        if re.search(r"^\s*(import|from)\s+tree_sitter", path.read_text(encoding="utf-8"), re.MULTILINE)
    }
    assert importers == {"index/treesitter.py"}


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_language_has_a_compiling_query_file(language):
    assert (PACKAGE_ROOT / "index" / "queries" / f"{language}.scm").is_file()
    treesitter.check_query(language, function_query(language))


def test_walk_visits_every_node_in_preorder_with_positions_in_code_points():
    text = 'x = "😀" + y\n'
    tree = parse("python", text)
    types = [node.type for node in tree.walk(named_only=True)]
    assert types == ["module", "expression_statement", "assignment", "identifier", "binary_operator",
                     "string", "string_start", "string_content", "string_end", "identifier"]
    [operator] = [node for node in tree.walk() if node.type == "+"]
    assert not operator.is_named
    assert operator.start == Position(0, 8) and operator.end == Position(0, 9)
    assert (operator.start_offset, operator.end_offset) == (8, 9)
    assert (operator.start_byte, operator.end_byte) == (11, 12)
    assert operator.text == "+"
    binary = operator.parent
    assert binary.type == "binary_operator"
    assert binary.child_by_field("left").text == '"😀"'
    assert binary.child_by_field("right").text == "y"
    assert binary.child_by_field("operator") == operator
    assert [child.type for child in binary.children] == ["string", "+", "identifier"]
    assert binary.named_children[0].next_named_sibling.text == "y"
    assert next(binary.walk()) == binary  # a subtree walk starts at its root ...
    assert all(node.start_byte >= binary.start_byte for node in binary.walk())  # ... and stays inside


def test_walk_span_visits_one_functions_nodes():
    text = "def a():\n    return 1 + 2\n\n\ndef b(x):\n    return x - 3\n"
    document = DocumentIndex("python", text)
    function_b = document.functions[1]
    nodes = list(document.tree.walk_span(function_b.span))
    assert nodes[0].type == "function_definition" and nodes[0].text == function_b.text
    assert [node.type for node in nodes if node.type in ("+", "-")] == ["-"]
    assert [node.text for node in document.tree.walk_span(function_b.span, named_only=True)
            if node.type == "identifier"] == ["b", "x", "x"]


def test_walk_of_a_deep_tree_does_not_recurse():
    tree = parse("javascript", "x = " + "(" * 20000 + "1" + ")" * 20000 + ";\n")
    assert sum(1 for _ in tree.walk()) > 40000


def test_node_covering_and_errors():
    tree = parse("python", "def f(:\n    return 1\n")
    assert tree.has_errors
    assert any(node.is_error or node.is_missing for node in tree.walk())
    node = tree.node_covering(12, 18)  # "return"
    assert node.type == "return_statement"
    assert tree.node_covering(12, 18, named=False).type == "return"


def test_matches_applies_predicates_and_hides_helper_captures():
    tree = parse("python", "def test_a(): pass\ndef b(): pass\n")
    query = '(function_definition name: (identifier) @_name (#match? @_name "^test")) @function'
    [match] = tree.matches(query)
    assert match.first("function").text == "def test_a(): pass"
    assert "_name" not in match.captures


def test_syntax_tree_edit_reparses_incrementally():
    tree = parse("rust", "fn a() {}\n")
    edited = tree.edit(Position(0, 3), Position(0, 4), "bé")
    assert edited.reused_previous_tree and not tree.reused_previous_tree
    assert edited.text == "fn bé() {}\n"
    assert [node.text for node in edited.walk() if node.type == "identifier"] == ["bé"]


def test_source_text_conversions():
    source = SourceText("a😀b\r\né\n")
    assert source.line_count == 3
    assert source.char_offset(len("a😀".encode())) == 2
    assert source.position_of_byte(len("a😀b\r\n".encode())) == Position(1, 0)
    assert source.position_of_char(3) == Position(0, 3)  # the "\r" belongs to line 0
    assert source.char_offset_of(Position(0, 99)) == 4  # clamped before "\n", after "\r"
    assert source.char_offset_of(Position(1, 1)) == 6
    assert source.char_offset_of(Position(9, 0)) == len(source.text)
    assert source.byte_offset_of_char(2) == len("a😀".encode())
    lone_surrogate = SourceText("x\udcff y")  # from bytes decoded with surrogateescape
    assert lone_surrogate.char_offset(len(lone_surrogate.data)) == 4


def test_unknown_grammar_is_a_value_error():
    with pytest.raises(ValueError):
        parse("cobol", "")


@pytest.mark.parametrize("path, language", [
    ("a.py", "python"), ("stubs/a.pyi", "python"), ("a.js", "javascript"), ("a.mjs", "javascript"),
    ("a.cjs", "javascript"), ("App.JSX", "javascript"), ("a.ts", "typescript"), ("a.mts", "typescript"),
    ("a.cts", "typescript"), ("a.tsx", "tsx"), ("A.java", "java"), ("a.c", "c"), ("a.h", "c"),
    ("a.cc", "cpp"), ("a.cpp", "cpp"), ("a.cxx", "cpp"), ("a.hpp", "cpp"), ("a.hh", "cpp"),
    ("a.hxx", "cpp"), ("a.go", "go"), ("src/lib.rs", "rust"), ("README.md", None), ("Makefile", None),
])
def test_language_for_path(path, language):
    assert language_for_path(path) == language
    assert language_for_path(Path(path)) == language


@pytest.mark.parametrize("lsp_id, language", [
    ("python", "python"), ("javascript", "javascript"), ("javascriptreact", "javascript"),
    ("typescript", "typescript"), ("typescriptreact", "tsx"), ("java", "java"), ("c", "c"),
    ("cpp", "cpp"), ("go", "go"), ("rust", "rust"), ("markdown", None),
])
def test_language_for_lsp_id(lsp_id, language):
    assert language_for_lsp_id(lsp_id) == language


def test_line_comments():
    assert {name: spec.line_comment for name, spec in LANGUAGES.items()} == {
        "python": "#", "javascript": "//", "typescript": "//", "tsx": "//", "java": "//",
        "c": "//", "cpp": "//", "go": "//", "rust": "//",
    }


def test_reindexing_on_every_edit_leaves_no_objects_behind():
    """The 0.21 binding leaked one list per query match; a server re-indexes the document on every
    keystroke, so a 300-function file grew by ~50 KB per edit. Edit a document 200 times and count
    the live objects the garbage collector tracks."""
    import gc

    text = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(30))
    index = DocumentIndex("python", text)
    gc.collect()
    before = len(gc.get_objects())
    for i in range(200):
        index.apply_change(Position(0, 4), Position(0, 6), "f0" if i % 2 else "g0")
    gc.collect()
    assert len(index.functions) == 30
    assert len(gc.get_objects()) - before < 200  # 0.21.3: +12,000
