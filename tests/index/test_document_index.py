"""DocumentIndex: incremental edits give what a fresh index gives, and really reuse the old tree."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from manyskills.index import treesitter
from manyskills.index.functions import DocumentIndex, index_functions
from manyskills.index.treesitter import SourceText, parse
from manyskills.index.types import Position

FIXTURES = Path(__file__).parent.parent / "fixtures" / "index"
PYTHON_FIXTURE = (FIXTURES / "python" / "inventory.py").read_bytes().decode("utf-8")
VALID_PYTHON = PYTHON_FIXTURE.replace("    if len(items) >:\n", "    if len(items) > 1:\n")

FRAGMENTS = ["def ", "class ", "lambda x: ", ":", "\n", "\r\n", "    ", "(", ")", "[", "]", '"""', "#",
             "return ", "x", "é", "😀", "@retry\n", "async ", "test_", "=", ""]


def position_of(text: str, char_offset: int) -> Position:
    return SourceText(text).position_of_char(char_offset)


@st.composite
def edits(draw, text_length: int):
    start = draw(st.integers(0, text_length))
    end = draw(st.integers(start, min(text_length, start + 60)))
    new_text = "".join(draw(st.lists(st.sampled_from(FRAGMENTS), max_size=4)))
    return start, end, new_text


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_incremental_edits_match_a_fresh_index(data):
    text = data.draw(st.sampled_from([VALID_PYTHON, PYTHON_FIXTURE]))
    document = DocumentIndex("python", text)
    for _ in range(data.draw(st.integers(1, 3))):
        start, end, new_text = data.draw(edits(len(text)))
        document.apply_change(position_of(text, start), position_of(text, end), new_text)
        text = text[:start] + new_text + text[end:]
        assert document.text == text
        assert document.functions == index_functions("python", text)
        assert document.has_errors == parse("python", text).has_errors


def test_edit_renames_and_adds_functions():
    document = DocumentIndex("python", "def a():\n    return 1\n")
    document.apply_change(Position(0, 4), Position(0, 5), "renamed")
    assert [f.name for f in document.functions] == ["renamed"]
    document.apply_change(Position(2, 0), Position(2, 0), "class K:\n    def m(self): pass\n")
    assert [(f.qualified_name, f.kind) for f in document.functions] == [("renamed", "function"), ("K.m", "method")]
    assert document.incremental_parse_count == 2


def test_edit_positions_are_code_points_and_clamped_like_lsp():
    document = DocumentIndex("python", "s = '😀'; t = 'é'\ndef f(): pass\n")
    # Replace the "t" after the astral character: column counted in code points.
    document.apply_change(Position(0, 9), Position(0, 10), "u")
    assert document.text == "s = '😀'; u = 'é'\ndef f(): pass\n"
    # Past the end of a line -> end of that line; past the last line -> end of document.
    document.apply_change(Position(0, 999), Position(0, 999), "!")
    assert document.text.splitlines()[0] == "s = '😀'; u = 'é'!"
    document.apply_change(Position(99, 0), Position(99, 5), "def g(): pass\n")
    assert [f.name for f in document.functions] == ["f", "g"]


def test_incremental_path_passes_the_old_tree(monkeypatch):
    """Spy on the parser: an edit must parse with the previous tree, not from scratch."""
    calls = []
    real_parser = treesitter._parser

    class SpyParser:
        def __init__(self, parser):
            self.parser = parser

        def parse(self, data, old_tree=None):
            calls.append(old_tree)
            return self.parser.parse(data) if old_tree is None else self.parser.parse(data, old_tree)

    monkeypatch.setattr(treesitter, "_parser", lambda language: SpyParser(real_parser(language)))
    document = DocumentIndex("python", VALID_PYTHON)
    document.apply_change(Position(8, 4), Position(8, 9), "again")
    assert calls[0] is None  # the first parse is from scratch
    assert len(calls) == 2 and calls[1] is not None
    assert document.tree.reused_previous_tree
    assert document.incremental_parse_count == 1
    assert "again" in [f.name for f in document.functions]

    # An edit that leaves a syntax error: incremental attempt, then a canonical fresh parse.
    document.apply_change(Position(8, 4), Position(8, 4), "(")
    assert len(calls) == 4 and calls[2] is not None and calls[3] is None
    assert not document.tree.reused_previous_tree
    assert (document.incremental_parse_count, document.full_reparse_count) == (1, 1)
    assert document.functions == index_functions("python", document.text)

    document.replace_text("def only(): pass\n")
    assert calls[4] is None  # full sync parses from scratch
    assert [f.name for f in document.functions] == ["only"]


def test_properties_and_function_at():
    document = DocumentIndex("python", PYTHON_FIXTURE)
    assert document.language == "python"
    assert document.has_errors  # the fixture has a syntax error
    assert document.function_at(0) is None
    assert document.function_at(13).qualified_name == "retry.decorator.wrapper"
    assert document.function_at(20).qualified_name == "retry"  # after the nested ones end
    assert document.function_at(32).qualified_name == "Inventory.add"  # the decorator line
    document.replace_text("def fine(): pass\n")
    assert not document.has_errors
    functions = document.functions
    functions.clear()  # a copy: the index is not changed through it
    assert len(document.functions) == 1


@pytest.mark.parametrize("language, text, edit, expected", [
    ("rust", "fn a() {}\n", (Position(0, 3), Position(0, 4), "b"), ["b"]),
    ("tsx", "const A = () => <div/>;\n", (Position(0, 6), Position(0, 7), "Bee"), ["Bee"]),
    ("go", "package p\nfunc (s *S) A() {}\n", (Position(1, 9), Position(1, 10), "T"), ["T.A"]),
])
def test_incremental_edit_in_other_languages(language, text, edit, expected):
    document = DocumentIndex(language, text)
    document.apply_change(*edit)
    assert [f.qualified_name for f in document.functions] == expected
    assert document.functions == index_functions(language, document.text)


def test_unknown_language_is_rejected():
    with pytest.raises(ValueError):
        DocumentIndex("cobol", "")
    with pytest.raises(ValueError):
        index_functions("cobol", "")
