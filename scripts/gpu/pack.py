"""Pack what a lent GPU machine needs to train the adapter, in two carries that each fit one call.

The device machine has torch, transformers and peft but not our base model, the `gguf` and
`platformdirs` packages or the dataset, and each call carries at most 64 MiB (the repository's
tracked files included). The embedded GGUF alone is 94 MiB, so it travels in two parts on two
back-to-back calls (ignored files stay on the machine while it is warm):

    .gpu-a/  base.part1 + site/ (gguf, platformdirs)           -> call 1 (carry [".gpu-a"])
    .gpu-b/  base.part2 + dataset/*.jsonl.xz + quixbugs.jsonl  -> call 2 (carry [".gpu-b"]), runs train.sh

The dataset is a subset: every validation/test row the evaluation reads (so the device's held-out
numbers are on the same pairs as `manyskills eval` here), then as much training data as the second
call has room for, in whole (buggy, clean) pairs. QuixBugs travels for evaluation only.

    python scripts/gpu/pack.py [--dataset data-cache/dataset] [--quixbugs ../shared/bench/quixbugs.jsonl]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import lzma
import random
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CALL_LIMIT = 64 * 1024 * 1024
MARGIN = 1024 * 1024  # what else may appear in the tree before the call (logs, a new note)
# Pure Python, copied from this environment. attrs and typing_extensions travel because cattrs needs
# recent ones (attrs >= 25.4) and the machine's versions are not known; the rest is on the machine.
SITE_PACKAGES = ("gguf", "platformdirs", "cattrs", "attr", "attrs", "typing_extensions")
EVAL_ROWS = {"defects": ("valid", "test"), "changes": ("train", "valid", "test"),
             "history": ("train", "valid", "test"), "search": ("test",),
             "flaky": ("test",), "clones": ()}  # clone F1 needs 3 MiB of pairs: measure it here instead
# Training rows per skill (None = all), defects take what is left. Flaky keeps every positive (weak labels
# are rare: 773 in train) and this many negatives; the recipe trains on a balanced 1,600.
TRAIN_CAPS = {"search": None, "flaky": 4_000, "clones": 24_000}


class PackError(Exception):
    pass


def travelling_bytes() -> int:
    """Bytes of the tree a call sends: tracked files plus untracked files git does not ignore."""
    names = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                           capture_output=True).stdout.decode().split("\0")
    return sum((ROOT / n).stat().st_size for n in names if n and (ROOT / n).is_file())


def xz_rows(rows: list[str]) -> bytes:
    return lzma.compress("".join(rows).encode("utf-8"), preset=6)


def rows_by_split(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if not path.is_file():  # e.g. no history.jsonl in an older dataset
        return out
    with open(path, encoding="utf-8") as f:
        for line in f:
            out.setdefault(json.loads(line)["split"], []).append(line if line.endswith("\n") else line + "\n")
    return out


def sample_pairs(rows: list[str], n_pairs: int, seed: int) -> list[str]:
    groups: dict[str, list[str]] = {}
    for line in rows:
        row = json.loads(line)
        groups.setdefault(row.get("pair_id") or row["id"], []).append(line)
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    return [line for k in keys[:n_pairs] for line in groups[k]]


def copy_site(dest: Path) -> int:
    dest.mkdir(parents=True)
    for name in SITE_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or not (spec.submodule_search_locations or spec.origin):
            raise PackError(f"the package {name} is not installed here: pip install -e . first")
        if spec.submodule_search_locations:
            shutil.copytree(Path(next(iter(spec.submodule_search_locations))), dest / name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:  # a single-file module
            shutil.copy(spec.origin, dest / Path(spec.origin).name)
    return sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())


def pack(blob: bytes, dataset: Path, quixbugs: Path | None, root: Path, tree: int, call_limit: int = CALL_LIMIT,
         margin: int = MARGIN, max_defect_pairs: int = 60_000, seed: int = 0) -> dict:
    """Writes root/.gpu-a and root/.gpu-b so that each, plus the `tree` bytes every call sends, fits
    `call_limit`; returns the manifest (also written to .gpu-b/MANIFEST.json)."""
    a, b = root / ".gpu-a", root / ".gpu-b"
    for d in (a, b):
        shutil.rmtree(d, ignore_errors=True)
    site = copy_site(a / "site")
    part1 = call_limit - tree - site - margin
    if part1 <= 0 or part1 >= len(blob):
        raise PackError(f"the tree ({tree} bytes) and packages ({site}) leave no room to split the base model")
    (a / "base.part1").write_bytes(blob[:part1])
    b.mkdir()
    (b / "base.part2").write_bytes(blob[part1:])
    room = call_limit - tree - (len(blob) - part1) - margin

    split_rows = {name: rows_by_split(dataset / f"{name}.jsonl") for name in EVAL_ROWS}
    kept: dict[str, list[str]] = {name: [r for s in splits for r in split_rows[name].get(s, [])]
                                  for name, splits in EVAL_ROWS.items()}
    for name, cap in TRAIN_CAPS.items():
        train = split_rows[name].get("train", [])
        if cap is not None and name == "flaky":
            positives = [r for r in train if json.loads(r).get("label") == 1]
            negatives = [r for r in train if json.loads(r).get("label") != 1]
            train = positives + random.Random(seed).sample(negatives, min(cap, len(negatives)))
        elif cap is not None:
            train = random.Random(seed).sample(train, min(cap, len(train)))
        kept[name] += train
    used = 0
    if quixbugs is not None and quixbugs.is_file():
        shutil.copy(quixbugs, b / "quixbugs.jsonl")
        used += quixbugs.stat().st_size
    files = {name: xz_rows(kept[name]) for name in ("changes", "history", "search", "flaky", "clones")}
    used += sum(len(data) for data in files.values())
    # Defects fill what is left: estimate the pairs that fit from the compressed size, then shrink by 3 %
    # until the file fits (compressing 100 MB takes a minute, so estimate rather than bisect).
    defect_train = split_rows["defects"].get("train", [])
    eval_bytes = len(xz_rows(kept["defects"]))
    if used + eval_bytes > room:
        raise PackError(f"the evaluation rows alone exceed the second call's room ({room} bytes)")
    pairs = max_defect_pairs
    while True:
        files["defects"] = xz_rows(kept["defects"] + sample_pairs(defect_train, pairs, seed))
        if used + len(files["defects"]) <= room or pairs == 0:
            break
        per_pair = (len(files["defects"]) - eval_bytes) / max(1, pairs)
        pairs = max(0, min(int(pairs * 0.97), int((room - used - eval_bytes) / max(per_pair, 1e-9))))
    (b / "dataset").mkdir()
    for name, data in files.items():
        (b / "dataset" / f"{name}.jsonl.xz").write_bytes(data)
    manifest = {"base_sha256": hashlib.sha256(blob).hexdigest(), "base_bytes": len(blob), "part1_bytes": part1,
                "tree_bytes": tree, "defect_train_pairs": min(pairs, len(defect_train)),
                "rows": {name: lzma.decompress(data).count(b"\n") for name, data in files.items()},
                "carry_bytes": {d.name: sum(p.stat().st_size for p in d.rglob("*") if p.is_file()) for d in (a, b)}}
    (b / "MANIFEST.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="data-cache/dataset")
    ap.add_argument("--quixbugs", default="../shared/bench/quixbugs.jsonl")
    ap.add_argument("--gguf", default=None, help="the embedded GGUF (default: the verified one in the cache)")
    ap.add_argument("--max-defect-pairs", type=int, default=60_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    from manyskills.model.base import EMBEDDED_GGUF_SHA256, _locate_gguf

    gguf = Path(args.gguf) if args.gguf else _locate_gguf(lambda *a: None)
    blob = gguf.read_bytes()
    if hashlib.sha256(blob).hexdigest() != EMBEDDED_GGUF_SHA256:
        print(f"pack: {gguf} is not the embedded base model (sha256 mismatch)", file=sys.stderr)
        return 2
    tree = travelling_bytes()
    try:
        manifest = pack(blob, Path(args.dataset), Path(args.quixbugs), ROOT, tree,
                        max_defect_pairs=args.max_defect_pairs, seed=args.seed)
    except PackError as exc:
        print(f"pack: {exc}", file=sys.stderr)
        return 2
    for name, size in manifest["carry_bytes"].items():
        print(f"{name}: {size / 2**20:.1f} MiB + tree {tree / 2**20:.1f} MiB = "
              f"{(size + tree) / 2**20:.1f} MiB of {CALL_LIMIT / 2**20:.0f}")
    print(json.dumps(manifest["rows"]), f"defect training pairs: {manifest['defect_train_pairs']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
