"""The one path from functions to findings, used by the language server and `manyskills check` alike:
functions -> result cache -> model engine (misses only) -> findings (+ embedding index for clones/search).
"""

from __future__ import annotations

from concurrent.futures import Future

import attrs
from typing import Sequence

from manyskills.analysis.cache import LruCache
from manyskills.analysis.embeddings import EmbeddedFunction, EmbeddingIndex
from manyskills.analysis.findings import Finding, RelatedLocation, clone_finding, function_findings
from manyskills.analysis.rounds import unique_by_content
from manyskills.index.types import FunctionInfo
from manyskills.model.engine import ModelEngine
from manyskills.model.jobs import PRIORITY_EDIT, CancelToken
from manyskills.model.types import FunctionAnalysis, FunctionInput
from manyskills.settings import Settings

Analyses = dict[str, FunctionAnalysis]  # content hash -> result


class Analyzer:
    def __init__(self, engine: ModelEngine, cache_size: int):
        self.engine = engine
        self.cache: LruCache[FunctionAnalysis] = LruCache(cache_size)
        self.embeddings = EmbeddingIndex()

    def _key(self, function: FunctionInfo) -> tuple | None:
        backend = self.engine.backend
        if backend is None:
            return None
        return (function.content_hash, backend.identity.cache_key, backend.manifest.max_tokens)

    def cached(self, functions: Sequence[FunctionInfo]) -> tuple[Analyses, list[FunctionInfo]]:
        """Results already known, and the functions (deduplicated by content) that need the model."""
        hits: Analyses = {}
        misses: list[FunctionInfo] = []
        for function in unique_by_content(functions):
            key = self._key(function)
            value = self.cache.get(key) if key is not None else None
            if value is None:
                misses.append(function)
            else:
                hits[function.content_hash] = value
        return hits, misses

    def submit(self, functions: Sequence[FunctionInfo], priority: int = PRIORITY_EDIT,
               token: CancelToken | None = None) -> "Future[Analyses]":
        """Send cache misses to the model; the returned future resolves to their results (also cached)."""
        functions = list(functions)
        inputs = [FunctionInput(f.language, f.text, f.is_test) for f in functions]
        model_future = self.engine.analyse(inputs, priority, token)
        result: Future = Future()

        def done(fut: Future) -> None:
            if fut.cancelled():
                result.cancel()
                return
            exc = fut.exception()
            if exc is not None:
                result.set_exception(exc)
                return
            analyses: Analyses = {}
            for function, analysis in zip(functions, fut.result()):
                key = self._key(function)
                if key is not None:
                    self.cache.put(key, analysis)
                analyses[function.content_hash] = analysis
            result.set_result(analyses)

        model_future.add_done_callback(done)
        return result

    def effective(self, settings: Settings) -> Settings:
        """Fill `None` thresholds with the adapter's calibrated ones (tuned on validation data)."""
        if settings.threshold is not None and settings.flaky_threshold is not None:
            return settings
        backend = self.engine.backend
        calibrated = backend.manifest.thresholds if backend is not None else {}
        return attrs.evolve(
            settings,
            threshold=settings.threshold if settings.threshold is not None else calibrated.get("defect", 0.5),
            flaky_threshold=settings.flaky_threshold if settings.flaky_threshold is not None
            else calibrated.get("flaky", 0.5),
        )

    def findings(self, source: str, functions: Sequence[FunctionInfo], analyses: Analyses, settings: Settings,
                 lines: list[str], comment_prefix: str) -> list[Finding]:
        """Findings for one document/file; also refreshes its entries in the embedding index.
        Functions without a result yet (still queued) contribute nothing."""
        settings = self.effective(settings)
        found: list[Finding] = []
        embedded: list[EmbeddedFunction] = []
        for function in functions:
            analysis = analyses.get(function.content_hash)
            if analysis is None:
                continue
            found.extend(function_findings(function, analysis, settings, lines, comment_prefix))
            embedded.append(EmbeddedFunction(source, function, analysis.embedding))
        self.embeddings.update(source, embedded)
        if settings.skills.clone:
            for entry in embedded:
                match = self.embeddings.best_clone(entry, settings.clone_threshold)
                if match is None:
                    continue
                other = RelatedLocation(match.entry.source, match.entry.function.span,
                                        match.entry.function.qualified_name)
                finding = clone_finding(entry.function, other, match.score, lines, comment_prefix)
                if finding is not None:
                    found.append(finding)
        found.sort(key=lambda f: (f.span.start, f.skill))
        return found
