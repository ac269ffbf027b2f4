"""`manyskills adapt`: train a project adapter on the repository's own past bug fixes (training/adapt.py)."""

from __future__ import annotations

import argparse
import json
import sys


def add_parser(sub) -> None:
    from manyskills.training.adapt import DEFAULT_MINUTES

    p = sub.add_parser("adapt", help="train a project adapter on this repository's own past bug fixes")
    p.add_argument("path", nargs="?", default=".", help="the git repository (default: the current directory)")
    p.add_argument("--since", help="only fix commits after this date (git's --since, e.g. 2022-01-01)")
    p.add_argument("--minutes", type=float, default=DEFAULT_MINUTES,
                   help=f"time budget for the whole command (default {DEFAULT_MINUTES:g}, sized for a laptop CPU)")
    p.add_argument("--evaluate", action="store_true",
                   help="hold out the most recent 20%% of fix commits, compare with the shipped adapter, and "
                        "activate the project adapter only if it wins there")
    p.add_argument("--out", help="adapter directory (default: PATH/.manyskills/adapter)")
    p.add_argument("--adapter", help="the adapter to extend (default: the shipped adapter)")
    p.add_argument("--json", dest="json_out", help="also write the manifest's project section here")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from manyskills.training.adapt import run_adapt
    from manyskills.training.adapt_eval import format_evaluation

    if args.minutes <= 0:
        print("manyskills adapt: --minutes must be positive", file=sys.stderr)
        return 2
    try:
        info = run_adapt(args.path, since=args.since, minutes=args.minutes, evaluate=args.evaluate, out=args.out,
                         shipped=args.adapter, progress=lambda msg: print(msg, file=sys.stderr, flush=True))
    except (OSError, ValueError, PermissionError, RuntimeError) as exc:
        print(f"manyskills adapt: {exc}", file=sys.stderr)
        return 2
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as fh:
            json.dump(info, fh, indent=2)
    if "evaluation" in info:
        print(format_evaluation(info["evaluation"]))
    state = "active" if info["active"] else "kept but not active"
    print(f"project adapter written ({state}): {info['reason']}")
    return 130 if info["reason"].startswith("interrupted") else 0
