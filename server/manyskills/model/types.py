"""The data that crosses the backend seam (server/CLI <-> model), free of torch so the language
server can start and answer `initialize` before the heavy libraries are imported."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, Sequence

import numpy as np

from manyskills.model.adapter import Manifest


@dataclass(frozen=True)
class FunctionInput:
    language: str
    text: str
    is_test: bool = False


@dataclass(frozen=True)
class FunctionAnalysis:
    defect_score: float  # P(function is buggy)
    line_scores: tuple[float, ...]  # P(bug on line i | buggy), one per line of the function text
    bug_line: int  # 0-based line within the function text
    flaky_score: float | None  # only for test functions
    embedding: np.ndarray = field(repr=False)  # L2-normalised float32 vector (clone + search)
    tokens: int = 0
    truncated: bool = False


@dataclass(frozen=True)
class ReviewNote:
    note: str
    fixed_line: str | None  # full replacement text for the suspect line (indentation kept), or None
    raw: str


@dataclass(frozen=True)
class ModelIdentity:
    base_name: str
    base_sha256: str
    base_source: str
    adapter_path: str | None
    adapter_version: str
    adapter_trained: bool
    device: str
    dtype: str

    @property
    def cache_key(self) -> str:
        """What results depend on: base weights and adapter version (device/dtype change scores by
        rounding only, so they are not part of the key)."""
        return f"{self.base_sha256[:16]}:{self.adapter_path or '-'}:{self.adapter_version}"


class AnalysisBackend(Protocol):
    identity: ModelIdentity
    manifest: Manifest

    def analyse(self, batch: Sequence[FunctionInput]) -> list[FunctionAnalysis]: ...

    def embed_queries(self, queries: Sequence[str]) -> np.ndarray: ...

    def review(self, item: FunctionInput, line: int, max_new_tokens: int = 64) -> ReviewNote: ...

    def log_likelihood(self, batch: Sequence[FunctionInput]) -> list[float]: ...

    def count_tokens(self, item: FunctionInput) -> int: ...
