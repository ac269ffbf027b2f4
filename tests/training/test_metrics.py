"""The evaluation's metric helpers and baselines on hand-checked inputs."""

import numpy as np
import pytest
from manyskills.training.evaluate import auroc, f1, jaccard, most_operators_line, mrr, pairwise


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


def test_hard_negatives_pair_each_function_with_its_lexically_nearest_non_clone():
    from manyskills.training.evaluate import hard_negative_pairs
    from manyskills.training.examples import CloneItem

    pairs = [
        CloneItem("python", "def add(a, b): return a + b", "def add(x, y): return x + y", 1),
        CloneItem("python", "def sub(a, b): return a - b", "def sub(p, q): return p - q", 1),
        CloneItem("python", "def name(self): return self._name", "def name(self): n = self._name; return n", 1),
        CloneItem("java", "int add(int a, int b) { return a + b; }", "int add(int x, int y) { return x + y; }", 1),
        CloneItem("python", "def unrelated(): pass", "def other(): pass", 0),
    ]
    negatives = hard_negative_pairs(pairs)
    assert all(n.label == 0 for n in negatives)
    by_a = {n.code_a: n.code_b for n in negatives}
    # add's nearest other clone side is sub's (same shape, fewer distinct tokens than name's); a function is never
    # paired with its own clone or with another language, so the lone Java function gets no negative.
    assert by_a["def add(a, b): return a + b"] == "def sub(p, q): return p - q"
    assert by_a["def sub(a, b): return a - b"] == "def add(x, y): return x + y"
    assert "int add(int a, int b) { return a + b; }" not in by_a
    assert len(negatives) == 3


def test_length_normalised_score_removes_the_pooling_length_term():
    from types import SimpleNamespace

    from manyskills.training.evaluate import length_bias, length_normalised, score_logit, spearman

    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == 1.0 and spearman([1, 2, 3, 4], [4, 3, 2, 1]) == -1.0
    # Scores that are sigmoid(log(tokens) + c): pure length, as logsumexp pooling of unremarkable tokens gives.
    import math

    results = [SimpleNamespace(tokens=t, defect_score=1 / (1 + math.exp(-(math.log(t) - 4.0)))) for t in
               (20, 35, 50, 80, 120, 200)]
    bias = length_bias(results)
    assert bias["raw"] == 1.0
    normalised = length_normalised(results)
    assert max(normalised) - min(normalised) < 1e-6
    assert abs(score_logit(0.5)) < 1e-9


def test_prompted_zero_shot_scores_every_line_as_exclusive_answers(embedded_model):
    """The prompted baseline's line scores are log-probabilities of mutually exclusive answers ("7",
    "12", ...): one per line, summing to at most 1, and the KV-cache shortcut gives the same numbers
    as scoring the answer tokens in one plain forward pass."""
    import math

    import torch
    from manyskills.model.runtime import LocalRuntime
    from manyskills.training import evaluate as ev

    base = LocalRuntime(embedded_model, None, "cpu", torch.float32)
    code = "\n".join(["def total(xs):", "    result = 0"] + [f"    result += xs[{i}]" for i in range(10)]
                     + ["    return result"])
    detect, lines = ev.prompted_zero_shot(base, "python", code)
    assert len(lines) == 13 and all(math.isfinite(v) for v in lines) and math.isfinite(detect)
    assert sum(math.exp(v) for v in lines) <= 1.0 + 1e-4

    numbered = "\n".join(f"{i + 1} | {line}" for i, line in enumerate(code.split("\n")))
    prompt = ev._chat_ids(base, ev.PROMPT_LOCATE.format(language="python", code=numbered), ev.LOCATE_ANSWER)
    with torch.inference_mode():
        full = torch.cat([prompt, torch.tensor([[ev._single_token(base, "1"), ev._single_token(base, "2")]])], 1)
        logp = torch.log_softmax(base.model(input_ids=full).logits[0].float(), -1)
    n = prompt.shape[1]
    twelve = float(logp[n - 1, ev._single_token(base, "1")] + logp[n, ev._single_token(base, "2")])
    assert lines[11] == pytest.approx(twelve, abs=1e-3)


def test_release_fix_pairs_take_one_split_and_whole_pairs(tmp_path):
    import json

    from manyskills.training.evaluate import release_fix_pairs

    rows = []
    for split, pid in (("test", "a"), ("test", "b"), ("valid", "c")):
        rows.append({"pair_id": pid, "split": split, "label": 1, "code": f"def {pid}():\n    return 1",
                     "language": "python", "bug_lines": [1]})
        rows.append({"pair_id": pid, "split": split, "label": 0, "code": f"def {pid}():\n    return 2",
                     "language": "python", "bug_lines": []})
    rows.append({"pair_id": "orphan", "split": "test", "label": 1, "code": "def o():\n    return 1",
                 "language": "python", "bug_lines": [1]})
    (tmp_path / "history.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    pairs = release_fix_pairs(tmp_path, "test", 10, seed=0)
    assert sorted(p.buggy.split("(")[0] for p in pairs) == ["def a", "def b"]
    assert all(p.bug_lines == [1] and p.clean.endswith("return 2") for p in pairs)
    assert len(release_fix_pairs(tmp_path, "test", 1, seed=0)) == 1
    assert release_fix_pairs(tmp_path / "missing", "test", 10, seed=0) == []
