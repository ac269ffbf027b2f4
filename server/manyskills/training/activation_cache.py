"""On-disk cache of frozen lower-layer activations, shared by training runs.

Caching the input of the first adapted layer is the expensive part of CPU training (about 40 % of a
run here); it depends only on the base model, the number of frozen layers, the prompts and the token
budget, so every run with the same recipe (the shipped adapter, the single-task baselines of the
paper's experiment, resumed runs) reuses it. One safetensors file holds all activations as a single
[tokens, hidden] tensor; a JSON index maps each sequence key to its slice. Safetensors only: nothing
in the cache can execute code when loaded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import torch

log = logging.getLogger(__name__)
HIDDEN_FILE = "activations.safetensors"
INDEX_FILE = "index.json"


def key_digest(key: tuple) -> str:
    return hashlib.sha1(json.dumps(list(key), ensure_ascii=False).encode("utf-8")).hexdigest()


def recipe_fingerprint(**recipe) -> str:
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode("utf-8")).hexdigest()[:16]


class ActivationStore:
    """Activations for one recipe (fingerprint) under `root/<fingerprint>/`."""

    def __init__(self, root: Path, fingerprint: str):
        self.dir = Path(root) / fingerprint
        self.fingerprint = fingerprint

    def load(self) -> dict[str, dict]:
        """digest -> {"hidden": Tensor[T, H], "token_line", "n_lines", "labels"}; empty when absent or unreadable."""
        from safetensors.torch import load_file

        index_path, hidden_path = self.dir / INDEX_FILE, self.dir / HIDDEN_FILE
        if not index_path.is_file() or not hidden_path.is_file():
            return {}
        try:
            index = json.loads(index_path.read_text())
            hidden = load_file(str(hidden_path))["hidden"]
        except (OSError, ValueError, KeyError) as exc:
            log.warning("activation cache %s unreadable (%s); recomputing", self.dir, exc)
            return {}
        entries = {}
        for digest, meta in index["entries"].items():
            start, length = meta["offset"], meta["length"]
            if start + length > hidden.shape[0]:
                continue
            entries[digest] = {"hidden": hidden[start:start + length], "token_line": meta["token_line"],
                               "n_lines": meta["n_lines"], "labels": meta["labels"]}
        return entries

    def save(self, entries: dict[str, dict]) -> None:
        """Writes all entries atomically (temporary names, then rename)."""
        from safetensors.torch import save_file

        self.dir.mkdir(parents=True, exist_ok=True)
        index, chunks, offset = {}, [], 0
        for digest, e in entries.items():
            length = int(e["hidden"].shape[0])
            index[digest] = {"offset": offset, "length": length, "token_line": e["token_line"],
                             "n_lines": e["n_lines"], "labels": e["labels"]}
            chunks.append(e["hidden"])
            offset += length
        hidden = torch.cat(chunks).contiguous() if chunks else torch.zeros((0, 1), dtype=torch.bfloat16)
        tmp_hidden, tmp_index = self.dir / (HIDDEN_FILE + ".tmp"), self.dir / (INDEX_FILE + ".tmp")
        save_file({"hidden": hidden}, str(tmp_hidden))
        tmp_index.write_text(json.dumps({"fingerprint": self.fingerprint, "entries": index}))
        os.replace(tmp_hidden, self.dir / HIDDEN_FILE)
        os.replace(tmp_index, self.dir / INDEX_FILE)
