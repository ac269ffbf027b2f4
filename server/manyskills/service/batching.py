"""How a replica or scan worker groups functions into forward passes: sorted by token length, at
most `max_batch` per pass, padded width x rows under `token_budget`. The same rule as
`ModelEngine._analyse_batches`, so a set of functions shares forward passes the same way wherever it
runs (results then match the in-process engine bit for bit, bf16 included)."""

from __future__ import annotations

from collections.abc import Sequence

from manyskills.model.types import AnalysisBackend, FunctionAnalysis, FunctionInput

MAX_BATCH = 16  # ModelEngine.max_batch
TOKEN_BUDGET = 4096  # ModelEngine.token_budget


def batch_plan(lengths: Sequence[int], max_batch: int = MAX_BATCH, token_budget: int = TOKEN_BUDGET) -> list[list[int]]:
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    groups: list[list[int]] = []
    for i in order:
        group = groups[-1] if groups else None
        if group is not None and len(group) < max_batch and (len(group) + 1) * lengths[i] <= token_budget:
            group.append(i)
        else:
            groups.append([i])
    return groups


def analyse_planned(backend: AnalysisBackend, items: Sequence[FunctionInput], max_batch: int = MAX_BATCH,
                    token_budget: int = TOKEN_BUDGET, before_pass=None) -> list[FunctionAnalysis]:
    lengths = [backend.count_tokens(item) for item in items]
    results: list[FunctionAnalysis | None] = [None] * len(items)
    for group in batch_plan(lengths, max_batch, token_budget):
        if before_pass is not None:
            before_pass(len(group))
        for i, result in zip(group, backend.analyse([items[i] for i in group])):
            results[i] = result
    return results  # type: ignore[return-value]
