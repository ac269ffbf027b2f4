"""The embedding index (analysis/embeddings.py): best clone and search over every analysed function."""

import numpy as np
from manyskills.analysis.embeddings import EmbeddedFunction, EmbeddingIndex
from manyskills.index.functions import index_functions


def _entry(source: str, name: str, vector, lines: int = 5, text: str | None = None) -> EmbeddedFunction:
    body = "\n".join(f"    x = x + {i}" for i in range(lines - 2))
    (function,) = index_functions("python", text or f"def {name}(x):\n{body}\n    return x")
    v = np.asarray(vector, dtype=np.float32)
    return EmbeddedFunction(source, function, v / np.linalg.norm(v))


def test_the_best_clone_is_the_most_similar_other_function_above_the_threshold():
    index = EmbeddingIndex()
    me = _entry("a.py", "me", [1, 0, 0])
    close, closer = _entry("b.py", "close", [1, 0.5, 0]), _entry("c.py", "closer", [1, 0.1, 0])
    index.update("a.py", [me])
    index.update("b.py", [close])
    index.update("c.py", [closer])
    match = index.best_clone(me, 0.8)
    assert match.entry is closer and match.score > 0.99
    assert index.best_clone(me, 0.999) is None  # nothing that similar


def test_a_function_is_never_its_own_clone_nor_its_enclosing_functions():
    outer_text = "def outer(x):\n    def inner(y):\n        y = y + 1\n        y = y * 2\n        return y\n    return inner(x)"
    outer, inner = index_functions("python", outer_text)
    v = np.array([1, 0, 0], dtype=np.float32)
    index = EmbeddingIndex()
    entries = [EmbeddedFunction("a.py", outer, v), EmbeddedFunction("a.py", inner, v)]
    index.update("a.py", entries)
    assert index.best_clone(entries[0], 0.5) is None and index.best_clone(entries[1], 0.5) is None
    elsewhere = EmbeddedFunction("b.py", inner, v)  # the same text in another file is a clone
    index.update("b.py", [elsewhere])
    assert index.best_clone(entries[1], 0.5).entry is elsewhere


def test_short_functions_neither_have_nor_are_clones():
    index = EmbeddingIndex()
    short, long_ = _entry("a.py", "short", [1, 0], lines=3), _entry("b.py", "long", [1, 0])
    index.update("a.py", [short])
    index.update("b.py", [long_])
    assert index.best_clone(short, 0.5) is None
    assert index.best_clone(long_, 0.5) is None  # its only match is too short to count


def test_updating_a_source_replaces_exactly_its_entries():
    index = EmbeddingIndex()
    a, b = _entry("a.py", "a", [1, 0]), _entry("b.py", "b", [0, 1])
    index.update("a.py", [a])
    index.update("b.py", [b])
    assert len(index) == 2
    a2 = _entry("a.py", "a2", [0.6, 0.8])
    index.update("a.py", [a2])
    assert len(index) == 2 and [m.entry for m in index.search(np.array([0, 1.0]), 5)] == [b, a2]
    index.remove("b.py")
    assert [m.entry for m in index.search(np.array([0, 1.0]), 5)] == [a2]
    index.remove("a.py")
    assert index.search(np.array([0, 1.0]), 5) == [] and index.best_clone(a, 0.0) is None


def test_search_ranks_by_similarity_and_respects_the_limit():
    index = EmbeddingIndex()
    entries = [_entry("a.py", f"f{i}", [1, i]) for i in range(4)]
    index.update("a.py", entries)
    query = np.array([0, 1.0])
    hits = index.search(query, 2)
    assert [h.entry for h in hits] == [entries[3], entries[2]] and hits[0].score > hits[1].score
