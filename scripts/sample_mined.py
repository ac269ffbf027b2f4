"""Uniform random sample of commit-mined fix pairs, printed as diffs for reading (issue 18 precision).

Usage:
    python scripts/sample_mined.py [--n 100] [--seed 0] [--json OUT] [FILE.jsonl ...]

Without FILE arguments it reads /tmp/h3/merged.jsonl and every
/work/main/data-cache/mined/*.jsonl whose .stats.json exists (a file without one is still being
mined and may be half written). Pairs are keyed by pair_id, so a pair present in several files is
counted once; the sample is uniform over pairs (no stratification), drawn with random.Random(seed)
from the pair ids in sorted order so the same inputs always give the same sample.

Each pair prints as: repository, commit, tag, language, path:function, the commit message
(the miner's `note`), and a unified diff buggy -> fixed of the whole function, with the
miner's bug lines marked. --json writes the sampled pairs' metadata for recording judgments.
"""

from __future__ import annotations

import argparse
import difflib
import json
import random
import sys
from pathlib import Path

DEFAULT_FILES = [Path("/tmp/h3/merged.jsonl")]
MINED_DIR = Path("/work/main/data-cache/mined")


def finished_mined_files() -> list[Path]:
    """Per-repository files whose miner run has finished (its .stats.json is written last)."""
    return sorted(p for p in MINED_DIR.glob("*.jsonl") if p.with_suffix(".stats.json").exists())


def load_pairs(files: list[Path]) -> dict[str, dict[int, dict]]:
    """pair_id -> {label: row}; only complete pairs (both sides present) are kept."""
    pairs: dict[str, dict[int, dict]] = {}
    for path in files:
        with path.open() as fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                row = json.loads(line)
                pairs.setdefault(row["pair_id"], {}).setdefault(row["label"], row)
    return {pid: sides for pid, sides in pairs.items() if 0 in sides and 1 in sides}


def render(index: int, pid: str, sides: dict[int, dict]) -> str:
    buggy, fixed = sides[1], sides[0]
    marked = {i for i in buggy.get("bug_lines") or []}
    header = [
        f"=== [{index}] pair {pid}",
        f"repo: {buggy.get('repository')}  commit: {buggy.get('commit')}",
        f"tag: {buggy.get('tag')}  language: {buggy.get('language')}  "
        f"path: {buggy.get('path')}:{buggy.get('function')}  bug_lines: {sorted(marked)}",
        "message: " + (buggy.get("note") or "").strip().replace("\n", "\n         "),
    ]
    diff = difflib.unified_diff(
        buggy["code"].splitlines(),
        fixed["code"].splitlines(),
        fromfile="buggy",
        tofile="fixed",
        n=4,
        lineterm="",
    )
    return "\n".join(header + list(diff)) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write the sampled pairs' metadata here")
    args = parser.parse_args(argv)

    files = args.files or DEFAULT_FILES + finished_mined_files()
    pairs = load_pairs(files)
    ids = sorted(pairs)
    sample = random.Random(args.seed).sample(ids, min(args.n, len(ids)))
    print(f"# {len(ids)} pairs in {len(files)} files: {', '.join(str(f) for f in files)}")
    print(f"# sample of {len(sample)} (seed {args.seed})\n")
    meta = []
    for i, pid in enumerate(sample, 1):
        print(render(i, pid, pairs[pid]))
        b = pairs[pid][1]
        meta.append({
            "index": i, "pair_id": pid, "repo": b.get("repository"), "commit": b.get("commit"),
            "path": b.get("path"), "function": b.get("function"), "language": b.get("language"),
            "tag": b.get("tag"), "subject": next(iter((b.get("note") or "").strip().splitlines()), ""),
        })
    if args.json:
        args.json.write_text(json.dumps(meta, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
