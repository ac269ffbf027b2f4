"""Hybrid code search: BM25 over identifier-split tokens fused with the embedding ranking.

Embeddings alone lose to keyword search when a query names what the code names (`parse the header`
against `def parse_header`); BM25 alone misses paraphrases. The fused score is a linear mix of the two
scores, each min-max normalised over the candidates of the query: `EMBEDDING_SHARE * emb + (1 -
EMBEDDING_SHARE) * bm25`. The method (this mix or reciprocal-rank fusion) and its constants were chosen
on held-out validation projects (`bench/search_quality.py --tune` prints the grid); the test projects
were never used for the choice.

Tokens: every identifier is split at `_` and camelCase boundaries and lowercased (`parseHTTPHeader` ->
parse, http, header); comments and docstrings are part of the function text, so their words count too.
A light suffix stemmer lets `returns`/`return`, `parsing`/`parse` meet.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

BM25_K1 = 1.2
BM25_B = 0.75
# Chosen on validation (cattrs, pydantic, pygls, uvicorn; n=203): the linear mix at 0.6 had MRR 0.70,
# the best RRF (k=10, lexical weight 1.5) 0.67, BM25 alone 0.62, the embedding alone 0.49.
FUSION_METHOD = "linear"
EMBEDDING_SHARE = 0.6
RRF_K = 60

_WORD = re.compile(r"[A-Za-z0-9]+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
# English function words and the most common keywords: they match everything and rank nothing.
STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "if", "in", "into", "is", "it",
    "its", "of", "on", "or", "that", "the", "this", "to", "was", "were", "will", "with", "def", "return",
    "self", "none", "true", "false", "not", "else", "elif", "function", "var", "let", "const", "fn",
    "func", "pub", "public", "private", "static", "void", "int", "str", "new",
})


def _stem(word: str) -> str:
    """Folds the common English inflections onto one form: parse/parses/parsed/parsing -> pars."""
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            word = word[: len(word) - len(suffix)] + keep
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def tokens(text: str) -> list[str]:
    """Identifier-split, lowercased, stemmed words of code or of a query, without stopwords."""
    out = []
    for word in _WORD.findall(text):
        for part in _CAMEL.findall(word):
            part = part.lower()
            if len(part) > 1 and part not in STOPWORDS:
                stem = _stem(part)
                if stem not in STOPWORDS:
                    out.append(stem)
    return out


class TokenCache:
    """Token counts of function texts, kept across queries (a workspace is tokenised once, not per
    search); bounded, dropped wholesale when it outgrows the index it serves."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[Counter, int]] = {}
        self._lock = threading.Lock()

    def get(self, texts: Sequence[str]) -> list[tuple[Counter, int]]:
        with self._lock:
            if len(self._counts) > 4 * len(texts) + 1000:
                self._counts.clear()
            out = []
            for text in texts:
                entry = self._counts.get(text)
                if entry is None:
                    words = tokens(text)
                    entry = self._counts[text] = (Counter(words), len(words))
                out.append(entry)
            return out


def bm25_scores(query: str, documents: Sequence[tuple[Counter, int]]) -> np.ndarray:
    """Okapi BM25 of every document for `query` (0 where no query word occurs)."""
    scores = np.zeros(len(documents), dtype=np.float64)
    words = set(tokens(query))
    if not documents or not words:
        return scores
    lengths = np.array([length for _, length in documents], dtype=np.float64)
    avg_len = max(1.0, float(lengths.mean()))
    n = len(documents)
    for word in words:
        tf = np.array([counts.get(word, 0) for counts, _ in documents], dtype=np.float64)
        df = int(np.count_nonzero(tf))
        if not df:
            continue
        idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
        scores += idf * tf * (BM25_K1 + 1) / (tf + BM25_K1 * (1 - BM25_B + BM25_B * lengths / avg_len))
    return scores


def _ranks(scores: np.ndarray) -> np.ndarray:
    """1-based rank of each item by descending score (ties keep input order)."""
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.int64)
    ranks[order] = np.arange(1, len(scores) + 1)
    return ranks


def _unit(scores: np.ndarray) -> np.ndarray:
    """Min-max onto 0..1 (all equal: all 0, so a ranking that cannot tell candidates apart adds nothing)."""
    low, high = float(scores.min(initial=0.0)), float(scores.max(initial=0.0))
    return (scores - low) / (high - low) if high > low else np.zeros_like(scores)


@dataclass(frozen=True)
class Fusion:
    """How the two rankings combine; the defaults are the validated choice."""

    method: str = FUSION_METHOD  # "linear" | "rrf"
    embedding_share: float = EMBEDDING_SHARE  # linear: the embedding's weight; BM25 gets the rest
    rrf_k: float = RRF_K  # rrf: 1 / (k + rank) per ranking
    lexical_weight: float = 1.0  # rrf: the BM25 ranking's vote relative to the embedding's

    def scores(self, embedding: np.ndarray, lexical: np.ndarray) -> np.ndarray:
        if self.method == "linear":
            return self.embedding_share * _unit(embedding) + (1 - self.embedding_share) * _unit(lexical)
        fused = 1.0 / (self.rrf_k + _ranks(embedding))
        # A function with no query word at all gets no lexical vote (its BM25 rank is arbitrary).
        return fused + np.where(lexical > 0, self.lexical_weight / (self.rrf_k + _ranks(lexical)), 0.0)


def hybrid_order(query: str, texts: Sequence[str], similarities: np.ndarray, fusion: Fusion | None = None,
                 cache: TokenCache | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Indices of `texts` best first, and their fused scores, for `query` given each text's embedding
    similarity to it."""
    documents = (cache or TokenCache()).get(texts)
    fused = (fusion or Fusion()).scores(np.asarray(similarities, dtype=np.float64), bm25_scores(query, documents))
    order = np.argsort(-fused, kind="stable")
    return order, fused[order]


def lexical_order(query: str, texts: Iterable[str]) -> np.ndarray:
    """BM25 alone (the baseline the hybrid is measured against)."""
    scores = bm25_scores(query, TokenCache().get(list(texts)))
    return np.argsort(-scores, kind="stable")
