"""What each training step trains on: the skill mix and the batches.

Multi-task mixing is temperature sampling over skills (p_k ~ n_k^(1/T)); review (generation) steps
run the full upper stack and the LM head and are the expensive ones, so they get a fixed small share.
Defect batches hold whole (buggy, clean) pairs so the ranking loss sees both sides; a configurable
share of them comes from real patch-release fixes, balanced so length cannot tell buggy from clean.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from manyskills.training.config import TrainConfig


def skill_weights(pools: dict[str, list], temperature: float, review_share: float) -> dict[str, float]:
    """Probability of each skill with examples: n^(1/T), normalised, review at its fixed share."""
    sizes = {k: len(v) for k, v in pools.items() if v and k != "review"}
    raw = {k: n ** (1.0 / temperature) for k, n in sizes.items()}
    total = sum(raw.values())
    weights = {k: (1 - (review_share if pools.get("review") else 0)) * v / total for k, v in raw.items()}
    if pools.get("review"):
        weights["review"] = review_share
    return weights


def group_pairs(pool: list) -> list[list]:
    """Defect examples grouped by pair (the buggy and the clean version of one function), in pool order."""
    groups: dict[str, list] = {}
    for item in pool:
        groups.setdefault(item.pair_id, []).append(item)
    return list(groups.values())


def is_real_fix(group: list) -> bool:
    """Fixes people made (patch releases, a repository's own fix commits), as opposed to mutations."""
    from manyskills.data.gitmine import COMMIT_FIX
    from manyskills.data.history import RELEASE_FIX

    return any(item.operator in (RELEASE_FIX, COMMIT_FIX) for item in group)


def buggy_is_shorter(group: list) -> bool:
    buggy = [len(item.code) for item in group if item.label]
    clean = [len(item.code) for item in group if not item.label]
    return bool(buggy and clean) and buggy[0] < clean[0]


@dataclass
class DefectPairs:
    """A defect pool's pairs, split the way batches draw them."""

    synthetic: list[list]
    real_fix_shorter: list[list]  # real fixes whose buggy side is the shorter one
    real_fix_other: list[list]

    @classmethod
    def of(cls, pool: list) -> DefectPairs:
        groups = group_pairs(pool)
        real = [g for g in groups if is_real_fix(g)]
        return cls([g for g in groups if not is_real_fix(g)], [g for g in real if buggy_is_shorter(g)],
                   [g for g in real if not buggy_is_shorter(g)])


def sample_defect(pairs: DefectPairs, size: int, real_fix_share: float | None, rng: random.Random) -> list:
    """`size` whole pairs, flattened. Real fixes mostly add code, so "shorter = buggier" would separate
    them; drawing as many pairs whose buggy side is shorter as pairs where it is not keeps length from
    telling the classes apart in what the model sees."""
    synthetic, shorter, other = pairs.synthetic, pairs.real_fix_shorter, pairs.real_fix_other
    n_real = round(size * (real_fix_share or 0.0)) if synthetic else size
    n_shorter = sum(rng.random() < 0.5 for _ in range(n_real)) if shorter and other else n_real
    chosen = rng.sample(shorter, min(n_shorter, len(shorter)))
    chosen += rng.sample(other, min(n_real - n_shorter, len(other)))
    chosen += rng.sample(synthetic, min(size - len(chosen), len(synthetic)))
    return [item for group in chosen for item in group]


def batch_size(skill: str, config: TrainConfig) -> int:
    """Examples per batch: defect counts pairs (two examples each) and clone counts pairs of codes."""
    if skill == "defect":
        return config.batch_size // 2
    if skill == "review":
        return config.review_batch_size
    return config.batch_size // 2 if skill == "clone" else config.batch_size


def sample(skill: str, pool: list, config: TrainConfig, rng: random.Random, defect_pairs: DefectPairs | None = None
           ) -> list:
    """One batch of `skill` from its pool (`defect_pairs`: the defect pool split by `DefectPairs.of`)."""
    if skill == "defect":
        return sample_defect(defect_pairs or DefectPairs.of(pool), batch_size(skill, config), config.real_fix_share,
                             rng)
    return rng.sample(pool, min(batch_size(skill, config), len(pool)))
