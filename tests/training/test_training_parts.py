"""The trainer's model-free parts: options, skill mix and batches, learning-rate schedule, losses."""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass

import pytest
import torch
import torch.nn.functional as F
from manyskills.training import losses, sampling, schedule
from manyskills.training.config import TrainConfig


# ---------------------------------------------------------------------------------------------- config
def test_config_reads_a_recipe_with_overrides_and_rejects_unknown_keys(tmp_path):
    recipe = tmp_path / "recipe.json"
    recipe.write_text(json.dumps({"steps": 7, "lora_layers": [1, 2], "seed": 3}))
    config = TrainConfig.from_file(str(recipe), seed=None, out="elsewhere")
    assert (config.steps, config.lora_layers, config.seed, config.out) == (7, [1, 2], 3, "elsewhere")
    assert TrainConfig.from_file(None).steps == TrainConfig().steps
    recipe.write_text(json.dumps({"stepz": 7}))
    with pytest.raises(ValueError, match="stepz"):
        TrainConfig.from_file(str(recipe))


# ---------------------------------------------------------------------------------------------- sampling
@dataclass
class Example:
    pair_id: str
    label: int
    code: str
    operator: str = "swap"


def _pool(n_synthetic: int, real_shorter: int = 0, real_other: int = 0) -> list[Example]:
    from manyskills.data.history import RELEASE_FIX

    pool = []
    for i in range(n_synthetic):
        pool += [Example(f"s{i}", 1, "x" * 10), Example(f"s{i}", 0, "x" * 10)]
    for i in range(real_shorter):
        pool += [Example(f"r{i}", 1, "x" * 5, RELEASE_FIX), Example(f"r{i}", 0, "x" * 9, RELEASE_FIX)]
    for i in range(real_other):
        pool += [Example(f"o{i}", 1, "x" * 9, RELEASE_FIX), Example(f"o{i}", 0, "x" * 5, RELEASE_FIX)]
    return pool


def test_skill_weights_follow_the_temperature_and_give_review_its_share():
    pools = {"defect": [0] * 400, "search": [0] * 100, "review": [0] * 5, "flaky": []}
    weights = sampling.skill_weights(pools, temperature=2.0, review_share=0.1)
    assert set(weights) == {"defect", "search", "review"}  # an empty pool is never drawn
    assert weights["review"] == 0.1 and sum(weights.values()) == pytest.approx(1.0)
    assert weights["defect"] / weights["search"] == pytest.approx(2.0)  # sqrt(400 / 100)
    no_review = sampling.skill_weights({"defect": [0] * 9, "search": [0] * 9, "review": []}, 2.0, 0.1)
    assert no_review == {"defect": 0.5, "search": 0.5}


def test_defect_batches_hold_whole_pairs():
    config = TrainConfig(batch_size=8)
    batch = sampling.sample("defect", _pool(20), config, random.Random(0))
    assert len(batch) == 8
    by_pair: dict[str, set[int]] = {}
    for item in batch:
        by_pair.setdefault(item.pair_id, set()).add(item.label)
    assert len(by_pair) == 4 and all(labels == {0, 1} for labels in by_pair.values())


def test_real_fix_share_and_length_balance():
    pairs = sampling.DefectPairs.of(_pool(50, real_shorter=30, real_other=30))
    assert (len(pairs.synthetic), len(pairs.real_fix_shorter), len(pairs.real_fix_other)) == (50, 30, 30)
    rng = random.Random(1)
    shorter = other = synthetic = 0
    for _ in range(200):
        batch = sampling.sample_defect(pairs, 8, 0.5, rng)
        ids = {item.pair_id for item in batch}
        shorter += sum(i.startswith("r") for i in ids)
        other += sum(i.startswith("o") for i in ids)
        synthetic += sum(i.startswith("s") for i in ids)
    assert shorter + other == synthetic == 800  # half of every batch's 8 pairs are real fixes
    assert abs(shorter - other) < 120  # and those are split evenly by which side is shorter
    none = sampling.sample_defect(pairs, 8, None, random.Random(0))
    assert all(item.pair_id.startswith("s") for item in none)


def test_only_real_fixes_fill_the_batch_when_there_is_nothing_synthetic():
    pairs = sampling.DefectPairs.of(_pool(0, real_shorter=10, real_other=10))
    assert len(sampling.sample_defect(pairs, 4, 0.25, random.Random(0))) == 8


def test_other_skills_batch_sizes():
    config = TrainConfig(batch_size=8, review_batch_size=3)
    pool = list(range(100))
    assert len(sampling.sample("search", pool, config, random.Random(0))) == 8
    assert len(sampling.sample("clone", pool, config, random.Random(0))) == 4  # two codes each
    assert len(sampling.sample("review", pool, config, random.Random(0))) == 3
    assert len(sampling.sample("flaky", pool[:5], config, random.Random(0))) == 5  # never more than the pool


def test_sampling_is_reproducible_from_the_seed():
    config = TrainConfig(batch_size=8, real_fix_share=0.5)
    pool = _pool(20, 5, 5)
    first = sampling.sample("defect", pool, config, random.Random(7))
    assert first == sampling.sample("defect", pool, config, random.Random(7))


# ---------------------------------------------------------------------------------------------- schedule
def test_warmup_then_cosine_to_the_floor():
    assert schedule.lr_scale(0, 10, 100, 0.0) == pytest.approx(0.1)
    assert schedule.lr_scale(9, 10, 100, 0.09) == pytest.approx(1.0)
    assert schedule.lr_scale(10, 10, 100, 0.1) == pytest.approx(1.0)
    assert schedule.lr_scale(55, 10, 100, 0.55) == pytest.approx(0.55)  # half-way down the cosine
    assert schedule.lr_scale(100, 10, 100, 1.0) == pytest.approx(schedule.FLOOR)


def test_progress_is_steps_or_time_whichever_runs_out_first():
    assert schedule.progress_fraction(50, 100, elapsed=10, time_budget=None) == 0.5
    assert schedule.progress_fraction(50, 100, elapsed=90, time_budget=100) == 0.9
    assert schedule.progress_fraction(50, 100, elapsed=500, time_budget=100) == 1.0


def test_time_budget_is_cut_by_the_deadline():
    assert schedule.time_budget(None, None, now=0) is None
    assert schedule.time_budget(600, None, now=0) == 600
    assert schedule.time_budget(600, 1_000.0, now=900.0) == 100
    assert schedule.time_budget(None, 1_000.0, now=999.9) == 1.0  # never under a second


# ---------------------------------------------------------------------------------------------- losses
@dataclass
class Item:
    pair_id: str
    label: int
    bug_line: int


def test_defect_targets_and_pairs():
    items = [Item("a", 1, 2), Item("b", 0, -1), Item("a", 0, -1), Item("c", 1, 0)]
    assert losses.defect_targets(items, n_lines=5) == [2, 5, 5, 0]
    assert losses.buggy_clean_rows(items) == [(0, 2)]  # b and c have one side only


def test_defect_loss_is_cross_entropy_plus_the_ranking_margin():
    line_logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 0.5]])
    slot = torch.tensor([0.0, 1.0])
    targets = [0, 3]
    plain = F.cross_entropy(torch.cat([line_logits, slot[:, None]], 1), torch.tensor(targets))
    assert losses.defect_loss(line_logits, slot, targets, []) == pytest.approx(float(plain))
    score = torch.logsumexp(line_logits, -1) - slot
    ranked = plain + 0.5 * F.softplus(score[1] - score[0] + 1.0)
    assert losses.defect_loss(line_logits, slot, targets, [(0, 1)]) == pytest.approx(float(ranked))
    # the buggy side already far above the clean one: the ranking term is nearly zero
    far_apart = torch.tensor([[20.0, 0, 0], [0, 0, 0]])
    far = losses.defect_loss(far_apart, torch.tensor([0.0, 20.0]), [0, 3], [(0, 1)])
    assert float(far) < 1e-3


def test_contrastive_rewards_matching_rows():
    aligned = torch.eye(4)
    assert float(losses.contrastive(aligned, aligned)) < 1e-6
    assert float(losses.contrastive(aligned, aligned[[1, 0, 3, 2]])) > 10
    uniform = torch.ones(3, 2) / math.sqrt(2)
    assert float(losses.contrastive(uniform, uniform)) == pytest.approx(math.log(3))


def test_flaky_and_review_losses():
    assert float(losses.flaky_loss(torch.tensor([0.0, 0.0]), [1, 0])) == pytest.approx(math.log(2))
    logits = torch.zeros(1, 4, 5)
    logits[0, 1, 3] = 50.0  # predicts token 3 at position 2
    labels = torch.tensor([[-100, -100, 3, -100]])
    assert float(losses.review_loss(logits, labels)) < 1e-6
    labels = torch.tensor([[-100, -100, 2, -100]])
    assert float(losses.review_loss(logits, labels)) == pytest.approx(50.0, abs=1e-3)
