"""bench/multitask_vs_single.py end to end on the tiny model: single-task adapters trained for the steps
their skill got in the multi-task run, from the multi-task run's cached activations, then evaluated."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from manyskills.training.evaluate import evaluate
from manyskills.training.trainer import TrainConfig, run_training

ROOT = Path(__file__).resolve().parents[2]


def _bench_module():
    spec = importlib.util.spec_from_file_location("multitask_vs_single", ROOT / "bench" / "multitask_vs_single.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_single_task_baselines_reuse_the_multitask_activations(tiny_dataset, tiny_model_dir, tmp_path):
    # The same rows serve as held-out splits here: this test checks the plumbing, not the numbers.
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    for path in tiny_dataset.iterdir():
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        copies = [{**r, "split": split} for split in ("train", "valid", "test") for r in rows]
        (dataset / path.name).write_text("".join(json.dumps(r) + "\n" for r in copies))
    config = {"dataset": str(dataset), "model": str(tiny_model_dir), "steps": 10, "batch_size": 4,
              "lora_layers": [2, 3], "feature_layer": 4, "max_tokens": 128, "warmup": 2, "checkpoint_every": 0,
              "review_share": 0.0, "skills": ["defect", "flaky", "search", "clone"],
              "limits": {"defect": 40, "search": 6, "clone": 6, "flaky": 8},
              "activation_cache": str(tmp_path / "activations")}
    (tmp_path / "config.json").write_text(json.dumps(config))
    multi = tmp_path / "multi"
    run_training(TrainConfig.from_file(str(tmp_path / "config.json"), out=str(multi)), progress=lambda m: None)
    report = evaluate(str(multi), str(dataset), None, model=str(tiny_model_dir), with_baselines=False,
                      limits={"defect": 20, "search": 6, "clone": 6, "flaky": 8, "repair": 0})
    (tmp_path / "multi-eval.json").write_text(json.dumps({**report, "dataset": str(dataset)}))

    bench = _bench_module()
    out_json = tmp_path / "experiment.json"
    assert bench.main(["--multi", str(multi), "--multi-eval", str(tmp_path / "multi-eval.json"), "--config",
                       str(tmp_path / "config.json"), "--out", str(tmp_path / "single"), "--quixbugs", "",
                       "--skills", "defect,flaky", "--json", str(out_json)]) == 0
    results = json.loads(out_json.read_text())
    steps = json.loads((multi / "manyskills.json").read_text())["training"]["stats"]["steps_by_skill"]
    assert sum(steps.values()) == 10
    for skill in ("defect", "flaky"):
        single = results["single"][skill]
        assert single["steps"] == steps[skill]
        assert set(single["metrics"]) == set(results["multi"]["metrics"][skill])
        stats = json.loads((tmp_path / "single" / skill / "manyskills.json").read_text())["training"]["stats"]
        assert stats["sequences_cached"] == 0 and stats["sequences_reused"] > 0  # nothing recomputed
        assert single["trainable"] < results["multi"]["trainable"]
