"""Uniform random sample of commit-mined fix pairs, printed as diffs for reading (issue 18 precision).

Usage:
    python scripts/sample_mined.py [--n 100] [--seed 0] [--json OUT] [FILE.jsonl ...]
    python scripts/sample_mined.py --summarize bench/results/mined_precision.json

Without FILE arguments it reads /tmp/h3/merged.jsonl and every
/work/main/data-cache/mined/*.jsonl whose .stats.json exists (a file without one is still being
mined and may be half written). Pairs are keyed by pair_id, so a pair present in several files is
counted once; the sample is uniform over pairs (no stratification), drawn with random.Random(seed)
from the pair ids in sorted order so the same inputs always give the same sample.

Each pair prints as: repository, commit, tag, language, path:function, the commit message
(the miner's `note`), and a unified diff buggy -> fixed of the whole function, with the
miner's bug lines marked. --json writes the sampled pairs' metadata for recording judgments.

--summarize reads a judged sample ({"pairs": [{..., "verdict": ...}]}), recomputes the counts per
verdict overall, per language, per tag and per tag group, and the Wilson interval of the bug-fix
share, writes them into the file's "summary" and prints a table.
"""

from __future__ import annotations

import argparse
import difflib
import json
import math
import random
import sys
from collections import Counter
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
        f"tag: {buggy.get('tag')}  language: {buggy.get('language')}",
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


VERDICTS = ("bug-fix", "refactor", "feature", "other", "unclear")
# Tags naming one concrete operator (a condition, an argument, a name...) vs the catch-all classes
# where the miner only knows that statements were added or removed, or nothing at all.
TAG_GROUPS = {"other": "other", "missing_statement": "statement", "extra_statement": "statement"}


def tag_group(tag: str | None) -> str:
    return TAG_GROUPS.get(tag or "other", "operator")


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval for a binomial proportion (sound at small n and p near 0 or 1)."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (round(centre - half, 4), round(centre + half, 4))


def summarize(pairs: list[dict]) -> dict:
    def block(rows: list[dict]) -> dict:
        counts = Counter(r["verdict"] for r in rows)
        fixes = counts.get("bug-fix", 0)
        return {
            "n": len(rows),
            "counts": {v: counts.get(v, 0) for v in VERDICTS},
            "bug_fix_share": round(fixes / len(rows), 4) if rows else None,
            "wilson95": wilson(fixes, len(rows)),
        }

    def by(key) -> dict:
        groups: dict[str, list[dict]] = {}
        for r in pairs:
            groups.setdefault(key(r), []).append(r)
        return {k: block(v) for k, v in sorted(groups.items(), key=lambda kv: -len(kv[1]))}

    return {
        "overall": block(pairs),
        "per_language": by(lambda r: r["language"]),
        "per_tag_group": by(lambda r: tag_group(r["tag"])),
        "per_tag": by(lambda r: r["tag"]),
        "per_repo": by(lambda r: r["repo"]),
    }


def print_summary(summary: dict) -> None:
    head = f"{'':28s} {'n':>4s} " + " ".join(f"{v:>8s}" for v in VERDICTS) + "  fix share [95% Wilson]"
    for section in ("overall", "per_language", "per_tag_group", "per_tag", "per_repo"):
        print(f"\n## {section}\n{head}")
        rows = {"all": summary[section]} if section == "overall" else summary[section]
        for name, b in rows.items():
            lo, hi = b["wilson95"]
            cells = " ".join(f"{b['counts'][v]:8d}" for v in VERDICTS)
            print(f"{name:28s} {b['n']:4d} {cells}  {b['bug_fix_share']:.2f} [{lo:.2f}, {hi:.2f}]")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write the sampled pairs' metadata here")
    parser.add_argument("--summarize", type=Path, help="recompute the summary of a judged sample")
    args = parser.parse_args(argv)

    if args.summarize:
        judged = json.loads(args.summarize.read_text())
        unknown = {p["verdict"] for p in judged["pairs"]} - set(VERDICTS)
        if unknown:
            parser.error(f"unknown verdicts {sorted(unknown)}; expected {VERDICTS}")
        judged["summary"] = summarize(judged["pairs"])
        args.summarize.write_text(json.dumps(judged, indent=1) + "\n")
        print_summary(judged["summary"])
        return 0

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
