"""The shared embedding space: clone detection between functions and natural-language search.

Every analysed function contributes its embedding (from the same forward pass as the defect score);
the index is per source (document URI or file path) so closing or re-analysing a document replaces
exactly its entries.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from manyskills.index.types import FunctionInfo

MIN_CLONE_LINES = 4  # one- to three-line functions (getters, delegations) are alike by nature


@dataclass(frozen=True)
class EmbeddedFunction:
    source: str
    function: FunctionInfo
    vector: np.ndarray


@dataclass(frozen=True)
class Match:
    entry: EmbeddedFunction
    score: float


class EmbeddingIndex:
    def __init__(self) -> None:
        self._by_source: dict[str, list[EmbeddedFunction]] = {}
        self._lock = threading.Lock()
        self._matrix: np.ndarray | None = None
        self._entries: list[EmbeddedFunction] = []

    def update(self, source: str, entries: list[EmbeddedFunction]) -> None:
        with self._lock:
            if entries:
                self._by_source[source] = entries
            else:
                self._by_source.pop(source, None)
            self._matrix = None

    def remove(self, source: str) -> None:
        self.update(source, [])

    def _snapshot(self) -> tuple[list[EmbeddedFunction], np.ndarray]:
        with self._lock:
            if self._matrix is None:
                self._entries = [e for entries in self._by_source.values() for e in entries]
                dim = self._entries[0].vector.shape[0] if self._entries else 1
                self._matrix = np.stack([e.vector for e in self._entries]) if self._entries else np.zeros((0, dim))
            return self._entries, self._matrix

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_source.values())

    def best_clone(self, entry: EmbeddedFunction, threshold: float) -> Match | None:
        """The most similar other function above `threshold`, or None."""
        if _line_count(entry.function) < MIN_CLONE_LINES:
            return None
        entries, matrix = self._snapshot()
        if not entries:
            return None
        sims = matrix @ entry.vector
        for index in np.argsort(-sims):
            score = float(sims[index])
            if score < threshold:
                return None
            other = entries[index]
            if other.source == entry.source and other.function.span == entry.function.span:
                continue  # itself
            if _nested(other.function, entry.function) and other.source == entry.source:
                continue  # an outer function contains its inner one's text
            if _line_count(other.function) < MIN_CLONE_LINES:
                continue
            return Match(other, score)
        return None

    def entries(self) -> list[EmbeddedFunction]:
        return list(self._snapshot()[0])

    def search(self, query: np.ndarray, limit: int) -> list[Match]:
        entries, matrix = self._snapshot()
        if not entries:
            return []
        sims = matrix @ query
        order = np.argsort(-sims)[:limit]
        return [Match(entries[i], float(sims[i])) for i in order]


def _line_count(function: FunctionInfo) -> int:
    return function.span.end.line - function.span.start.line + 1


def _nested(a: FunctionInfo, b: FunctionInfo) -> bool:
    return (a.span.start <= b.span.start and b.span.end <= a.span.end) or (
        b.span.start <= a.span.start and a.span.end <= b.span.end)
