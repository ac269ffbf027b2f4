"""The evaluation sets: (buggy, clean) pairs of held-out projects' synthetic defects, of real
patch-release fixes and of QuixBugs, and the clone sets' hard negatives. Every set is drawn the same
way for a given seed, so two adapters are compared on the same examples."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from manyskills.training.examples import COMMIT_FIXES_FILE, HISTORY_FILE, CloneItem, load_split, split_rows
from manyskills.training.metrics import identifiers, jaccard


@dataclass
class PairEval:
    buggy: str
    clean: str
    language: str
    bug_lines: list[int]
    tag: str = ""  # commit-mined fixes: the kind of change (data/fixtags.py), for per-kind reports


def heldout_pairs(dataset: Path, split: str, limit: int, seed: int) -> list[PairEval]:
    data = load_split(dataset, split, None, seed)
    by_pair: dict[str, dict[int, object]] = {}
    for item in data.defect:
        by_pair.setdefault(item.pair_id, {})[item.label] = item
    pairs = [PairEval(g[1].code, g[0].code, g[1].language, [g[1].bug_line]) for g in by_pair.values()
             if 0 in g and 1 in g and g[1].bug_line >= 0]
    random.Random(seed).shuffle(pairs)
    return pairs[:limit]


def release_fix_pairs(dataset: Path, split: str, limit: int, seed: int, file: str = HISTORY_FILE) -> list[PairEval]:
    """(buggy, fixed) pairs of real patch-release fixes (`history.jsonl`) of one split's projects."""
    by_pair: dict[str, dict[int, dict]] = {}
    for row in split_rows(dataset / file, split):
        by_pair.setdefault(row["pair_id"], {})[int(row["label"])] = row
    pairs = [PairEval(g[1]["code"], g[0]["code"], g[1]["language"], list(g[1]["bug_lines"]), g[1].get("tag", ""))
             for _, g in sorted(by_pair.items()) if 0 in g and 1 in g and g[1]["bug_lines"]]
    random.Random(seed).shuffle(pairs)
    return pairs[:limit]


def commit_fix_pairs(dataset: Path, split: str, limit: int, seed: int) -> list[PairEval]:
    """(buggy, fixed) pairs of fixes mined from the fix commits of one split's repositories (`commits.jsonl`)."""
    return release_fix_pairs(dataset, split, limit, seed, COMMIT_FIXES_FILE)


def quixbugs_pairs(path: Path) -> list[PairEval]:
    pairs = []
    for line in path.read_text().splitlines():
        row = json.loads(line)
        pairs.append(PairEval(row["buggy"], row["fixed"], row.get("language", "python").lower(),
                              [n - 1 for n in row["bug_lines"]]))
    return pairs


def hard_negative_pairs(pairs: list) -> list:
    """For each clone pair (a, b), a non-clone (a, c): c is the clone-side code of another function of the
    same language that shares the most tokens with a. Random negatives are separated by token overlap
    alone (Jaccard F1 0.998 on our test split); these are not."""
    positives = [p for p in pairs if p.label == 1]
    tokens = [(identifiers(p.code_a), identifiers(p.code_b)) for p in positives]
    out = []
    for i, p in enumerate(positives):
        best, best_sim = None, -1.0
        for j, q in enumerate(positives):
            if j == i or q.language != p.language or q.code_b == p.code_b:
                continue
            sim = jaccard(tokens[i][0], tokens[j][1])
            if sim > best_sim:
                best, best_sim = q, sim
        if best is not None:
            out.append(CloneItem(p.language, p.code_a, best.code_b, 0, p.project))
    return out
