"""The evaluation sets (training/sets.py) and the baselines (training/baselines.py)."""

import math

import pytest
from manyskills.training.baselines import length_only, most_operators_line, random_line_top1, ranking_summary
from manyskills.training.examples import CloneItem
from manyskills.training.sets import PairEval, hard_negative_pairs, quixbugs_pairs, release_fix_pairs


def test_most_operators_line_ignores_blank_lines():
    code = "def f(a, b):\n\n    x = a + b * 2 - 1\n    return x"
    assert most_operators_line(code) == 2


def test_random_line_and_length_only_baselines():
    pairs = [PairEval("a\nb\nc\nd", "a\nb\nc\ndd", "python", [1]),  # buggy shorter: length-only wins
             PairEval("a\nbb\n", "a\nb\n", "python", [0, 1])]  # buggy longer: length-only loses
    assert random_line_top1(pairs) == pytest.approx((1 / 4 + 2 / 2) / 2)
    baseline = length_only(pairs, [], [0, 1])
    assert baseline["pairwise"] == 0.5 and baseline["auroc"] == 0.5
    assert math.isnan(baseline["pairwise_equal_length"]) and baseline["pairwise_equal_line_count"] == 0.5


def test_ranking_summary():
    pairs = [PairEval("ab", "cd", "python", [0]), PairEval("abc", "ab", "python", [2])]
    summary = ranking_summary(pairs, [0.9, 0.1], [0.2, 0.5], [0, 1])
    assert summary == {"n": 2, "auroc": 0.5, "pairwise": 0.5, "pairwise_equal_length": 1.0, "line_top1": 0.5}


def test_hard_negatives_pair_each_function_with_its_lexically_nearest_non_clone():
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


def test_release_fix_pairs_take_one_split_and_whole_pairs(tmp_path):
    import json

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


def test_quixbugs_pairs_number_lines_from_zero(tmp_path):
    import json

    row = {"buggy": "def f():\n    return 1\n", "fixed": "def f():\n    return 2\n", "language": "Python",
           "bug_lines": [2]}
    (tmp_path / "q.jsonl").write_text(json.dumps(row) + "\n")
    (pair,) = quixbugs_pairs(tmp_path / "q.jsonl")
    assert pair.language == "python" and pair.bug_lines == [1] and pair.clean.endswith("return 2\n")


@pytest.mark.realmodel
def test_prompted_zero_shot_scores_every_line_as_exclusive_answers(embedded_model):
    """The prompted baseline's line scores are log-probabilities of mutually exclusive answers ("7",
    "12", ...): one per line, summing to at most 1, and the KV-cache shortcut gives the same numbers
    as scoring the answer tokens in one plain forward pass."""
    import torch
    from manyskills.model.runtime import LocalRuntime
    from manyskills.training import baselines as bl

    base = LocalRuntime(embedded_model, None, "cpu", torch.float32)
    code = "\n".join(["def total(xs):", "    result = 0"] + [f"    result += xs[{i}]" for i in range(10)]
                     + ["    return result"])
    detect, lines = bl.prompted_zero_shot(base, "python", code)
    assert len(lines) == 13 and all(math.isfinite(v) for v in lines) and math.isfinite(detect)
    assert sum(math.exp(v) for v in lines) <= 1.0 + 1e-4

    numbered = "\n".join(f"{i + 1} | {line}" for i, line in enumerate(code.split("\n")))
    prompt = bl._chat_ids(base, bl.PROMPT_LOCATE.format(language="python", code=numbered), bl.LOCATE_ANSWER)
    with torch.inference_mode():
        full = torch.cat([prompt, torch.tensor([[bl._single_token(base, "1"), bl._single_token(base, "2")]])], 1)
        logp = torch.log_softmax(base.model(input_ids=full).logits[0].float(), -1)
    n = prompt.shape[1]
    twelve = float(logp[n - 1, bl._single_token(base, "1")] + logp[n, bl._single_token(base, "2")])
    assert lines[11] == pytest.approx(twelve, abs=1e-3)
