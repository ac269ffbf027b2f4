"""Exact and near-duplicate removal of mined (buggy, fixed) pairs, within a run and across the
per-repository files of many runs (`manyskills data history-merge`).

About two thirds of mined fixes are duplicates (TSSB-3M): the same fix cherry-picked onto a
maintenance branch, a vendored or forked copy fixed in both places, a file copied between projects.
* exact: the same buggy and fixed text once whitespace is collapsed;
* near: the same token-level edit (the inserted, deleted and replaced tokens in order, comments
  left out) in buggy functions whose token sequences are at least `NEAR_SIMILARITY` alike
  (difflib's ratio; a different function with the same one-token edit, `<` → `<=` say, is a
  different bug and is kept).
The first pair seen wins, so a merge keeps the order of its inputs.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections import Counter
from pathlib import Path

from manyskills.data.extract import normalize_whitespace
from manyskills.data.fixtags import tokens
from manyskills.data.records import write_jsonl

__all__ = ["NEAR_SIMILARITY", "FixDeduplicator", "code_tokens", "edit_signature", "merge_files"]

NEAR_SIMILARITY = 0.8


def code_tokens(code: str) -> list[str]:
    """Tokens without line comments (a `#` or `//` inside a string is part of the string's token)."""
    out: list[str] = []
    for line in code.split("\n"):
        for tok in tokens(line):
            if tok in ("#", "//"):
                break
            out.append(tok)
    return out


def edit_signature(language: str, before: str, after: str) -> str:
    """The token-level edit from `before` to `after`, positions left out."""
    a, b = code_tokens(before), code_tokens(after)
    ops = [(tag, a[i1:i2], b[j1:j2]) for tag, i1, i2, j1, j2 in
           difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes() if tag != "equal"]
    return hashlib.blake2b(json.dumps([language, ops]).encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


class FixDeduplicator:
    """Remembers the pairs it has accepted; `add` says whether a new pair is new."""

    def __init__(self, threshold: float = NEAR_SIMILARITY):
        self.threshold = threshold
        self._exact: set[bytes] = set()
        self._near: dict[str, list[list[str]]] = {}
        self.exact_duplicates = 0
        self.near_duplicates = 0

    def add(self, language: str, before: str, after: str) -> bool:
        exact = hashlib.blake2b((normalize_whitespace(before) + "\0" + normalize_whitespace(after))
                                .encode("utf-8", "surrogatepass"), digest_size=16).digest()
        if exact in self._exact:
            self.exact_duplicates += 1
            return False
        signature = edit_signature(language, before, after)
        toks = code_tokens(before)
        similar = self._near.setdefault(signature, [])
        for other in similar:
            matcher = difflib.SequenceMatcher(a=other, b=toks, autojunk=False)
            if matcher.real_quick_ratio() >= self.threshold and matcher.quick_ratio() >= self.threshold \
                    and matcher.ratio() >= self.threshold:
                self.near_duplicates += 1
                return False
        self._exact.add(exact)
        similar.append(toks)
        return True


def _pairs(path: str | Path):
    """(pair_id, rows) in file order."""
    groups: dict[str, list[dict]] = {}
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                groups.setdefault(row.get("pair_id") or row["id"], []).append(row)
    return groups.items()


def merge_files(inputs: list[str | Path], out: str | Path, dedup: FixDeduplicator | None = None) -> dict:
    """Concatenate mined files into `out` without duplicates; returns counts."""
    dedup = dedup or FixDeduplicator()
    kept: list[dict] = []
    pairs_in = incomplete = 0
    tags: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    for path in inputs:
        for _, rows in _pairs(path):
            pairs_in += 1
            buggy = [r for r in rows if r.get("label") == 1]
            fixed = [r for r in rows if r.get("label") == 0]
            if len(buggy) != 1 or len(fixed) != 1:
                incomplete += 1
                continue
            if dedup.add(buggy[0]["language"], buggy[0]["code"], fixed[0]["code"]):
                kept.extend(rows)
                tags[buggy[0].get("tag", "")] += 1
                languages[buggy[0]["language"]] += 1
    write_jsonl(out, kept)
    return {"inputs": len(inputs), "pairs_in": pairs_in, "pairs_out": len(kept) // 2, "incomplete": incomplete,
            "exact_duplicates": dedup.exact_duplicates, "near_duplicates": dedup.near_duplicates,
            "tags": dict(tags.most_common()), "languages": dict(languages.most_common())}
