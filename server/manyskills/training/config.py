"""`manyskills train`'s options: one dataclass, read from a JSON recipe with command-line overrides.
The recipe is saved in the adapter's manifest (`training.config`), so every key here is part of what
an adapter records about how it was made."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class TrainConfig:
    dataset: str = "data-cache/dataset"
    out: str = "models/smollm2-135m"
    model: str | None = None  # base model directory; None = embedded default
    skills: list[str] = field(default_factory=lambda: ["defect", "review", "clone", "search", "flaky"])
    lora_rank: int = 8
    lora_alpha: int = 16
    lora_layers: list[int] = field(default_factory=lambda: [20, 21, 22, 23])
    feature_layer: int = 24
    max_tokens: int = 256
    steps: int = 1200
    time_budget_s: float | None = None  # stop training (and finish the LR schedule) after this many seconds
    deadline: float | None = None  # ... or at this Unix time, whichever comes first (a lent machine's call limit)
    batch_size: int = 16
    review_batch_size: int = 4
    lr_lora: float = 2e-4
    lr_heads: float = 1e-3
    warmup: int = 50
    temperature: float = 2.0
    review_share: float = 0.08
    # share of each defect batch's pairs drawn from real patch-release fixes (history.jsonl); None =
    # those fixes are not used at all (the recipes before they existed)
    real_fix_share: float | None = None
    limits: dict[str, int] = field(default_factory=lambda: {"defect": 10000, "search": 2000, "clone": 3000,
                                                            "flaky": 1500})
    review_examples: int = 600
    seed: int = 0
    checkpoint_every: int = 200
    activation_cache: str | None = "data-cache/activations"  # None = keep activations in memory only
    device: str = "auto"
    # start from this adapter's LoRA and heads (its LoRA layers, rank and alpha replace the ones above):
    # `manyskills adapt` continues the shipped adapter on a project's own fixes
    init_adapter: str | None = None
    version: str = "0.1.0"

    @classmethod
    def from_file(cls, path: str | None, **overrides) -> TrainConfig:
        raw = json.loads(Path(path).read_text()) if path else {}
        raw.update({k: v for k, v in overrides.items() if v is not None})
        known = set(cls.__dataclass_fields__)
        unknown = set(raw) - known
        if unknown:
            raise ValueError(f"unknown training options: {sorted(unknown)}")
        return cls(**raw)
