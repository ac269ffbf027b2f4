"""The batching plan: how a set of functions is cut into forward passes, wherever the model runs
(the in-process engine, a model-service replica, a Ray scan worker).

Functions are sorted by token length (stable, so equal lengths keep their input order); a pass
takes the next functions in that order while it has fewer than `max_batch` rows and its padded size
(rows x the last, longest member's length) stays within `token_budget`. A pass always takes at least
one function, however long. One rule everywhere means a set of functions shares forward passes the
same way wherever it runs, so results match the in-process engine bit for bit (bf16 included).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from manyskills.model.types import AnalysisBackend, FunctionAnalysis, FunctionInput

MAX_BATCH = 16  # functions per forward pass
TOKEN_BUDGET = 4096  # padded tokens (rows x width) per forward pass


def length_order(lengths: Sequence[int]) -> list[int]:
    """Indices of `lengths`, shortest first (ties keep their input order)."""
    return sorted(range(len(lengths)), key=lambda i: lengths[i])


def pass_end(lengths: Sequence[int], order: Sequence[int], start: int, max_batch: int = MAX_BATCH,
             token_budget: int = TOKEN_BUDGET) -> int:
    """Where the pass that begins at `order[start]` ends (exclusive). The engine asks pass by pass
    because an out-of-memory error shrinks `max_batch` and `token_budget` in the middle of a plan."""
    end = start + 1
    # Sorted by length, so the member being added sets the padded width of the pass.
    while end < len(order) and end - start < max_batch and (end - start + 1) * lengths[order[end]] <= token_budget:
        end += 1
    return end


def batch_plan(lengths: Sequence[int], max_batch: int = MAX_BATCH, token_budget: int = TOKEN_BUDGET
               ) -> list[list[int]]:
    """The whole plan at a fixed size: each pass as a list of indices into `lengths`."""
    order = length_order(lengths)
    passes: list[list[int]] = []
    start = 0
    while start < len(order):
        end = pass_end(lengths, order, start, max_batch, token_budget)
        passes.append(order[start:end])
        start = end
    return passes


def analyse_planned(backend: AnalysisBackend, items: Sequence[FunctionInput], max_batch: int = MAX_BATCH,
                    token_budget: int = TOKEN_BUDGET, before_pass: Callable[[int], None] | None = None
                    ) -> list[FunctionAnalysis]:
    """Every item's analysis, in input order, computed pass by pass as `batch_plan` cuts them."""
    lengths = [backend.count_tokens(item) for item in items]
    results: list[FunctionAnalysis | None] = [None] * len(items)
    for group in batch_plan(lengths, max_batch, token_budget):
        if before_pass is not None:
            before_pass(len(group))
        for i, result in zip(group, backend.analyse([items[i] for i in group])):
            results[i] = result
    return results  # type: ignore[return-value]
