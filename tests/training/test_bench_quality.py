"""bench/quality_vs_linters.py's metrics on hand-made verdicts, and a real pyflakes run mapped back to
function lines: line top-1 counts the most suspicious line whatever the threshold, "warned on bug line"
only a warning a user would see."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from manyskills.training.sets import PairEval

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def quality():
    sys.path.insert(0, str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location("quality_vs_linters", ROOT / "bench" / "quality_vs_linters.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


PAIRS = [
    PairEval("def a(x):\n    return x - 1\n", "def a(x):\n    return x + 1\n", "python", [1]),
    PairEval("def b(x):\n    y = x\n    return y < 0\n", "def b(x):\n    y = x\n    return y <= 0\n", "python", [2]),
    PairEval("def c(x):\n    return x\n", "def c(x):\n    return -x\n", "python", [1]),
]


def test_line_top1_ignores_the_threshold_but_warned_on_bug_line_does_not(quality):
    buggy = quality.Verdicts(scores=[0.9, 0.2, 0.8], flags=[True, False, True], lines=[1, 2, 0], warnings=[1, 0, 1])
    clean = quality.Verdicts(scores=[0.1, 0.3, 0.8], flags=[False, False, True], lines=[0, 0, 0], warnings=[0, 0, 1])
    out = quality.metrics(PAIRS, buggy, clean)
    assert out["line_top1"] == pytest.approx(2 / 3)  # pairs 1 and 2 point at the bug line
    assert out["warned_on_bug_line"] == pytest.approx(1 / 3)  # pair 2 is not flagged; pair 3 flags line 0
    assert out["pairwise"] == pytest.approx((1 + 0 + 0.5) / 3)  # a tie counts half
    assert out["detection"] == pytest.approx(2 / 3) and out["clean_flagged"] == pytest.approx(1 / 3)
    assert out["false_warnings_per_kloc"] == pytest.approx(1000 * 1 / 7)  # 7 lines of clean code


def test_pyflakes_warnings_map_back_to_function_lines(quality, tmp_path):
    verdicts = quality.run_pyflakes(["def f(items):\n    total = 0\n    return totl\n", "def g():\n    return 1\n"],
                                    tmp_path)
    assert verdicts.flags == [True, False]
    # 0-based function lines: `total` unused (line 1) and `totl` undefined (line 2); the first one is the line
    assert verdicts.scores == [2.0, 0.0] and verdicts.lines == [1, None]
