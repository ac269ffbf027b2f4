"""Positions in code points, CRLF, odd input, deep nesting, comment attachment rules."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from manyskills.index.functions import index_functions
from manyskills.index.languages import LANGUAGES
from manyskills.index.types import Position


def only(functions, qualified_name):
    [function] = [f for f in functions if f.qualified_name == qualified_name]
    return function


def test_non_ascii_and_astral_characters_count_as_one_character():
    text = 's = "😀😀"\nclass Ünï:\n    def méthode(self): return "😀"  # 💥\n'
    [method] = index_functions("python", text)
    assert method.qualified_name == "Ünï.méthode"
    assert method.span.start == Position(2, 4)
    # tree-sitter-python ends a block after a trailing comment on its last line.
    assert method.span.end == Position(2, len('    def méthode(self): return "😀"  # 💥'))
    assert method.text == 'def méthode(self): return "😀"  # 💥'


def test_columns_after_astral_characters_on_the_same_line():
    text = 'const s = "😀é"; const f = () => "𝄞"; const g = () => 1;\n'
    functions = index_functions("javascript", text)
    f, g = only(functions, "f"), only(functions, "g")
    assert f.text == 'const f = () => "𝄞";'
    assert f.span.start == Position(0, text.index("const f"))
    assert g.span.start == Position(0, text.index("const g"))
    assert g.span.end == Position(0, len(text.rstrip("\n")))


def test_crlf_line_endings():
    text = "def a():\r\n    return 1\r\n\r\n\r\nclass B:\r\n    def c(self):\r\n        pass\r\n"
    a, c = index_functions("python", text)
    assert (a.qualified_name, a.span.start, a.span.end) == ("a", Position(0, 0), Position(1, 12))
    assert a.text == "def a():\r\n    return 1"  # interior \r kept, no trailing \r
    assert (c.qualified_name, c.span.start, c.span.end) == ("B.c", Position(5, 4), Position(6, 12))
    assert not c.text.endswith("\r")


def test_crlf_doc_comment_attachment():
    text = "/// Doc.\r\n#[test]\r\nfn works() {\r\n}\r\n"
    [function] = index_functions("rust", text)
    assert function.span.start == Position(0, 0)
    assert function.span.end == Position(3, 1)
    assert function.is_test


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_empty_and_whitespace_documents(language):
    assert index_functions(language, "") == []
    assert index_functions(language, "\n\r\n  \t\n") == []


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_garbage_bytes_decoded_as_text(language):
    garbage = bytes(range(256)) * 8 + b"\xff\xfe\x00def f(): {}\x00" + bytes(reversed(range(256)))
    for errors in ("surrogateescape", "replace", "latin-1"):
        text = garbage.decode("latin-1") if errors == "latin-1" else garbage.decode("utf-8", errors)
        for function in index_functions(language, text):
            assert function.text in text


@settings(max_examples=40, deadline=None)
@given(language=st.sampled_from(sorted(LANGUAGES)), text=st.text(max_size=300))
def test_any_text_indexes_without_raising(language, text):
    for function in index_functions(language, text):
        assert function.span.start <= function.span.end
        assert function.text in text


DEEP_DOCUMENTS = {
    "python brackets": ("python", "x = " + "[" * 5000 + "]" * 5000 + "\n"),
    "python unclosed brackets": ("python", "def f():\n    return " + "(" * 5000 + "\n"),
    "c nested ifs": ("c", "int f(int x) {\n" + "if (x) {\n" * 5000 + "}\n" * 5000 + "}\n"),
    "go nested blocks": ("go", "package p\nfunc f() {\n" + "{\n" * 5000 + "}\n" * 5000 + "}\n"),
    "javascript nested functions": (
        "javascript",
        "".join(f"function f{i}() {{\n" for i in range(1000)) + "}\n" * 1000,
    ),
}


@pytest.mark.parametrize("name", sorted(DEEP_DOCUMENTS))
def test_deep_nesting_is_fast_and_never_recurses_in_python(name):
    language, text = DEEP_DOCUMENTS[name]
    started = time.perf_counter()
    functions = index_functions(language, text)
    assert time.perf_counter() - started < 5
    if name == "javascript nested functions":
        assert len(functions) == 1000
        assert functions[-1].qualified_name == ".".join(f"f{i}" for i in range(1000))


@pytest.mark.parametrize(
    "language, text",
    [
        # A comment ending a line of code documents that code, not the function below.
        ("c", "int x = 1; // counter\nint f(void) { return x; }\n"),
        # Java: only /** Javadoc */ attaches, not // comments.
        ("java", "class A {\n  // plain\n  void f() {}\n}\n"),
        # Rust: `//!` documents the module, `//` is not a doc comment.
        ("rust", "//! Module docs.\nfn f() {}\n"),
        ("rust", "// just a note\nfn f() {}\n"),
        # A blank line separates a comment from what follows.
        ("go", "package p\n\n// Orphan.\n\nfunc f() {}\n"),
        ("javascript", "/* not jsdoc */\nfunction f() {}\n"),
    ],
)
def test_comments_that_do_not_attach(language, text):
    [function] = index_functions(language, text)
    assert function.text.startswith(("int f", "void f", "fn f", "func f", "function f"))


def test_lambda_in_multi_declarator_statement_keeps_its_own_declarator():
    functions = index_functions("javascript", "const a = () => 1, b = () => 2;\n")
    assert [f.text for f in functions] == ["a = () => 1", "b = () => 2"]
