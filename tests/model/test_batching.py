"""The batching plan (model/batching.py) that the engine, model-service replicas and Ray scan workers share."""

import random

import pytest
from manyskills.model.batching import (
    MAX_BATCH,
    TOKEN_BUDGET,
    analyse_planned,
    batch_plan,
    length_order,
    pass_end,
)


def _check(plan: list[list[int]], lengths: list[int], max_batch: int, budget: int) -> None:
    assert sorted(i for group in plan for i in group) == list(range(len(lengths)))  # every item exactly once
    flat = [i for group in plan for i in group]
    assert [lengths[i] for i in flat] == sorted(lengths)  # shortest first
    for group in plan:
        width = max(lengths[i] for i in group)
        assert len(group) == 1 or (len(group) <= max_batch and len(group) * width <= budget)


def test_passes_respect_both_limits_and_fill_greedily():
    lengths = [100] * 20 + [900, 1000, 5000]
    plan = batch_plan(lengths, max_batch=16, token_budget=4096)
    _check(plan, lengths, 16, 4096)
    # 16 rows cap the first pass; 900 cannot join the next four (5 x 900 > 4096) but 1000 joins 900
    assert [len(g) for g in plan] == [16, 4, 2, 1]
    assert plan[-1] == [22]  # longer than the whole budget: a pass of its own, never dropped


def test_equal_lengths_keep_their_input_order():
    assert length_order([3, 1, 3, 1]) == [1, 3, 0, 2]
    assert batch_plan([5, 5, 5], max_batch=2, token_budget=100) == [[0, 1], [2]]


@pytest.mark.parametrize("seed", range(5))
def test_random_plans_are_valid_and_match_pass_by_pass_planning(seed):
    rng = random.Random(seed)
    lengths = [rng.randint(1, 1500) for _ in range(rng.randint(0, 200))]
    plan = batch_plan(lengths, 8, 2048)
    _check(plan, lengths, 8, 2048)
    order, start, passes = length_order(lengths), 0, []
    while start < len(order):  # what the engine does when no OOM changes the size
        end = pass_end(lengths, order, start, 8, 2048)
        passes.append(order[start:end])
        start = end
    assert passes == plan


def test_the_defaults_are_the_engines():
    from manyskills.model.engine import ModelEngine

    engine = ModelEngine(lambda progress: None)
    assert (engine.max_batch, engine.token_budget) == (MAX_BATCH, TOKEN_BUDGET) == (16, 4096)


def test_analyse_planned_returns_results_in_input_order(tiny_model_dir):
    from manyskills.model.runtime import LocalRuntime
    from manyskills.model.types import FunctionInput

    runtime = LocalRuntime.load(str(tiny_model_dir), None, "cpu")
    items = [FunctionInput("python", f"def f{i}(x):\n" + "    x += 1\n" * (i * 5 % 17 + 1)) for i in range(30)]
    passes: list[int] = []
    planned = analyse_planned(runtime, items, 4, 512, passes.append)
    lengths = [runtime.count_tokens(item) for item in items]
    assert passes == [len(g) for g in batch_plan(lengths, 4, 512)]
    one_by_one = [runtime.analyse([item])[0] for item in items]
    for a, b in zip(planned, one_by_one):
        assert a.bug_line == b.bug_line and len(a.line_scores) == len(b.line_scores)
        assert a.defect_score == pytest.approx(b.defect_score, abs=1e-4)
