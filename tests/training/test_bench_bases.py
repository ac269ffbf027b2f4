"""bench/_bases.py, the side-by-side speed benchmarks' helpers: score change between two runs, the
padding of length-sorted vs file-order passes (sorted must be the engine's own plan), the FLOP floor's
parameter count read from files (must equal the count on the loaded runtime), an untrained adapter of a
recipe's shape written by the trainer's code, and dynamic int8 on the feature-layer stack."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from manyskills.model.batching import batch_plan

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str):
    sys.path.insert(0, str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bases():
    return _load("_bases")


def test_score_change_identical_runs(bases):
    scores = {"a": [0.1, 2], "b": [0.9, 0], "c": [0.5, 1]}
    change = bases.score_change(scores, dict(scores))
    assert change == {"functions": 3, "max_abs_diff": 0.0, "mean_abs_diff": 0.0, "top_line_agreement": 1.0,
                      "spearman": pytest.approx(1.0)}


def test_score_change_counts_only_shared_functions(bases):
    reference = {"a": [0.1, 2], "b": [0.9, 0], "c": [0.5, 1], "only-here": [0.0, 0]}
    other = {"a": [0.2, 2], "b": [0.6, 3], "c": [0.55, 1], "only-there": [1.0, 0]}
    change = bases.score_change(reference, other)
    assert change["functions"] == 3
    assert change["max_abs_diff"] == pytest.approx(0.3)
    assert change["mean_abs_diff"] == pytest.approx((0.1 + 0.3 + 0.05) / 3)
    assert change["top_line_agreement"] == pytest.approx(2 / 3)
    assert change["spearman"] == pytest.approx(1.0)  # the order a < c < b is kept
    assert bases.score_change({"x": [0.0, 0]}, {"y": [0.0, 0]}) == {"functions": 0}


def test_spearman_reversed_and_ties(bases):
    assert bases.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # ties share their mean rank: ranks a = [0, 1.5, 1.5, 3], b = [0, 1, 2, 3]
    assert bases.spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(0.9486832980505138)


@pytest.mark.parametrize("lengths", [[5, 300, 12, 12, 40, 700, 33, 9, 250, 64, 64, 3000, 1, 80] * 3, [17], []])
def test_length_sorted_padding_is_the_engine_plan(bases, lengths):
    padded, passes = bases.padded_tokens(lengths, True, 16, 4096, 8)
    plan = batch_plan(lengths, 16, 4096)
    assert passes == len(plan)
    assert padded == sum(len(g) * (-(-max(lengths[i] for i in g) // 8) * 8) for g in plan)


def test_file_order_padding(bases):
    # in file order the long row widens the passes it falls into; sorted, the short rows share one pass
    lengths = [8, 100, 8, 8, 100, 8]
    assert bases.padded_tokens(lengths, False, 3, 4096, 8) == (2 * 3 * 104, 2)  # 100 pads to 104
    assert bases.padded_tokens(lengths, True, 3, 4096, 8) == (3 * 8 + 3 * 104, 2)
    # the token budget cuts a pass when rows x widest would exceed it
    assert bases.padded_tokens([10, 10, 1000, 10], False, 16, 1500, 1) == (10 * 2 + 1000 + 10, 3)


def test_table_aligns_and_marks_missing(bases):
    lines = bases.table([("name", ""), ("x", ".1f")], [{"name": "a", "x": 1.25}, {"name": "long", "x": None}])
    assert lines == ["name    x", "a     1.2", "long    -"]


def test_adapters_arg_must_align(bases):
    assert bases.adapters_arg(None, ["a", "b"]) == [None, None]
    assert bases.adapters_arg(",/x", ["a", "b"]) == [None, "/x"]
    with pytest.raises(SystemExit):
        bases.adapters_arg("/x", ["a", "b"])


def test_untrained_recipe_adapter_parameter_count_and_int8(bases, tiny_model_dir, tmp_path, monkeypatch):
    """The recipe's shape reaches the runtime; the file-based count equals the runtime's; int8 replaces
    the Linear layers of exactly the layers that run and moves the scores only a little."""
    import torch

    from manyskills.model.base import resolve_base
    from manyskills.model.runtime import FunctionInput, LocalRuntime

    throughput = _load("throughput")
    recipe = tmp_path / "train-config-tiny.json"
    recipe.write_text(json.dumps({"model": str(tiny_model_dir), "feature_layer": 3, "lora_layers": [1, 2],
                                  "max_tokens": 64}))
    adapter = bases.make_untrained_adapter(recipe, tmp_path / "adapter")
    manifest = json.loads((adapter / "manyskills.json").read_text())
    assert (manifest["feature_layer"], manifest["lora_layers"], manifest["max_tokens"]) == (3, [1, 2], 64)
    assert manifest["trained"] is False

    monkeypatch.delenv("MANYSKILLS_ADAPTER", raising=False)
    monkeypatch.setenv("MANYSKILLS_DTYPE", "float32")
    runtime = LocalRuntime.load(str(tiny_model_dir), str(adapter), "cpu")
    assert runtime.feature_layer == 3
    from_files = bases.parameters_used_per_token_files(resolve_base(str(tiny_model_dir)).path, str(adapter))
    assert from_files == throughput.parameters_used_per_token(runtime)
    # without an adapter the runtime's default manifest runs every layer: a larger count
    assert bases.parameters_used_per_token_files(resolve_base(str(tiny_model_dir)).path, None) > from_files

    items = [FunctionInput("python", f"def f{i}(x):\n    y = x + {i}\n    return y * 2\n") for i in range(6)]
    before = runtime.analyse(items)
    states, mask = bases.feature_states_of(runtime, items)
    assert bases.quantize_feature_stack(runtime) == 3
    dynamic = torch.ao.nn.quantized.dynamic.Linear
    for i, layer in enumerate(runtime._decoder.layers):
        int8 = [m for m in layer.modules() if isinstance(m, dynamic)]
        plain = [m for m in layer.modules() if type(m) is torch.nn.Linear]
        # the layers that run are int8 throughout; the ones above the feature layer never run: untouched
        assert (bool(int8), bool(plain)) == ((True, False) if i < 3 else (False, True)), i
    after = runtime.analyse(items)
    change = bases.score_change({str(i): [a.defect_score, a.bug_line] for i, a in enumerate(before)},
                                {str(i): [a.defect_score, a.bug_line] for i, a in enumerate(after)})
    assert change["functions"] == 6
    assert 0 < change["max_abs_diff"] < 0.05
    drift = bases.state_drift(states, bases.feature_states_of(runtime, items)[0], mask)
    assert drift["tokens"] == sum(runtime.count_tokens(item) for item in items)
    assert 0 < drift["mean_rel_err"] < 0.2 and drift["mean_cos"] > 0.98


def test_state_drift_counts_only_real_tokens(bases):
    import torch

    reference = torch.tensor([[[3.0, 4.0], [1.0, 0.0]], [[0.0, 2.0], [9.0, 9.0]]])
    other = torch.tensor([[[3.0, 4.0], [0.0, 1.0]], [[0.0, 1.0], [-50.0, 7.0]]])
    mask = torch.tensor([[True, True], [True, False]])  # the last token is padding: its error is ignored
    drift = bases.state_drift(reference, other, mask)
    assert drift["tokens"] == 3
    assert drift["max_rel_err"] == pytest.approx(2 ** 0.5)  # [1, 0] -> [0, 1]
    assert drift["mean_rel_err"] == pytest.approx((0 + 2 ** 0.5 + 0.5) / 3)
    assert drift["min_cos"] == pytest.approx(0.0)
    assert drift["mean_cos"] == pytest.approx(2 / 3)
