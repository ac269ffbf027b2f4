"""Training sequences per skill, built from the dataset JSONL files (split by project upstream).

Every code sequence goes through `encode_function`, the exact tokenisation the server uses.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

SKILL_FILES = {"defect": "defects.jsonl", "search": "search.jsonl", "clone": "clones.jsonl", "flaky": "flaky.jsonl"}


@dataclass
class DefectItem:
    language: str
    code: str
    label: int
    bug_line: int  # -1 when clean
    pair_id: str
    note: str = ""
    fix_line: int | None = None
    fix_replacement: str | None = None
    operator: str = "clean"
    project: str = ""


@dataclass
class SearchItem:
    language: str
    query: str
    code: str
    project: str = ""


@dataclass
class CloneItem:
    language: str
    code_a: str
    code_b: str
    label: int
    project: str = ""


@dataclass
class FlakyItem:
    language: str
    code: str
    label: int
    project: str = ""


@dataclass
class SkillData:
    defect: list[DefectItem] = field(default_factory=list)
    search: list[SearchItem] = field(default_factory=list)
    clone: list[CloneItem] = field(default_factory=list)
    flaky: list[FlakyItem] = field(default_factory=list)

    def sizes(self) -> dict[str, int]:
        return {k: len(getattr(self, k)) for k in SKILL_FILES}


def split_rows(path: Path, split: str) -> Iterator[dict]:
    """The rows of one split in a dataset JSONL file (none when the file is absent)."""
    if not path.is_file():
        return
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row.get("split") == split:
                yield row


def _cap(rows: list, limit: int | None, rng: random.Random, key=None) -> list:
    if limit is None or len(rows) <= limit:
        return rows
    if key is None:
        return rng.sample(rows, limit)
    groups: dict[str, list] = {}
    for r in rows:
        groups.setdefault(key(r), []).append(r)
    chosen_keys = rng.sample(sorted(groups), min(len(groups), max(1, limit // 2)))
    return [r for k in chosen_keys for r in groups[k]][:limit]


HISTORY_FILE = "history.jsonl"  # real fixes from patch releases (manyskills.data.history)
# real fixes from repositories' own fix commits (`manyskills data history` per repository, joined by
# `manyskills data history-merge --out <dataset>/commits.jsonl`; data/gitmine.py)
COMMIT_FIXES_FILE = "commits.jsonl"
REAL_FIX_FILES = (HISTORY_FILE, COMMIT_FIXES_FILE)


def load_split(dataset: Path, split: str, limits: dict[str, int] | None = None, seed: int = 0,
               max_lines: int = 60, history: bool = False) -> SkillData:
    """Examples of one split. Defect examples are kept in (buggy, clean) pairs so a batch can hold both.
    With `history`, the real fixes (patch releases and fix commits, REAL_FIX_FILES) are added after the
    capped defect rows, capped on their own by `limits["history"]` (they are few and must not crowd out,
    or be crowded out by, mutations)."""
    limits = limits or {}
    rng = random.Random(seed)
    data = SkillData()
    defect_rows = [r for r in split_rows(dataset / SKILL_FILES["defect"], split)
                   if r["code"].count("\n") < max_lines]
    defect_rows += [r for r in split_rows(dataset / "changes.jsonl", split) if r["code"].count("\n") < max_lines]
    defect_rows = _cap(defect_rows, limits.get("defect"), rng, key=lambda r: r.get("pair_id") or r["id"])
    if history:
        fixes = [r for name in REAL_FIX_FILES for r in split_rows(dataset / name, split)
                 if r["code"].count("\n") < max_lines]
        defect_rows += _cap(fixes, limits.get("history"), rng, key=lambda r: r.get("pair_id") or r["id"])
    for r in defect_rows:
        bug = r["bug_lines"][0] if r.get("label") and r.get("bug_lines") else -1
        data.defect.append(DefectItem(r["language"], r["code"], int(r["label"]), bug, r.get("pair_id") or r["id"],
                                      r.get("note", ""), r.get("fix_line"), r.get("fix_replacement"),
                                      r.get("operator", "clean"), r.get("project", "")))
    for r in _cap(list(split_rows(dataset / SKILL_FILES["search"], split)), limits.get("search"), rng):
        data.search.append(SearchItem(r["language"], r["query"], r["code"], r.get("project", "")))
    for r in _cap(list(split_rows(dataset / SKILL_FILES["clone"], split)), limits.get("clone"), rng):
        data.clone.append(CloneItem(r["language"], r["code_a"], r["code_b"], int(r["label"]), r.get("project", "")))
    flaky = list(split_rows(dataset / SKILL_FILES["flaky"], split))
    positives = [r for r in flaky if r["label"]]
    negatives = [r for r in flaky if not r["label"]]
    limit = limits.get("flaky")
    if limit is not None:  # weak labels are rare: keep classes balanced
        positives = _cap(positives, limit // 2, rng)
        negatives = _cap(negatives, limit - len(positives), rng)
    for r in positives + negatives:
        data.flaky.append(FlakyItem(r["language"], r["code"], int(r["label"]), r.get("project", "")))
    return data
