"""`manyskills adapt --evaluate` on several repositories: the per-repository table of issue 21 (shipped
vs project adapter on the most recent 20 % of each repository's own fix commits) with the command's
wall time and peak memory on this machine.

Each repository is a mirror fetched for the history corpus (`server/manyskills/data/history_repos.json`
names it, its licence and path); reserved evaluation projects are refused (`data/denylist.py`). One
`manyskills adapt` process per repository, run under `/usr/bin/time -v` for its peak RSS; outputs go
to `data-cache/adapt/<owner>+<name>/`. Resumable: a repository whose result is in the JSON is skipped.

    python bench/adapt_table.py tmux/tmux vitest-dev/vitest alibaba/nacos go-gorm/gorm nodejs/undici \
        --json bench/results/adapt_table.json            # default budget: adapt's own (10 minutes)
    python bench/adapt_table.py --table bench/results/adapt_table.json   # print the markdown table
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))

from manyskills.data.denylist import is_denied


def _mirror(repo: str) -> dict:
    repos = {r["repo"]: r for r in json.loads((ROOT / "server/manyskills/data/history_repos.json").read_text())["repos"]}
    if repo not in repos:
        raise SystemExit(f"{repo} is not in the history corpus manifest (no licence on record)")
    return repos[repo]


def run_one(repo: str, minutes: float | None) -> dict:
    entry = _mirror(repo)
    if is_denied(repo.split("/")[1]) or is_denied(repo):
        raise SystemExit(f"{repo} is reserved for evaluation")
    work = ROOT / "data-cache" / "adapt" / repo.replace("/", "+")
    work.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "manyskills", "adapt", entry["mirror"], "--evaluate",
               "--out", str(work / "adapter"), "--json", str(work / "project.json")]
    if minutes is not None:
        command += ["--minutes", str(minutes)]
    started = time.time()
    with open(work / "adapt.log", "w") as log:
        proc = subprocess.run(["/usr/bin/time", "-v"] + command, check=False, stdout=log, stderr=subprocess.STDOUT,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"}, cwd=ROOT)
    text = (work / "adapt.log").read_text(errors="replace")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    result = {"repo": repo, "language": entry["language"], "licence": entry["licence"], "rc": proc.returncode,
              "wall_s": round(time.time() - started, 1), "peak_rss_mib": round(int(peak.group(1)) / 1024) if peak else None,
              "command": "manyskills adapt <mirror> --evaluate" + (f" --minutes {minutes}" if minutes else "")}
    if proc.returncode == 0 and (work / "project.json").exists():
        result["project"] = json.loads((work / "project.json").read_text())
    else:
        result["error"] = text[-2000:]
    return result


def _cell(value, fmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return fmt.format(value)


def table(results: list[dict]) -> str:
    head = ("| repository | language | fixes (train / held out) | line top-1 shipped → project | pairwise | AUROC | "
            "recall at threshold | false warnings / kLOC | active? | wall | peak RSS |")
    lines = [head, "|---" * (head.count("|") - 1) + "|"]
    for r in results:
        p = r.get("project")
        if not p:
            lines.append(f"| {r['repo']} | {r['language']} | failed (rc {r['rc']}) | | | | | | | {r['wall_s']:.0f} s | |")
            continue
        ev, c = p.get("evaluation", {}), p["counts"]
        s, q = ev.get("shipped", {}), ev.get("project", {})

        def pair(key, fmt="{:.3f}", s=s, q=q):
            return f"{_cell(s.get(key), fmt)} → {_cell(q.get(key), fmt)}"
        lines.append(f"| {r['repo']} | {r['language']} | {c['train_pairs']} / {c['heldout_pairs']} | {pair('line_top1')} | "
                     f"{pair('pairwise')} | {pair('auroc')} | {pair('recall')} | {pair('false_per_kloc', '{:.2f}')} | "
                     f"{'yes' if p['active'] else 'no'} | {r['wall_s'] / 60:.1f} min | {r['peak_rss_mib']} MiB |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("repos", nargs="*")
    parser.add_argument("--minutes", type=float, default=None, help="adapt's budget (default: adapt's own)")
    parser.add_argument("--json", default=str(ROOT / "bench/results/adapt_table.json"))
    parser.add_argument("--table", default=None, help="print the table of a results file and stop")
    args = parser.parse_args()
    if args.table:
        print(table(json.loads(Path(args.table).read_text())["results"]))
        return
    out = Path(args.json)
    done = json.loads(out.read_text())["results"] if out.exists() else []
    for repo in args.repos:
        if any(r["repo"] == repo and r.get("project") for r in done):
            continue
        print(f"adapt {repo} ...", flush=True)
        result = run_one(repo, args.minutes)
        done = [r for r in done if r["repo"] != repo] + [result]
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"results": done, "cpu_count": os.cpu_count()}, indent=1) + "\n")
        print(table([result]).split("\n")[-1], flush=True)
    print(table(done))


if __name__ == "__main__":
    main()
