"""training/metrics.py on hand-checked inputs: the one definition of every number `manyskills eval`
and the benches report."""

import math

import numpy as np
import pytest
from manyskills.training.metrics import (
    auroc,
    code_lines,
    detection_rate,
    equal_length_indices,
    equal_line_count_indices,
    f1,
    false_warnings_per_kloc,
    jaccard,
    length_bias,
    length_normalised,
    line_top1,
    lowest_threshold,
    mrr,
    pairwise,
    pairwise_on,
    score_logit,
    spearman,
    token_jaccard,
)


def test_auroc_perfect_inverse_and_ties():
    assert auroc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert auroc([0.1], [0.9]) == 0.0
    assert auroc([0.5, 0.5], [0.5, 0.5]) == 0.5
    # 3 positives x 2 negatives: wins 2 + 1.5 (one tie) + 0 = 3.5 of 6
    assert auroc([0.9, 0.4, 0.1], [0.4, 0.2]) == pytest.approx(3.5 / 6)


def test_auroc_is_undefined_without_both_classes():
    """The documented empty-input behaviour: NaN, never 0.5 (which would read as "measured, no skill")."""
    assert math.isnan(auroc([], [0.1])) and math.isnan(auroc([0.1], [])) and math.isnan(auroc([], []))


def test_auroc_matches_the_pairwise_probability_it_estimates():
    rng = np.random.default_rng(0)
    pos, neg = list(rng.integers(0, 5, 40).astype(float)), list(rng.integers(0, 5, 30).astype(float))
    brute = np.mean([1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg])
    assert auroc(pos, neg) == pytest.approx(brute)


def test_pairwise_counts_ties_half_and_is_undefined_without_pairs():
    assert pairwise([1.0, 0.2, 0.5], [0.0, 0.9, 0.5]) == (1 + 0 + 0.5) / 3
    assert math.isnan(pairwise([], []))
    assert pairwise_on([1.0, 0.2, 0.5], [0.0, 0.9, 0.5], [0, 2]) == 0.75
    assert math.isnan(pairwise_on([1.0], [0.0], []))


def test_equal_length_and_equal_line_count_pairs():
    buggy = ["a - b", "x\ny", "return 1\n"]
    clean = ["a + b", "xy\nz", "return 10"]
    assert equal_length_indices(buggy, clean) == [0, 2]
    assert equal_line_count_indices(buggy, clean) == [0, 1, 2]  # a final newline ends the last line


def test_code_lines_counts_a_final_newline_as_the_end_of_the_last_line():
    assert code_lines("a\nb") == code_lines("a\nb\n") == 2 and code_lines("") == 1


def test_line_top1_counts_any_of_the_bug_lines_and_a_missing_pick_as_a_miss():
    assert line_top1([1, 2, None, 0], [[1], [3, 2], [0], [5]]) == 0.5
    assert math.isnan(line_top1([], []))


def test_detection_and_false_warnings_at_a_threshold():
    assert detection_rate([0.9, 0.5, 0.1, 0.7], 0.5) == 0.75
    assert math.isnan(detection_rate([], 0.5))
    assert false_warnings_per_kloc([0.9, 0.2, 0.6], 0.5, 400) == 5.0
    assert false_warnings_per_kloc([0.9], 0.5, 0) == 1000.0  # no lines: counted per one line, never / 0


def test_lowest_threshold_keeps_false_warnings_within_the_budget():
    clean = [0.1, 0.3, 0.6, 0.8]  # 1,000 lines: budget 1 warning at 1 per kLOC
    assert lowest_threshold(clean, 1000, [0.2, 0.5, 0.7, 0.9], max_false_per_kloc=1.0) == 0.7
    assert lowest_threshold(clean, 1000, [0.2, 0.5, 0.7, 0.9], max_false_per_kloc=0.0) == 0.9
    assert lowest_threshold(clean, 1000, [0.2, 0.5], max_false_per_kloc=0.0) is None


def test_f1():
    assert f1([True, True, False, False], [True, False, True, False]) == 0.5
    assert f1([False, False], [False, False]) == 0.0


def test_mrr():
    q = np.eye(3)
    assert mrr(q, q) == 1.0
    assert mrr(q, q[[1, 0, 2]]) == pytest.approx((0.5 + 0.5 + 1) / 3)


def test_jaccard_of_sets_and_of_texts_identifiers():
    assert jaccard({"a", "b"}, {"b", "c"}) == 1 / 3
    assert jaccard(set(), set()) == 1.0  # identical (near-duplicate detection relies on it)
    assert token_jaccard("sum the values", "def total(values): return sum(values)") == 2 / 6


def test_length_normalised_score_removes_the_pooling_length_term():
    from types import SimpleNamespace

    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == 1.0 and spearman([1, 2, 3, 4], [4, 3, 2, 1]) == -1.0
    assert math.isnan(spearman([1, 2], [1, 2]))
    # Scores that are sigmoid(log(tokens) + c): pure length, as logsumexp pooling of unremarkable tokens gives.
    results = [SimpleNamespace(tokens=t, defect_score=1 / (1 + math.exp(-(math.log(t) - 4.0)))) for t in
               (20, 35, 50, 80, 120, 200)]
    bias = length_bias(results)
    assert bias["raw"] == 1.0
    normalised = length_normalised(results)
    assert max(normalised) - min(normalised) < 1e-6
    assert abs(score_logit(0.5)) < 1e-9
