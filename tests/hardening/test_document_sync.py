"""In-process: the server's document store applies any sequence of content changes exactly like the
independent reference (harness/text_reference.py), and its incremental index matches a fresh parse."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types as lsp
from manyskills.index.functions import index_functions
from manyskills.lsp.documents import DocumentStore

from harness.text_reference import apply_change

START = 'def a(x):\r\n    return "😀" + x\n\nclass B:\n    def c(self):\u2028\n        pass\r\n'
TEXT = st.text(alphabet=st.sampled_from(list("ab_ (){}:=\n\t\r") + ["é", "😀", "𝄞", "\u2028", "\x0c", "\x85"]),
               max_size=15)
COORD = st.integers(0, 12) | st.integers(0, 2**31 - 1)


@st.composite
def change(draw) -> dict:
    if draw(st.integers(0, 9)) == 0:
        return {"text": draw(TEXT)}
    pos = lambda: {"line": draw(COORD), "character": draw(COORD)}  # noqa: E731
    return {"range": {"start": pos(), "end": pos()}, "text": draw(TEXT)}


def to_lsp(c: dict):
    if "range" not in c:
        return lsp.TextDocumentContentChangeWholeDocument(text=c["text"])
    r = c["range"]
    return lsp.TextDocumentContentChangePartial(
        range=lsp.Range(start=lsp.Position(**r["start"]), end=lsp.Position(**r["end"])), text=c["text"])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(change(), min_size=1, max_size=3), min_size=1, max_size=8))
def test_store_matches_reference_and_fresh_parse(batches):
    store = DocumentStore()
    state = store.open("file:///t.py", "python", 1, START, 1_000_000)
    expected = START
    for version, batch in enumerate(batches, start=2):
        store.change(state, version, [to_lsp(c) for c in batch], lsp.PositionEncodingKind.Utf16, 1_000_000)
        for c in batch:
            expected = apply_change(expected, c)
        assert state.text == expected
        assert state.index.text == expected
    assert [f.content_hash for f in state.index.functions] == [f.content_hash for f in index_functions("python",
                                                                                                      expected)]


def test_skipped_document_keeps_its_text_and_comes_back():
    store = DocumentStore()
    state = store.open("file:///t.py", "python", 1, "def f():\n    return 1\n", 20)
    assert state.index is None and "maxFileBytes" in state.skip_reason
    edit = lsp.TextDocumentContentChangePartial(range=lsp.Range(start=lsp.Position(1, 11), end=lsp.Position(1, 12)),
                                                text="2")
    store.change(state, 2, [edit], lsp.PositionEncodingKind.Utf16, 20)
    assert state.text == "def f():\n    return 2\n" and state.index is None
    store.revalidate(1_000_000)
    assert state.skip_reason is None and [f.name for f in state.index.functions] == ["f"]
