"""A tiny end-to-end training run: real data builders, real trainer, tiny model, adapter reloaded by the runtime."""

from __future__ import annotations

import json

import pytest
import torch
from manyskills.model.adapter import AdapterError, Manifest
from manyskills.model.runtime import FunctionInput, LocalRuntime
from manyskills.training.examples import load_split
from manyskills.training.trainer import TrainConfig, run_training
from safetensors.torch import load_file


def test_tiny_training_run_produces_a_loadable_adapter(tiny_dataset, tiny_model_dir, tiny_functions, tmp_path):
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
    result = runtime.analyse([FunctionInput("python", tiny_functions[0])])[0]
    assert 0.0 <= result.defect_score <= 1.0 and len(result.line_scores) == tiny_functions[0].count("\n") + 1


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


def test_adapting_from_layer_zero_keeps_token_ids_and_trains_every_layer(tiny_dataset, tiny_model_dir, tmp_path):
    """The GPU recipe (LoRA from layer 0): nothing below the first adapted layer but the embedding
    lookup, so the trainer keeps token ids, writes no activation cache, and adapts layer 0 too."""
    from manyskills.training.trainer import Trainer

    out = tmp_path / "adapter"
    config = TrainConfig(dataset=str(tiny_dataset), out=str(out), model=str(tiny_model_dir), steps=4,
                         batch_size=4, review_batch_size=2, lora_layers=[0, 1, 2, 3], feature_layer=4,
                         max_tokens=128, warmup=1, checkpoint_every=0, review_share=0.3, review_examples=4,
                         limits={"defect": 40, "search": 8, "clone": 8, "flaky": 8},
                         activation_cache=str(tmp_path / "activations"))
    trainer = Trainer(config, progress=lambda msg: None)
    pools = trainer.prepare(load_split(tiny_dataset, "train", config.limits, 0))
    cached = next(iter(trainer.cache.values()))
    assert cached.hidden.dim() == 1 and not cached.hidden.is_floating_point()
    assert not (tmp_path / "activations").exists()
    trainer.train(pools)
    trainer.save(out)
    lora = load_file(str(out / "adapter_model.safetensors"))
    assert any("layers.0." in k and "lora_B" in k and v.abs().sum() > 0 for k, v in lora.items())
    runtime = LocalRuntime.load(str(tiny_model_dir), str(out), "cpu")
    assert runtime.analyse([FunctionInput("python", "def f(x):\n    return x + 1")])[0].line_scores


def test_time_budget_ends_training_and_finishes_the_schedule(tiny_dataset, tiny_model_dir, tmp_path):
    from manyskills.training.trainer import Trainer

    config = TrainConfig(dataset=str(tiny_dataset), out=str(tmp_path / "a"), model=str(tiny_model_dir),
                         steps=100_000, time_budget_s=1.5, batch_size=4, lora_layers=[3], feature_layer=4,
                         skills=["defect"], warmup=1, checkpoint_every=0, limits={"defect": 20},
                         activation_cache=None)
    trainer = Trainer(config, progress=lambda msg: None)
    pools = trainer.prepare(load_split(tiny_dataset, "train", config.limits, 0))
    trainer.train(pools)
    assert trainer.stats["stopped_by_time_budget"] and 1 < trainer.step < 100_000
    # The cosine reaches its floor when the time runs out, whatever the step count says.
    assert trainer.lr_scale(elapsed=1.5) == pytest.approx(0.1)
    assert trainer.lr_scale(elapsed=0.75) == pytest.approx(0.55, abs=0.01)


def test_deadline_cuts_the_time_budget_short(tiny_dataset, tiny_model_dir, tmp_path):
    """A lent machine's call limit: `deadline` (Unix time) ends training even when the time budget is
    longer, and the schedule is fitted to what is left when training starts."""
    import time

    from manyskills.training.trainer import Trainer

    config = TrainConfig(dataset=str(tiny_dataset), out=str(tmp_path / "a"), model=str(tiny_model_dir),
                         steps=100_000, time_budget_s=600, deadline=time.time() + 60, batch_size=4,
                         lora_layers=[3], feature_layer=4, skills=["defect"], warmup=1, checkpoint_every=0,
                         limits={"defect": 20}, activation_cache=None)
    trainer = Trainer(config, progress=lambda msg: None)
    pools = trainer.prepare(load_split(tiny_dataset, "train", config.limits, 0))
    trainer.config.deadline = time.time() + 1.5  # what is left after preparing the data
    started = time.time()
    trainer.train(pools)
    assert trainer.stats["stopped_by_time_budget"] and time.time() - started < 30
    assert 1.0 <= trainer.time_budget <= 1.5


def test_real_fix_share_sets_each_defect_batch_mix(tiny_dataset, tiny_model_dir, tmp_path):
    """`real_fix_share` draws that share of each defect batch's pairs from the patch-release fixes;
    without it the fixes are not even loaded (older recipes stay reproducible)."""
    import shutil

    from manyskills.data.changes import FunctionChange, pair_examples
    from manyskills.data.history import RELEASE_FIX
    from manyskills.training.trainer import Trainer

    dataset = tmp_path / "dataset"
    shutil.copytree(tiny_dataset, dataset)
    rows = []
    for i in range(6):
        before = f"def f{i}(xs):\n    n = 0\n    for x in xs:\n        n += x\n    return n - {i}"
        after = before.replace(f"return n - {i}", "return n" if i < 4 else f"return n - {i} + len(xs)")
        change = FunctionChange("pkg", "python", "m.py", f"f{i}", before, after, [4], 4, "    return n")
        rows += [e.to_dict() | {"split": "train"} for e in pair_examples(change, RELEASE_FIX)]
    (dataset / "history.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))

    assert not [d for d in load_split(dataset, "train", {"defect": 40}).defect if d.operator == RELEASE_FIX]
    data = load_split(dataset, "train", {"defect": 40}, history=True)
    assert len([d for d in data.defect if d.operator == RELEASE_FIX]) == 6

    config = TrainConfig(dataset=str(dataset), out=str(tmp_path / "a"), model=str(tiny_model_dir), batch_size=8,
                         lora_layers=[3], feature_layer=4, skills=["defect"], max_tokens=128, real_fix_share=0.5,
                         activation_cache=None)
    trainer = Trainer(config, progress=lambda msg: None)
    pool = trainer.prepare(data)["defect"]
    shorter_drawn = other_drawn = 0
    for _ in range(40):
        batch = trainer.sample("defect", pool)
        real = {d.pair_id for d in batch if any(e.operator == RELEASE_FIX for e in batch if e.pair_id == d.pair_id)}
        assert len(real) == 2 and len({d.pair_id for d in batch}) == 4  # 8 sequences = 4 pairs, half real
        for pid in real:
            buggy, clean = (next(len(d.code) for d in batch if d.pair_id == pid and d.label == k) for k in (1, 0))
            shorter_drawn += buggy < clean
            other_drawn += buggy >= clean
    # 4 of the 6 fixes shorten nothing (buggy longer), 2 add code: drawn about equally all the same
    assert 30 <= shorter_drawn <= 50 and 30 <= other_drawn <= 50
