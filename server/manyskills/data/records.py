"""Training records shared by the data pipeline (harvest, mutations, clones, readers, training).

Plain dataclasses with JSON round-tripping. One record per JSONL line."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "RECORD_TYPES",
    "ClonePair",
    "CorpusFunction",
    "DefectExample",
    "FlakyExample",
    "SearchExample",
    "iter_jsonl",
    "read_jsonl",
    "stable_id",
    "write_jsonl",
]

SPLITS = ("train", "valid", "test")


class _Record:
    """Mixin: `to_dict()` / `from_dict()` (unknown keys ignored, missing optional keys defaulted)."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class CorpusFunction(_Record):
    id: str
    project: str
    language: str
    path: str  # path of the file inside the project
    qualified_name: str
    code: str
    is_test: bool = False
    split: str = "train"


@dataclass
class DefectExample(_Record):
    id: str
    project: str
    language: str
    split: str
    code: str
    label: int  # 1 buggy, 0 clean
    bug_lines: list[int] = field(default_factory=list)  # 0-based lines within `code`; empty if clean
    fix_line: int | None = None  # line of `code` that the fix replaces
    fix_replacement: str | None = None  # replaces line `fix_line` ("\n" inserts lines, "" deletes)
    operator: str = "clean"  # mutation operator, "clean" for negatives, "real-change" for mined fixes
    note: str = ""  # review note explaining the problem
    pair_id: str = ""  # shared by a buggy example and its clean / fixed counterpart
    source: str = "mutation"  # "mutation" | "real-change" | "reader:<fmt>"


@dataclass
class SearchExample(_Record):
    id: str
    project: str
    language: str
    split: str
    query: str
    code: str
    code_normalized: str = ""


@dataclass
class ClonePair(_Record):
    id: str
    project: str
    language: str
    split: str
    code_a: str
    code_b: str
    label: int  # 1 clone, 0 not a clone
    rewrite: str = ""  # rewrite that produced code_b (or "" / "negative" / "reader:<fmt>")


@dataclass
class FlakyExample(_Record):
    id: str
    project: str
    language: str
    split: str
    code: str
    label: int  # 1 flaky (weak label), 0 not known flaky
    cause: str = ""  # "time", "random", "network", "concurrency", "order", "unordered", "" if clean


RECORD_TYPES: dict[str, type] = {
    "functions": CorpusFunction,
    "defects": DefectExample,
    "search": SearchExample,
    "clones": ClonePair,
    "flaky": FlakyExample,
}

T = TypeVar("T")


def stable_id(*parts: object) -> str:
    """A short deterministic id from its parts."""
    import hashlib

    text = "\0".join(str(p) for p in parts)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=10).hexdigest()


def write_jsonl(path: str | os.PathLike[str], records: Iterable[Any]) -> int:
    """Write records (dataclasses with `to_dict`, or dicts) one per line; returns the count.
    Written to a temporary file and renamed, so readers never see a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    with tmp.open("w", encoding="utf-8") as fh:
        for rec in records:
            data = rec.to_dict() if hasattr(rec, "to_dict") else dataclasses.asdict(rec) if dataclasses.is_dataclass(rec) else rec
            fh.write(json.dumps(data, ensure_ascii=False))
            fh.write("\n")
            n += 1
    os.replace(tmp, path)
    return n


def iter_jsonl(path: str | os.PathLike[str], cls: type[T]) -> Iterator[T]:
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line:
                yield cls.from_dict(json.loads(line))  # type: ignore[attr-defined]


def read_jsonl(path: str | os.PathLike[str], cls: type[T]) -> list[T]:
    return list(iter_jsonl(path, cls))
