"""The learning-rate schedule and the training clock's budget: linear warm-up, then a cosine down to
a tenth of the base rate over what is left, measured in steps or in time, whichever runs out first
(a time budget or a deadline ends training, and the schedule still finishes)."""

from __future__ import annotations

import math

FLOOR = 0.1  # the cosine ends at this fraction of the base learning rate


def progress_fraction(step: int, total_steps: int, elapsed: float, time_budget: float | None) -> float:
    """How far through the run: steps done, or time spent when a time budget ends it sooner."""
    by_steps = step / max(1, total_steps)
    by_time = elapsed / time_budget if time_budget else 0.0
    return min(1.0, max(by_steps, by_time))


def lr_scale(step: int, warmup: int, total_steps: int, progress: float) -> float:
    """The factor on the base learning rates at `step`, `progress` being `progress_fraction`'s."""
    if step < warmup:
        return (step + 1) / warmup
    # Cosine over what is left after warm-up, measured in steps or in time, whichever runs out first.
    warm = warmup / max(1, total_steps)
    rest = (progress - warm) / max(1e-9, 1 - warm)
    return FLOOR + (1 - FLOOR) * 0.5 * (1 + math.cos(math.pi * min(1.0, max(0.0, rest))))


def time_budget(time_budget_s: float | None, deadline: float | None, now: float) -> float | None:
    """Seconds training may take from `now`: the time budget, cut short by the deadline (Unix time);
    None when neither is set. Never under one second."""
    budgets = [b for b in (time_budget_s, deadline - now if deadline else None) if b is not None]
    if not budgets:
        return None
    return max(1.0, min(budgets))
