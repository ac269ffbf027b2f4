"""Running the speed benchmarks on several bases side by side: which adapter each base runs with, the
FLOP floor's parameter count read from files, dynamic int8 quantisation of the feature-layer stack, and
how far quantised scores move from the unquantised ones.

Speed depends on the base, the adapter manifest's shape (feature layer = early exit, max_tokens) and the
batching, not on trained weights: serving merges the LoRA into the base once, so a base without a
trained adapter is measured with a throwaway untrained adapter made by the trainer's own code from the
base's recipe (models/train-config-<name>.json). Its scores are random but its speed is the trained one's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from _common import ROOT


@dataclass(frozen=True)
class BenchAdapter:
    path: str | None  # None: the runtime's default manifest (every decoder layer, no trained heads)
    how: str  # "given", "shipped", "untrained (recipe ...)", "none"
    trained: bool


def recipe_path(model: str) -> Path:
    return ROOT / "models" / f"train-config-{model}.json"


def bench_adapter(model: str, given: str | None, scratch: Path) -> BenchAdapter:
    """The adapter `model` is benchmarked with: the one given, else the one shipped for it, else an
    untrained adapter of its recipe's shape written under `scratch`, else none."""
    from manyskills.model.adapter import AdapterError, Manifest
    from manyskills.model.paths import shipped_adapters

    if given:
        try:
            trained = Manifest.load(Path(given)).trained
        except AdapterError:
            trained = False
        return BenchAdapter(given, "given", trained)
    shipped = shipped_adapters().get(model)
    if shipped is not None:
        return BenchAdapter(str(shipped), "shipped", Manifest.load(shipped).trained)
    recipe = recipe_path(model)
    if recipe.is_file():
        out = scratch / f"untrained-{model}"
        if not (out / "manyskills.json").is_file():
            make_untrained_adapter(recipe, out)
        return BenchAdapter(str(out), f"untrained ({recipe.name}; speed as trained)", False)
    return BenchAdapter(None, "none (all layers: no adapter, no recipe)", False)


def make_untrained_adapter(recipe: Path, out: Path) -> Path:
    """An adapter directory of the recipe's shape (feature layer, LoRA layers and rank, max_tokens) as the
    trainer writes it after zero steps: LoRA B is zero (merging changes nothing), the heads are seeded."""
    import gc

    from manyskills.training.config import TrainConfig
    from manyskills.training.trainer import Trainer

    config = TrainConfig.from_file(str(recipe), out=str(out), activation_cache=None, device="cpu",
                                   version="bench-untrained")
    trainer = Trainer(config, progress=lambda _msg: None)
    trainer.manifest.trained = False  # the trainer marks what it writes as trained; this one is not
    trainer.save(out, extra={"note": "written by bench/_bases.py for speed measurements only"})
    del trainer
    gc.collect()
    return out


# ---------------------------------------------------------------------------------------------- FLOP floor
def feature_layer_of(adapter_dir: str | None, n_layers: int) -> int:
    """The runtime's early-exit layer for this adapter (LocalRuntime's clamp of the manifest's value)."""
    from manyskills.model.adapter import Manifest

    layer = Manifest.load(Path(adapter_dir)).feature_layer if adapter_dir else Manifest("", "").feature_layer
    return max(1, min(layer, n_layers))


def parameters_used_per_token_files(base_dir: Path, adapter_dir: str | None) -> int:
    """What `throughput.parameters_used_per_token` counts on a loaded runtime, read from the safetensors
    headers instead (for a process that never loads the model, such as the LSP client): decoder layers
    below the feature layer, plus the per-token defect head and its norm."""
    from manyskills.model.adapter import Manifest
    from manyskills.model.heads import HeadConfig, SkillHeads
    from safetensors import safe_open

    config = json.loads((base_dir / "config.json").read_text())
    feature_layer = feature_layer_of(adapter_dir, int(config["num_hidden_layers"]))
    count = 0
    for file in sorted(base_dir.glob("*.safetensors")):
        with safe_open(str(file), "numpy") as handle:
            for key in handle.keys():  # noqa: SIM118 (not a dict)
                parts = key.split(".")
                if "layers" in parts:
                    index = int(parts[parts.index("layers") + 1])
                    if index < feature_layer:
                        shape = handle.get_slice(key).get_shape()
                        n = 1
                        for dim in shape:
                            n *= int(dim)
                        count += n
    manifest = Manifest.load(Path(adapter_dir)) if adapter_dir else Manifest("", "")
    heads = SkillHeads(HeadConfig(int(config["hidden_size"]), manifest.head_inner, manifest.embed_dim))
    count += sum(p.numel() for p in heads.token_bug.parameters()) + sum(p.numel() for p in heads.norm.parameters())
    return count


# ---------------------------------------------------------------------------------------------- int8
def quantize_feature_stack(runtime) -> int:
    """Dynamic int8 (weights int8, activations quantised per batch) for every nn.Linear in the decoder
    layers the runtime runs; returns how many layers were quantised. The model must be float32."""
    layers = runtime._decoder.layers
    for i in range(runtime.feature_layer):
        layers[i] = quantize_linear_int8(layers[i])
    return runtime.feature_layer


def quantize_linear_int8(module):
    """torch.ao's dynamic int8 quantisation of `module`'s nn.Linear layers (its deprecation notice for
    torchao, not installed here, is silenced: this is the eager-mode path torch still ships)."""
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        from torch.ao.quantization import quantize_dynamic

        return quantize_dynamic(module, {torch.nn.Linear}, dtype=torch.qint8)


def feature_states_of(runtime, items) -> tuple:
    """(hidden states after the feature layer [B, T, H] as float32, token mask [B, T]) for `items`,
    padded as the runtime pads a batch: what the heads read."""
    import torch

    encoded = [runtime.encode_code(item) for item in items]
    ids = runtime._pad([e[0] for e in encoded], runtime.tokenizer.pad_token_id)
    mask = runtime._pad([[1] * len(e[0]) for e in encoded], 0)
    with torch.inference_mode():
        states = runtime.feature_states(ids, mask)
    return states.float(), mask.bool()


def state_drift(reference, other, mask) -> dict:
    """How far `other`'s feature-layer states are from `reference`'s over the real (unmasked) tokens:
    relative L2 error per token (mean, max) and cosine similarity per token (mean, min). Independent
    of the heads, so it judges a quantisation before any adapter for the base is trained."""
    import torch

    ref, oth = reference[mask].float(), other[mask].float()
    rel = (oth - ref).norm(dim=-1) / ref.norm(dim=-1).clamp_min(1e-12)
    cos = torch.nn.functional.cosine_similarity(oth, ref, dim=-1)
    return {"tokens": int(mask.sum()), "mean_rel_err": float(rel.mean()), "max_rel_err": float(rel.max()),
            "mean_cos": float(cos.mean()), "min_cos": float(cos.min())}


def score_change(reference: dict[str, list], other: dict[str, list]) -> dict:
    """How far `other`'s scores are from `reference`'s on the functions both scored (content hash ->
    [defect score, bug line]): max/mean absolute defect-score difference, share of functions whose top
    (bug) line is the same, and Spearman rank correlation of the defect scores."""
    common = sorted(set(reference) & set(other))
    if not common:
        return {"functions": 0}
    diffs = [abs(reference[k][0] - other[k][0]) for k in common]
    same_line = sum(reference[k][1] == other[k][1] for k in common)
    return {
        "functions": len(common),
        "max_abs_diff": max(diffs),
        "mean_abs_diff": sum(diffs) / len(diffs),
        "top_line_agreement": same_line / len(common),
        "spearman": spearman([reference[k][0] for k in common], [other[k][0] for k in common]),
    }


def _ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2  # ties share their mean rank
        i = j + 1
    return ranks


def spearman(a: list[float], b: list[float]) -> float:
    ra, rb = _ranks(a), _ranks(b)
    n = len(a)
    if n < 2:
        return 1.0
    ma, mb = sum(ra) / n, sum(rb) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va = sum((x - ma) ** 2 for x in ra) ** 0.5
    vb = sum((y - mb) ** 2 for y in rb) ** 0.5
    return cov / (va * vb) if va and vb else 1.0


# ---------------------------------------------------------------------------------------------- tables
def table(columns: list[tuple[str, str]], rows: list[dict]) -> list[str]:
    """Right-aligned text table: `columns` are (header, format spec applied to row[header]); a missing
    value prints as '-'."""
    cells = [[h for h, _ in columns]]
    for row in rows:
        cells.append([("-" if row.get(h) is None else format(row[h], spec)) for h, spec in columns])
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    return ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in cells]


def models_arg(value: str | None, default: str) -> list[str]:
    return [m.strip() for m in (value or default).split(",") if m.strip()]


def adapters_arg(value: str | None, models: list[str]) -> list[str | None]:
    """--adapters aligned with --models; an empty entry means "choose as bench_adapter does"."""
    if not value:
        return [None] * len(models)
    given = [a.strip() or None for a in value.split(",")]
    if len(given) != len(models):
        raise SystemExit(f"--adapters has {len(given)} entries for {len(models)} models (leave an entry empty "
                         "to let the bench choose)")
    return given


# ---------------------------------------------------------------------------------------------- batching
def padded_tokens(lengths: list[int], sort_by_length: bool, max_batch: int, token_budget: int,
                  pad_multiple: int) -> tuple[int, int]:
    """(padded tokens, passes) when `lengths` are cut into passes under the engine's rule (at most
    `max_batch` rows, rows x widest row within `token_budget`, at least one row), in length order as the
    engine does or in the given (file) order; widths round up to `pad_multiple` as the runtime pads."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i]) if sort_by_length else list(range(len(lengths)))
    total, passes, start = 0, 0, 0
    while start < len(order):
        end, widest = start + 1, lengths[order[start]]
        while end < len(order) and end - start < max_batch:
            wider = max(widest, lengths[order[end]])
            if (end - start + 1) * wider > token_budget:
                break
            end, widest = end + 1, wider
        total += (end - start) * (-(-widest // pad_multiple) * pad_multiple)
        passes += 1
        start = end
    return total, passes
