"""scripts/gpu/pack.py: the two carries for a lent GPU machine each fit one call, and nothing is lost."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import lzma
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("gpu_pack", ROOT / "scripts" / "gpu" / "pack.py")
pack_mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pack_mod)


def _dataset(path: Path) -> Path:
    path.mkdir()
    rng = os.urandom  # incompressible code text, so the room really runs out
    defects = []
    for split, n in (("train", 300), ("valid", 20), ("test", 20)):
        for i in range(n):
            code = rng(60).hex()
            for label in (0, 1):
                defects.append({"id": f"{split}{i}{label}", "pair_id": f"{split}-{i}", "split": split, "label": label,
                                "language": "python", "code": code if label == 0 else code + "x"})
    (path / "defects.jsonl").write_text("".join(json.dumps(r) + "\n" for r in defects))
    for name in ("search", "flaky", "clones", "changes"):
        rows = [{"id": f"{name}{i}", "split": ("train", "test", "valid")[i % 3], "code": rng(20).hex(),
                 "label": int(i % 9 == 0)} for i in range(30)]
        (path / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_carries_fit_each_call_and_keep_every_evaluation_row(tmp_path):
    dataset = _dataset(tmp_path / "dataset")
    quixbugs = tmp_path / "quixbugs.jsonl"
    quixbugs.write_text('{"id": "q"}\n')
    site = pack_mod.copy_site(tmp_path / "site-probe")
    # Call 1 carries the packages and part 1; call 2 part 2 and the data, with room for about 28 kB of it.
    limit, tree = site + 200_000, 20_000
    blob = os.urandom(site + 330_000)
    manifest = pack_mod.pack(blob, dataset, quixbugs, tmp_path, tree, call_limit=limit, margin=1_000)

    a, b = tmp_path / ".gpu-a", tmp_path / ".gpu-b"
    for d in (a, b):
        assert sum(p.stat().st_size for p in d.rglob("*") if p.is_file()) + tree <= limit
    # The base model is whole again when the parts are joined, as train.sh does.
    joined = (a / "base.part1").read_bytes() + (b / "base.part2").read_bytes()
    assert hashlib.sha256(joined).digest() == hashlib.sha256(blob).digest()
    assert (a / "site" / "gguf").is_dir() and (b / "quixbugs.jsonl").is_file()

    rows = [json.loads(line) for line in lzma.decompress((b / "dataset" / "defects.jsonl.xz").read_bytes()).splitlines()]
    # Every validation and test row travels (the evaluation samples from all of them) ...
    assert sum(r["split"] in ("valid", "test") for r in rows) == 80
    # ... and training rows fill the rest in whole (buggy, clean) pairs, fewer than all 300 here.
    train = [r for r in rows if r["split"] == "train"]
    pairs = {}
    for r in train:
        pairs.setdefault(r["pair_id"], set()).add(r["label"])
    assert 0 < len(pairs) < 300 and all(labels == {0, 1} for labels in pairs.values())
    assert manifest["defect_train_pairs"] == len(pairs)


def test_flaky_negatives_are_capped_but_every_positive_travels(tmp_path, monkeypatch):
    dataset = _dataset(tmp_path / "dataset")
    site = pack_mod.copy_site(tmp_path / "site-probe")
    monkeypatch.setitem(pack_mod.TRAIN_CAPS, "flaky", 2)
    pack_mod.pack(os.urandom(site + 100_000), dataset, None, tmp_path, 0, call_limit=site + 200_000, margin=0)
    rows = lzma.decompress((tmp_path / ".gpu-b" / "dataset" / "flaky.jsonl.xz").read_bytes()).splitlines()
    train = [json.loads(line) for line in rows if json.loads(line)["split"] == "train"]
    # 10 training rows, 4 of them positive: all 4 positives and 2 of the 6 negatives travel.
    assert sorted(r["label"] for r in train) == [0, 0, 1, 1, 1, 1]


def test_a_call_too_small_for_the_evaluation_rows_is_refused(tmp_path):
    dataset = _dataset(tmp_path / "dataset")
    site = pack_mod.copy_site(tmp_path / "site-probe")
    with pytest.raises(pack_mod.PackError, match="evaluation rows"):
        pack_mod.pack(os.urandom(site + 395_000), dataset, None, tmp_path, 0, call_limit=site + 200_000, margin=0)
