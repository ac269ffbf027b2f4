"""Data-parallel training: two CPU processes started by torchrun (the environment contract `accelerate
launch` uses too) train one adapter; gradients are averaged, so both replicas end bit-identical."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from manyskills.model.adapter import Manifest
from manyskills.model.runtime import LocalRuntime


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("launcher", ["torchrun", "accelerate"])
def test_two_replicas_train_one_adapter(launcher, tiny_dataset, tiny_model_dir, tmp_path):
    out = tmp_path / "adapter"
    config = {"dataset": str(tiny_dataset), "model": str(tiny_model_dir), "out": str(out), "steps": 6,
              "batch_size": 4, "lora_layers": [2, 3], "feature_layer": 4, "max_tokens": 128, "warmup": 1,
              "checkpoint_every": 0, "review_share": 0.0, "skills": ["defect", "flaky", "search"],
              "limits": {"defect": 40, "search": 6, "flaky": 8}, "activation_cache": str(tmp_path / "activations"),
              "device": "cpu"}
    (tmp_path / "config.json").write_text(json.dumps(config))
    port = str(_free_port())
    bin_dir = Path(sys.executable).parent
    if launcher == "torchrun":
        launch = [str(bin_dir / "torchrun"), "--nnodes", "1", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
                  "--master_port", port]
    else:
        launch = [str(bin_dir / "accelerate"), "launch", "--multi_gpu", "--num_processes", "2",
                  "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_ip", "127.0.0.1", "--main_process_port", port]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run([*launch, "-m", "manyskills", "train", "--config", str(tmp_path / "config.json")],
                          capture_output=True, text=True, timeout=900, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    stats = Manifest.load(out).training["stats"]
    assert stats["replicas"] == 2 and stats["replicas_in_sync"] is True
    assert sum(stats["steps_by_skill"].values()) == 6
    # Only the main replica reports and writes.
    assert proc.stderr.count("adapter written to") == 1
    assert LocalRuntime.load(str(tiny_model_dir), str(out), "cpu").identity.adapter_trained


def test_replicas_stop_together_on_a_time_budget(tiny_dataset, tiny_model_dir, tmp_path):
    """The GPU recipe's time budget under data parallelism: each replica's own clock would stop them at
    different steps (a hang at the next all-reduce) and give them different learning rates (diverged
    weights); rank 0's clock rules, so they stop at the same step, bit-identical. LoRA from layer 0 too."""
    out = tmp_path / "adapter"
    config = {"dataset": str(tiny_dataset), "model": str(tiny_model_dir), "out": str(out), "steps": 100_000,
              "time_budget_s": 4, "batch_size": 4, "lora_layers": [0, 1, 2, 3], "feature_layer": 4,
              "max_tokens": 128, "warmup": 1, "checkpoint_every": 0, "review_share": 0.0,
              "skills": ["defect", "search"], "limits": {"defect": 40, "search": 6}, "activation_cache": None,
              "device": "cpu"}
    (tmp_path / "config.json").write_text(json.dumps(config))
    launch = [str(Path(sys.executable).parent / "torchrun"), "--nnodes", "1", "--nproc_per_node", "2",
              "--master_addr", "127.0.0.1", "--master_port", str(_free_port())]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run([*launch, "-m", "manyskills", "train", "--config", str(tmp_path / "config.json")],
                          capture_output=True, text=True, timeout=900, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    training = Manifest.load(out).training
    assert training["stats"]["stopped_by_time_budget"] is True and training["stats"]["replicas_in_sync"] is True
    assert 1 <= training["step"] < 100_000
