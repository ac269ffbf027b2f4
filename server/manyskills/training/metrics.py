"""The evaluation's metrics, one definition each, used by `manyskills eval`, the benches and the
training-data checks. Pure functions of scores and labels: no model, no torch.

Empty input: a metric that is a rate over pairs, examples or positives/negatives is undefined with
nothing to count and returns NaN (reports print it as "—"), never a value that looks measured.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

from manyskills.model.calibration import logit as score_logit  # one home: the calibration's logit
from manyskills.stats import auroc, jaccard  # noqa: F401  (one home; re-exported as the metrics API)


def code_lines(code: str) -> int:
    """Lines of a function's text; a final newline ends the last line rather than starting another
    (QuixBugs functions end with one, harvested functions do not: both must count alike)."""
    return code.count("\n") + (0 if code.endswith("\n") else 1)


def pairwise(buggy: Sequence[float], clean: Sequence[float]) -> float:
    """P(score(buggy) > score(clean)) over matched pairs, ties count half. NaN without pairs."""
    if not buggy:
        return float("nan")
    wins = sum(1.0 if b > c else 0.5 if b == c else 0.0 for b, c in zip(buggy, clean))
    return wins / len(buggy)


def pairwise_on(buggy: Sequence[float], clean: Sequence[float], indices: Sequence[int]) -> float:
    """`pairwise` over the pairs at `indices` only (e.g. the equal-length pairs)."""
    return pairwise([buggy[i] for i in indices], [clean[i] for i in indices])


def equal_length_indices(buggy: Sequence[str], clean: Sequence[str]) -> list[int]:
    """Pairs whose two sides have the same number of characters: where a length-only rule can only tie."""
    return [i for i, (b, c) in enumerate(zip(buggy, clean)) if len(b) == len(c)]


def equal_line_count_indices(buggy: Sequence[str], clean: Sequence[str]) -> list[int]:
    return [i for i, (b, c) in enumerate(zip(buggy, clean)) if code_lines(b) == code_lines(c)]


def line_top1(picked: Sequence[int | None], bug_lines: Sequence[Sequence[int]]) -> float:
    """Share of buggy functions whose picked line is one of its bug lines. NaN without functions."""
    if not picked:
        return float("nan")
    return float(np.mean([line is not None and line in lines for line, lines in zip(picked, bug_lines)]))


def detection_rate(buggy_scores: Sequence[float], threshold: float) -> float:
    """Recall at `threshold`: the share of buggy functions warned about. NaN without functions."""
    if not buggy_scores:
        return float("nan")
    return float(np.mean([s >= threshold for s in buggy_scores]))


def false_warnings_per_kloc(clean_scores: Sequence[float], threshold: float, clean_lines: int) -> float:
    """Warnings at `threshold` on clean code per 1,000 of its lines."""
    return 1000 * sum(s >= threshold for s in clean_scores) / max(1, clean_lines)


def lowest_threshold(clean_scores: Sequence[float], clean_lines: int, candidates: Sequence[float],
                     max_false_per_kloc: float = 5.0) -> float | None:
    """The lowest candidate threshold whose warnings on clean code stay within the budget per 1,000
    lines (how every detector's threshold is chosen on validation data: recall at a false-warning
    rate is the detection rate at this threshold), or None if none does.

    Counted with one sort and a binary search per candidate, the same counts as
    `false_warnings_per_kloc` (a score warns when >= the threshold), so every clean function's score
    can be a candidate on tens of thousands of functions."""
    if not len(candidates):
        return None
    scores = np.sort(np.asarray(clean_scores, dtype=float))
    scores = scores[~np.isnan(scores)]  # a NaN score never warns (NaN >= t is false)
    ordered = np.sort(np.asarray(candidates, dtype=float))
    warned = scores.size - np.searchsorted(scores, ordered, side="left")
    within = np.nonzero(1000 * warned / max(1, clean_lines) <= max_false_per_kloc)[0]
    return float(ordered[within[0]]) if within.size else None


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Rank correlation (ties broken by position); NaN under three points."""
    if len(x) < 3:
        return float("nan")
    rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
    return float(np.corrcoef(rx, ry)[0, 1])


def length_normalised(results) -> list[float]:
    """The defect logit with the pooling's length term removed. The score pools token scores with
    logsumexp, which grows like log(tokens) for a function of unremarkable tokens, so a longer function
    looks buggier; subtracting log(tokens) turns the sum into a mean (log-mean-exp)."""
    return [score_logit(r.defect_score) - math.log(max(1, r.tokens)) for r in results]


def length_bias(results) -> dict:
    """Spearman correlation of clean functions' scores with their token counts, raw and normalised:
    a detector should not call code suspicious for being long."""
    tokens = [r.tokens for r in results]
    return {"raw": spearman([r.defect_score for r in results], tokens),
            "normalised": spearman(length_normalised(results), tokens)}


def f1(pred: Sequence[bool], gold: Sequence[bool]) -> float:
    """F1 of the positive class; 0.0 when there is nothing to find and nothing was predicted."""
    tp = sum(p and g for p, g in zip(pred, gold))
    fp = sum(p and not g for p, g in zip(pred, gold))
    fn = sum(g and not p for p, g in zip(pred, gold))
    return 2 * tp / max(1, 2 * tp + fp + fn)


def mrr(query_vecs: np.ndarray, code_vecs: np.ndarray) -> float:
    """Mean reciprocal rank of each query's own code (row i matches row i) among all codes."""
    sims = query_vecs @ code_vecs.T
    ranks = (sims > np.diag(sims)[:, None]).sum(1) + 1
    return float(np.mean(1.0 / ranks))


def identifiers(text: str) -> set[str]:
    """The lower-cased identifier-like words of a text (the tokens of the lexical measures)."""
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text.lower()))


def token_jaccard(a: str, b: str) -> float:
    """Jaccard similarity of two texts' identifiers (the lexical baseline for search and clones)."""
    return jaccard(identifiers(a), identifiers(b))
