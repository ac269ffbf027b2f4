"""A tiny end-to-end training run: real data builders, real trainer, tiny model, adapter reloaded by the runtime."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from manyskills.data.mutations import make_defect_examples
from manyskills.data.records import CorpusFunction
from manyskills.model.adapter import AdapterError, Manifest
from manyskills.model.runtime import FunctionInput, LocalRuntime
from manyskills.training.examples import load_split
from manyskills.training.trainer import TrainConfig, run_training

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


def test_tiny_training_run_produces_a_loadable_adapter(tiny_dataset, tiny_model_dir, tmp_path):
    out = tmp_path / "adapter"
    config = TrainConfig(dataset=str(tiny_dataset), out=str(out), model=str(tiny_model_dir), steps=12,
                         batch_size=4, review_batch_size=2, lora_layers=[2, 3], feature_layer=4, max_tokens=128,
                         warmup=2, checkpoint_every=6, review_share=0.3, review_examples=8,
                         limits={"defect": 100, "search": 10, "clone": 10, "flaky": 8},
                         activation_cache=str(tmp_path / "activations"))
    run_training(config, progress=lambda msg: None)
    for name in ("adapter_config.json", "adapter_model.safetensors", "heads.safetensors", "manyskills.json"):
        assert (out / name).is_file()
    manifest = Manifest.load(out)
    assert manifest.trained and manifest.lora_layers == [2, 3] and manifest.training["step"] == 12
    lora = load_file(str(out / "adapter_model.safetensors"))
    assert lora and all("layers.2." in k or "layers.3." in k for k in lora)
    # Training moved the LoRA B matrices away from their zero initialisation.
    assert any(v.abs().sum() > 0 for k, v in lora.items() if "lora_B" in k)
    runtime = LocalRuntime.load(str(tiny_model_dir), str(out), "cpu")
    assert runtime.identity.adapter_trained
    result = runtime.analyse([FunctionInput("python", FUNCTIONS[0])])[0]
    assert 0.0 <= result.defect_score <= 1.0 and len(result.line_scores) == FUNCTIONS[0].count("\n") + 1


def test_adapter_for_another_base_is_refused(tiny_dataset, tiny_model_dir, tmp_path):
    out = tmp_path / "adapter"
    run_training(TrainConfig(dataset=str(tiny_dataset), out=str(out), model=str(tiny_model_dir), steps=1,
                             batch_size=4, lora_layers=[3], feature_layer=4, skills=["defect"], checkpoint_every=0,
                             limits={"defect": 10}, activation_cache=None), progress=lambda msg: None)
    manifest = json.loads((out / "manyskills.json").read_text())
    manifest["base_sha256"] = "0" * 64
    (out / "manyskills.json").write_text(json.dumps(manifest))
    with pytest.raises(AdapterError, match="trained on base"):
        LocalRuntime.load(str(tiny_model_dir), str(out), "cpu")


def test_activation_cache_is_reused_across_runs(tiny_dataset, tiny_model_dir, tmp_path):
    """A second run with the same recipe computes nothing and reads back the same activations;
    a run with another recipe (other frozen depth) does not reuse them."""
    from manyskills.training.trainer import Trainer

    def trainer(first_layer: int) -> Trainer:
        return Trainer(TrainConfig(dataset=str(tiny_dataset), out=str(tmp_path / "a"), model=str(tiny_model_dir),
                                   batch_size=4, lora_layers=[first_layer, 3], feature_layer=4, skills=["defect"],
                                   limits={"defect": 20}, activation_cache=str(tmp_path / "activations")),
                       progress=lambda msg: None)

    data = load_split(tiny_dataset, "train", {"defect": 20}, 0)
    first = trainer(2)
    first.prepare(data)
    assert first.stats["sequences_cached"] > 0 and first.stats["sequences_reused"] == 0
    second = trainer(2)
    second.prepare(data)
    assert second.stats["sequences_cached"] == 0
    assert second.stats["sequences_reused"] == first.stats["sequences_cached"]
    for key, cached in first.cache.items():
        assert torch.equal(second.cache[key].hidden, cached.hidden)
        assert second.cache[key].token_line == cached.token_line
    other = trainer(1)
    other.prepare(data)
    assert other.stats["sequences_reused"] == 0 and other.stats["sequences_cached"] > 0
