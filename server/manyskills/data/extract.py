"""Turn harvested projects into a deduplicated, project-split function corpus (`functions.jsonl`).

* every source file of a supported language is indexed with `index_functions`;
* functions of 3–60 lines and at most 2,000 characters are kept (dedented to column 0), except
  those overlapping a parse error;
* exact duplicates (whitespace-normalised) and near-duplicates (token-set Jaccard ≥ 0.9, found
  with MinHash + LSH and then verified exactly) are dropped across the whole corpus, keeping the
  first in a deterministic order (projects sorted by name, files by path, functions by position);
* the split is assigned by PROJECT (stable hash of the project name: 80 % train, 10 % valid,
  10 % test), never by function, so one project's functions never straddle splits.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from manyskills.data.corpus import Project
from manyskills.data.denylist import is_denied
from manyskills.data.records import CorpusFunction, stable_id
from manyskills.index.functions import functions_in_tree
from manyskills.index.languages import LANGUAGE_NAMES as LANGUAGES
from manyskills.index.languages import language_for_path
from manyskills.index.treesitter import parse
from manyskills.index.types import FunctionInfo
from manyskills.stats import jaccard

__all__ = [
    "LANGUAGES",
    "ExtractStats",
    "NearDuplicateIndex",
    "code_tokens",
    "extract_functions",
    "file_functions",
    "function_code",
    "jaccard",
    "keep_function",
    "normalize_whitespace",
    "split_for_project",
]

log = logging.getLogger("manyskills.data.extract")

MIN_LINES = 3
MAX_LINES = 60
MAX_CHARS = 2000
NEAR_DUP_THRESHOLD = 0.9


@functools.cache
def pinned_splits() -> dict[str, str]:
    """Splits pinned in the packaged `sources.json` (lower-cased project name → split). Pins exist
    only where the hash split would leave a language without a valid or test project."""
    from manyskills.data.corpus import load_sources

    try:
        return {s.name.strip().lower(): s.split for s in load_sources() if s.split}
    except (OSError, ValueError, KeyError):  # pragma: no cover
        return {}


def split_for_project(project: str, valid: int = 10, test: int = 10) -> str:
    """Stable split of a project: its pinned split if any, else the hash of its (lower-cased) name
    → train/valid/test (80/10/10). Never depends on the function, so a project never straddles."""
    pinned = pinned_splits().get(project.strip().lower())
    if pinned in ("train", "valid", "test"):
        return pinned
    h = int.from_bytes(hashlib.sha256(project.strip().lower().encode()).digest()[:8], "big") % 100
    if h < test:
        return "test"
    if h < test + valid:
        return "valid"
    return "train"


def normalize_whitespace(code: str) -> str:
    return " ".join(code.split())


_TOKEN = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*|\d[\w.]*|\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'|\S")


def code_tokens(code: str) -> list[str]:
    return _TOKEN.findall(code)


def _h64(token: str) -> int:
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


class NearDuplicateIndex:
    """MinHash (64 permutations) + LSH (8 bands × 8 rows) over token sets; candidates are verified
    with the exact Jaccard similarity. Deterministic (fixed seeds, no Python `hash`)."""

    def __init__(self, threshold: float = NEAR_DUP_THRESHOLD, num_perm: int = 64, bands: int = 8):
        self.threshold = threshold
        self.num_perm = num_perm
        self.bands = bands
        self.rows = num_perm // bands
        self._buckets: list[dict[tuple, list[int]]] = [{} for _ in range(bands)]
        self._sets: list[frozenset[str]] = []
        self._prime = (1 << 61) - 1
        import random

        rnd = random.Random(1234567)
        self._a = [rnd.randrange(1, self._prime) for _ in range(num_perm)]
        self._b = [rnd.randrange(0, self._prime) for _ in range(num_perm)]
        try:
            import numpy as np

            self._np = np
            # 61-bit arithmetic overflows uint64 products; use a 31-bit prime with numpy instead
            self._p31 = (1 << 31) - 1
            self._na = np.array([a % self._p31 for a in self._a], dtype=np.uint64)
            self._nb = np.array([b % self._p31 for b in self._b], dtype=np.uint64)
        except ImportError:  # pragma: no cover
            self._np = None

    def _signature(self, tokens: frozenset[str]) -> tuple[int, ...]:
        hs = sorted(_h64(t) for t in tokens) or [0]
        if self._np is not None:
            np = self._np
            h = np.array([x % self._p31 for x in hs], dtype=np.uint64)
            sig = ((self._na[:, None] * h[None, :] + self._nb[:, None]) % np.uint64(self._p31)).min(axis=1)
            return tuple(int(x) for x in sig)
        p = self._prime
        return tuple(min((a * x + b) % p for x in hs) for a, b in zip(self._a, self._b))

    def add_if_new(self, tokens: Iterable[str]) -> bool:
        """Add the token set unless a near-duplicate is already indexed; True when added."""
        tset = frozenset(tokens)
        sig = self._signature(tset)
        keys = [tuple(sig[i * self.rows:(i + 1) * self.rows]) for i in range(self.bands)]
        seen: set[int] = set()
        for band, key in enumerate(keys):
            for idx in self._buckets[band].get(key, ()):
                if idx in seen:
                    continue
                seen.add(idx)
                if jaccard(tset, self._sets[idx]) >= self.threshold:
                    return False
        idx = len(self._sets)
        self._sets.append(tset)
        for band, key in enumerate(keys):
            self._buckets[band].setdefault(key, []).append(idx)
        return True


def function_code(fn: FunctionInfo, file_lines: list[str]) -> str:
    """The function's text, dedented: the indentation before its first line is restored from the
    file so that methods come out at column 0 with their bodies consistently indented."""
    text = fn.text
    start = fn.span.start
    if 0 <= start.line < len(file_lines):
        prefix = file_lines[start.line][: start.character]
        if prefix.strip() == "" and prefix:
            text = prefix + text
    text = textwrap.dedent(text.expandtabs(4) if "\t" in text[:200] and fn.language == "python" else text)
    return text.strip("\n")


def _error_ranges(tree) -> list[tuple[int, int]]:
    if not tree.has_errors:
        return []
    out = []
    for node in tree.walk():
        if node.is_error or node.is_missing:
            out.append((node.start.line, node.end.line))
    return out


def file_functions(language: str, text: str) -> Iterator[tuple[FunctionInfo, str]]:
    """(function, dedented code) for each function of a file that does not overlap a parse error."""
    tree = parse(language, text)
    errors = _error_ranges(tree)
    lines = text.split("\n")
    for fn in functions_in_tree(tree):
        s, e = fn.span.start.line, fn.span.end.line
        if any(not (ee < s or es > e) for es, ee in errors):
            continue
        yield fn, function_code(fn, lines)


def keep_function(code: str, min_lines: int = MIN_LINES, max_lines: int = MAX_LINES, max_chars: int = MAX_CHARS) -> bool:
    n = code.count("\n") + 1
    return min_lines <= n <= max_lines and len(code) <= max_chars


@dataclass
class ExtractStats:
    files: int = 0
    functions_seen: int = 0
    kept: int = 0
    too_small_or_big: int = 0
    exact_dups: int = 0
    near_dups: int = 0
    denied: int = 0


def _read(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:4096]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def extract_functions(
    projects: Iterable[Project],
    *,
    min_lines: int = MIN_LINES,
    max_lines: int = MAX_LINES,
    max_chars: int = MAX_CHARS,
    near_dup_threshold: float | None = NEAR_DUP_THRESHOLD,
    languages: Iterable[str] = LANGUAGES,
    per_project_counts: dict[str, int] | None = None,
    stats: ExtractStats | None = None,
) -> list[CorpusFunction]:
    """Index, filter and deduplicate the functions of `projects` (see module docstring)."""
    languages = set(languages)
    stats = stats if stats is not None else ExtractStats()
    seen_exact: set[str] = set()
    near = NearDuplicateIndex(near_dup_threshold) if near_dup_threshold is not None else None
    out: list[CorpusFunction] = []
    for project in sorted(projects, key=lambda p: (p.name.lower(), p.kind, p.version)):
        if is_denied(project.name):
            log.warning("deny-listed project dropped at extraction: %s", project.name)
            stats.denied += 1
            continue
        split = split_for_project(project.name)
        n_before = len(out)
        # headers of a C++ project are C++ (language_for_path maps `.h` to C)
        has_cpp = any(language_for_path(rel) == "cpp" for rel in project.files)
        for rel in sorted(project.files):
            if is_denied(project.name, rel):
                stats.denied += 1
                continue
            language = language_for_path(rel)
            if language == "c" and has_cpp and rel.lower().endswith(".h"):
                language = "cpp"
            if language not in languages:
                continue
            text = _read(project.root / rel)
            if text is None:
                continue
            stats.files += 1
            try:
                found = list(file_functions(language, text))
            except Exception as exc:  # noqa: BLE001 - one odd file never stops extraction
                log.warning("indexing failed for %s/%s: %s", project.name, rel, exc)
                continue
            for fn, code in found:
                stats.functions_seen += 1
                if not keep_function(code, min_lines, max_lines, max_chars):
                    stats.too_small_or_big += 1
                    continue
                norm = normalize_whitespace(code)
                key = hashlib.blake2b(f"{language}\0{norm}".encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
                if key in seen_exact:
                    stats.exact_dups += 1
                    continue
                seen_exact.add(key)
                if near is not None and not near.add_if_new(code_tokens(code)):
                    stats.near_dups += 1
                    continue
                out.append(CorpusFunction(
                    id=stable_id(project.name, rel, fn.qualified_name, key),
                    project=project.name,
                    language=language,
                    path=rel,
                    qualified_name=fn.qualified_name,
                    code=code,
                    is_test=bool(fn.is_test),
                    split=split,
                ))
        if per_project_counts is not None:
            per_project_counts[project.source_key or project.name] = (
                per_project_counts.get(project.source_key or project.name, 0) + len(out) - n_before)
        log.info("extracted %s: %d functions (total %d)", project.name, len(out) - n_before, len(out))
    stats.kept = len(out)
    return out
