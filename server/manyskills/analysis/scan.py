"""Scan many files: read, index, analyse in batches across files, produce findings per file.
Used by `manyskills check` and the server's `manyskills.scanWorkspace` (on a worker thread)."""

from __future__ import annotations

import logging
from concurrent.futures import CancelledError
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from manyskills.analysis.analyzer import Analyzer
from manyskills.analysis.files import read_source
from manyskills.analysis.findings import Finding
from manyskills.analysis.rounds import split_rounds
from manyskills.index.functions import index_functions
from manyskills.index.languages import LANGUAGES
from manyskills.index.types import FunctionInfo
from manyskills.model.jobs import PRIORITY_SCAN, Cancelled, CancelToken
from manyskills.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class FileResult:
    path: Path
    language: str
    source: str  # key in the embedding index (path or URI)
    functions: list[FunctionInfo] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    skipped: str | None = None


def scan_files(analyzer: Analyzer, files: Iterable[tuple[Path, str]], settings: Settings,
               token: CancelToken | None = None, source_of: Callable[[Path], str] = str,
               on_progress: Callable[[int, int], None] | None = None) -> list[FileResult]:
    """Clones are reported only once every file's embeddings are known (a second, model-free pass)."""
    results = index_files(files, settings, source_of)
    functions = [f for r in results for f in r.functions]
    total = len(functions)
    analyses: dict = {}
    done = 0
    for round_functions in split_rounds(functions):  # the rounds of rounds.py (a Ray scan plans the same)
        if token is not None and token.cancelled:
            raise Cancelled()
        hits, misses = analyzer.cached(round_functions)
        analyses.update(hits)
        if misses:
            try:
                analyses.update(analyzer.submit(misses, PRIORITY_SCAN, token).result())
            except CancelledError as exc:
                raise Cancelled() from exc
        done += len(round_functions)
        if on_progress:
            on_progress(done, total)
    derive_findings(analyzer, results, analyses, settings)
    return results


def index_files(files: Iterable[tuple[Path, str]], settings: Settings,
                source_of: Callable[[Path], str] = str) -> list[FileResult]:
    """Read and index every file (no model); unreadable or oversized files carry a `skipped` reason."""
    results: list[FileResult] = []
    for path, language in files:
        text, reason = read_source(path, settings.max_file_bytes)
        result = FileResult(path, language, source_of(path), skipped=reason)
        if text is not None:
            result.lines = text.split("\n")
            result.functions = index_functions(language, text)
        elif reason:
            log.info("skipped %s: %s", path, reason)
        results.append(result)
    return results


def derive_findings(analyzer: Analyzer, results: list[FileResult], analyses: dict, settings: Settings) -> None:
    """Findings of every file from the model's results (content hash -> analysis), in file order."""
    no_clones = _without_clones(settings)
    for result in results:  # first pass: fill the embedding index
        analyzer.findings(result.source, result.functions, analyses, no_clones, result.lines,
                          LANGUAGES[result.language].line_comment)
    for result in results:
        result.findings = analyzer.findings(result.source, result.functions, analyses, settings, result.lines,
                                            LANGUAGES[result.language].line_comment)


def _without_clones(settings: Settings) -> Settings:
    import attrs

    return attrs.evolve(settings, skills=attrs.evolve(settings.skills, clone=False))
