"""Shared tiny training data: real data builders over a handful of functions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from manyskills.data.mutations import make_defect_examples
from manyskills.data.records import CorpusFunction

FUNCTIONS = [
    """def total(xs):\n    result = 0\n    for i in range(len(xs)):\n        result += xs[i]\n    return result""",
    """def find(items, key):\n    for index, item in enumerate(items):\n        if item == key:\n            return index\n    return -1""",
    """def clamp(value, low, high):\n    if value < low:\n        return low\n    if value > high:\n        return high\n    return value""",
    """def first_word(text):\n    if text is None:\n        return ""\n    words = text.split()\n    return words[0] if words else \"\"""",
    """def average(values):\n    if not values:\n        return 0.0\n    count = len(values)\n    return sum(values) / count""",
    """def count_upper(text):\n    n = 0\n    for ch in text:\n        if ch.isupper():\n            n += 1\n    return n""",
]


def _write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dataset")
    functions = [CorpusFunction(id=f"f{i}", project=f"p{i}", language="python", path="m.py", qualified_name=f"f{i}",
                                code=code, split="train") for i, code in enumerate(FUNCTIONS * 3)]
    defects = make_defect_examples(functions, seed=0)
    assert any(d.label == 1 for d in defects) and any(d.label == 0 for d in defects)
    _write(out / "defects.jsonl", [d.to_dict() for d in defects])
    _write(out / "search.jsonl", [{"id": f"s{i}", "project": "p", "language": "python", "split": "train",
                                   "query": f"compute the thing number {i}", "code": c}
                                  for i, c in enumerate(FUNCTIONS)])
    _write(out / "clones.jsonl", [{"id": f"c{i}", "project": "p", "language": "python", "split": "train",
                                   "code_a": c, "code_b": c.replace("result", "acc"), "label": 1}
                                  for i, c in enumerate(FUNCTIONS)])
    _write(out / "flaky.jsonl", [{"id": f"t{i}", "project": "p", "language": "python", "split": "train",
                                  "code": f"def test_{i}():\n    time.sleep({i})\n    assert f()", "label": i % 2,
                                  "cause": "time"} for i in range(8)])
    return out


@pytest.fixture(scope="module")
def tiny_functions() -> list[str]:
    return FUNCTIONS
