"""The real embedded base (SmolLM2-135M-Instruct, converted once into the user cache) end to end."""

from __future__ import annotations

import pytest

from manyskills.model.base import EMBEDDED_GGUF_SHA256, ensure_embedded_base
from manyskills.model.runtime import FunctionInput, LocalRuntime

pytestmark = pytest.mark.realmodel

CODE = "def average(xs):\n    total = 0\n    for x in xs:\n        total += x\n    return total / len(xs)\n"
TEST = "def test_average():\n    time.sleep(0.1)\n    assert average([1, 2]) == 1.5\n"


@pytest.fixture(scope="module")
def runtime() -> LocalRuntime:
    return LocalRuntime.load(device_setting="cpu")


def test_embedded_base_is_verified_and_cached():
    ref = ensure_embedded_base()
    assert ref.sha256 == EMBEDDED_GGUF_SHA256
    assert (ref.path / "model.safetensors").is_file()
    assert not list(ref.path.glob("*.bin"))


def test_one_forward_pass_serves_every_classifier_skill(runtime):
    before = runtime.forward_passes
    results = runtime.analyse([FunctionInput("python", CODE), FunctionInput("python", TEST, is_test=True)])
    assert runtime.forward_passes - before == 1  # defect, flaky and the embedding from the same pass
    code, test = results
    assert 0.0 <= code.defect_score <= 1.0 and len(code.line_scores) == CODE.count("\n") + 1
    assert abs(sum(code.line_scores) - 1.0) < 1e-3
    assert code.flaky_score is None and test.flaky_score is not None
    assert code.embedding.shape == (runtime.manifest.embed_dim,)
    assert abs(float(code.embedding @ code.embedding) - 1.0) < 1e-3


def test_batching_does_not_change_results(runtime):
    alone = runtime.analyse([FunctionInput("python", CODE)])[0]
    batched = runtime.analyse([FunctionInput("python", CODE), FunctionInput("python", TEST * 3)])[0]
    assert abs(alone.defect_score - batched.defect_score) < 0.02
    assert alone.bug_line == batched.bug_line


def test_query_embedding_and_review_generation(runtime):
    query = runtime.embed_queries(["average of a list of numbers"])
    assert query.shape == (1, runtime.manifest.embed_dim)
    note = runtime.review(FunctionInput("python", CODE), 4, max_new_tokens=24)
    assert note.note and isinstance(note.raw, str)


def test_shipped_adapter_flags_the_seeded_bug_and_not_its_fix(runtime):
    """A regression pin for models/smollm2-135m: the example's arithmetic bug is flagged on its line above
    the calibrated threshold, and the fixed function scores below it."""
    buggy = ("def restock(stock, item, amount):\n    if amount < 0:\n        raise ValueError(\"amount must be positive\")\n"
             "    stock[item] = stock.get(item, 0) - amount\n    return stock[item]")
    fixed = buggy.replace("- amount", "+ amount")
    assert runtime.identity.adapter_trained
    threshold = runtime.manifest.thresholds["defect"]
    bug, fix = runtime.analyse([FunctionInput("python", buggy), FunctionInput("python", fixed)])
    assert bug.bug_line == 3 and bug.defect_score >= threshold
    assert fix.defect_score < threshold < bug.defect_score
