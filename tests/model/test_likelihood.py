"""The language model's log-likelihood of a function (`LocalRuntime.log_likelihood`), which ranks repairs:
batched like analysis, yet each text's value is its own; the language prompt conditions the code."""

from __future__ import annotations

import math

import pytest
from manyskills.model.types import FunctionInput

TEXTS = ["def add(a, b):\n    return a + b\n", "def add(a, b):\n    return a - b\n",
         "def f(xs):\n    total = 0\n    for x in xs:\n        total += x\n    return total\n", "x = 1\n"]


@pytest.fixture(scope="module")
def runtime(tiny_model_dir):
    from manyskills.model.runtime import LocalRuntime

    return LocalRuntime.load(str(tiny_model_dir), None, "cpu")


def test_batched_values_equal_one_at_a_time(runtime):
    items = [FunctionInput("python", t) for t in TEXTS]
    batched = runtime.log_likelihood(items)
    alone = [runtime.log_likelihood([item])[0] for item in items]
    assert batched == pytest.approx(alone, abs=1e-2)
    assert all(v < 0 and math.isfinite(v) for v in batched)
    assert batched[0] != batched[1]  # one changed token changes the value


def test_longer_code_has_lower_likelihood_and_the_language_prompt_is_context(runtime):
    short, longer = runtime.log_likelihood([FunctionInput("python", "x = 1\n"), FunctionInput("python", "x = 1\ny = 2\n")])
    assert longer < short
    # the same code under another language's prompt: the prompt conditions the code's tokens
    py, go = runtime.log_likelihood([FunctionInput("python", TEXTS[0]), FunctionInput("go", TEXTS[0])])
    assert py != go


def test_empty_batch(runtime):
    assert runtime.log_likelihood([]) == []
