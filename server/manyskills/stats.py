"""Two measures used on both sides of the data/training line, defined once here at the bottom layer
(data/ builds the corpus and checks it; training/ evaluates models; neither may import the other's
direction, so the shared arithmetic lives below both)."""

from __future__ import annotations

from collections.abc import Sequence


def auroc(pos: Sequence[float], neg: Sequence[float]) -> float:
    """P(score of a random positive > score of a random negative), ties counting one half (the
    Mann-Whitney U statistic over both sizes). NaN when either side is empty: there is nothing to rank,
    and a number there would hide it (callers that want a neutral 0.5 say so themselves)."""
    if not pos or not neg:
        return float("nan")
    scored = sorted([(float(s), 1) for s in pos] + [(float(s), 0) for s in neg])
    rank_sum = 0.0
    i = 0
    while i < len(scored):
        j = i
        while j < len(scored) and scored[j][0] == scored[i][0]:
            j += 1
        average_rank = (i + 1 + j) / 2  # ties share the mean of their ranks
        rank_sum += average_rank * sum(label for _, label in scored[i:j])
        i = j
    n_pos, n_neg = len(pos), len(neg)
    return float((rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def jaccard(a: set, b: set) -> float:
    """|a & b| / |a | b|; 1.0 for two empty sets (identical: near-duplicate detection relies on it)."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)
