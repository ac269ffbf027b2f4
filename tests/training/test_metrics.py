"""The evaluation's metric helpers and baselines on hand-checked inputs."""

from manyskills.training.evaluate import auroc, f1, jaccard, most_operators_line, mrr, pairwise

import numpy as np


def test_auroc_perfect_inverse_and_ties():
    assert auroc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert auroc([0.1], [0.9]) == 0.0
    assert auroc([0.5, 0.5], [0.5, 0.5]) == 0.5


def test_pairwise_counts_ties_half():
    assert pairwise([1.0, 0.2, 0.5], [0.0, 0.9, 0.5]) == (1 + 0 + 0.5) / 3


def test_f1():
    assert f1([True, True, False, False], [True, False, True, False]) == 0.5
    assert f1([False, False], [False, False]) == 0.0


def test_most_operators_line_ignores_blank_lines():
    code = "def f(a, b):\n\n    x = a + b * 2 - 1\n    return x"
    assert most_operators_line(code) == 2


def test_mrr_and_jaccard():
    q = np.eye(3)
    assert mrr(q, q) == 1.0
    assert mrr(q, q[[1, 0, 2]]) < 1.0
    assert jaccard("sum the values", "def total(values): return sum(values)") == 2 / 6
