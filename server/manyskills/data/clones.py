"""Clone-detection pairs: semantics-preserving rewrites of real functions (positives) and other real
functions of the same language (negatives).

`make_clone_pairs(functions, seed)` gives, per function that admits a rewrite, one positive pair
(the function and a rewrite of it combining 1-3 of `manyskills.data.rewrites.REWRITES`) and one
negative pair (the function and another function of the same language and split; half of the
negatives come from the same project with a similar length, the hard case). Pairs never cross
splits.
"""

from __future__ import annotations

import bisect
import random
import re
from collections import Counter, defaultdict

from manyskills.data.records import ClonePair, CorpusFunction, stable_id
from manyskills.data.rewrites import rewrite_function

__all__ = ["make_clone_pairs", "similar_length"]

def similar_length(a: str, b: str, tolerance: float = 0.35) -> bool:
    la, lb = a.count("\n") + 1, b.count("\n") + 1
    return abs(la - lb) <= max(2, tolerance * max(la, lb))


_TOKEN = re.compile(r"\w+|[^\w\s]")


def _too_similar(a: str, b: str, threshold: float = 0.85) -> bool:
    """Near-duplicates (copy-pasted overloads, generated twins) make bad negatives: token multiset
    overlap (Dice) above `threshold`."""
    if a.strip() == b.strip():
        return True
    tokens_a, tokens_b = Counter(_TOKEN.findall(a)), Counter(_TOKEN.findall(b))
    total = sum(tokens_a.values()) + sum(tokens_b.values())
    return total > 0 and 2 * sum((tokens_a & tokens_b).values()) / total > threshold


def _pick_negative(function: CorpusFunction, pool: list[CorpusFunction], by_project: dict[str, list[int]],
                   lengths: list[int], rng: random.Random, same_project: bool) -> CorpusFunction | None:
    if same_project:
        candidates = [i for i in by_project.get(function.project, ()) if pool[i].id != function.id]
        close = [i for i in candidates if similar_length(function.code, pool[i].code)]
        candidates = close or candidates
    else:
        # similar length from anywhere in the language/split: a window of the length-sorted pool
        target = function.code.count("\n") + 1
        at = bisect.bisect_left(lengths, target)
        window = range(max(0, at - 40), min(len(pool), at + 40))
        candidates = [i for i in window if pool[i].id != function.id and pool[i].project != function.project]
        candidates = candidates or [i for i in window if pool[i].id != function.id]
    rng.shuffle(candidates)
    for index in candidates[:8]:
        other = pool[index]
        if not _too_similar(function.code, other.code):
            return other
    return None


def make_clone_pairs(functions: list[CorpusFunction], seed: int) -> list[ClonePair]:
    """Per function: one positive (function vs a 1-3-step rewrite of it, sides in random order) and
    one negative (vs another function of the same language and split; half from the same project
    and of similar length). Functions that admit no rewrite are skipped."""
    groups: dict[tuple[str, str], list[CorpusFunction]] = defaultdict(list)
    for function in functions:
        groups[(function.language, function.split)].append(function)
    pools = {}
    for key, members in groups.items():
        pool = sorted(members, key=lambda fn: (fn.code.count("\n"), fn.id))
        by_project: dict[str, list[int]] = defaultdict(list)
        for i, fn in enumerate(pool):
            by_project[fn.project].append(i)
        pools[key] = (pool, by_project, [fn.code.count("\n") + 1 for fn in pool])

    pairs: list[ClonePair] = []
    for function in functions:
        rng = random.Random(f"{seed}:clone:{function.id}")
        rewritten = rewrite_function(function.language, function.code, rng)
        if rewritten is None:
            continue
        code_b, applied = rewritten
        code_a = function.code
        if rng.random() < 0.5:
            code_a, code_b = code_b, code_a
        common = {"project": function.project, "language": function.language, "split": function.split}
        pairs.append(ClonePair(id=stable_id("clone", function.id, seed, "positive"), code_a=code_a, code_b=code_b,
                               label=1, rewrite="+".join(applied), **common))
        pool, by_project, lengths = pools[(function.language, function.split)]
        other = _pick_negative(function, pool, by_project, lengths, rng, same_project=rng.random() < 0.5)
        if other is None:
            other = _pick_negative(function, pool, by_project, lengths, rng, same_project=False)
        if other is None:
            continue
        code_a, code_b = function.code, other.code
        if rng.random() < 0.5:
            code_a, code_b = code_b, code_a
        pairs.append(ClonePair(id=stable_id("clone", function.id, seed, "negative"), code_a=code_a, code_b=code_b,
                               label=0, rewrite="negative", **common))
    return pairs
