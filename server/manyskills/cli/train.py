"""`manyskills train`, `manyskills eval` and `manyskills data build`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from manyskills.cli.exit_codes import EXIT_ERROR, EXIT_OK


def add_parsers(sub) -> None:
    p = sub.add_parser("train", help="train the multi-task LoRA adapter")
    p.add_argument("--config", help="JSON file with TrainConfig fields")
    p.add_argument("--dataset", help="dataset directory (manyskills data build)")
    p.add_argument("--out", help="adapter output directory")
    p.add_argument("--model", help="base model directory (default: embedded)")
    p.add_argument("--steps", type=int)
    p.add_argument("--time-budget", type=float, metavar="SECONDS",
                   help="stop training after this long; the learning-rate schedule ends with it")
    p.add_argument("--deadline", type=float, metavar="UNIX_TIME",
                   help="stop training by this time (e.g. a lent machine's call limit less the evaluation)")
    p.add_argument("--skills", help="comma-separated subset (single-task runs)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"))
    p.add_argument("--seed", type=int)
    p.set_defaults(run=run_train)

    e = sub.add_parser("eval", help="evaluate an adapter on held-out data and QuixBugs")
    e.add_argument("--adapter", help="adapter directory (default: the shipped adapter)")
    e.add_argument("--dataset", default="data-cache/dataset")
    e.add_argument("--quixbugs", default=None, help="QuixBugs JSONL (evaluation only)")
    e.add_argument("--model", default=None)
    e.add_argument("--limits", default=None, help='JSON, e.g. {"defect": 500, "repair": 0}')
    e.add_argument("--no-baselines", action="store_true")
    e.add_argument("--skills", help="comma-separated subset: defect,search,clone,flaky,repair")
    e.add_argument("--json", dest="json_out", help="write the full report here")
    e.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    e.set_defaults(run=run_eval)

    d = sub.add_parser("data", help="build training data from real code")
    d.add_argument("action", choices=("build", "history", "history-merge"))
    d.add_argument("rest", nargs=argparse.REMAINDER, help="options for the builder (see `manyskills data build -h`)")
    d.set_defaults(run=run_data)


def run_train(args: argparse.Namespace) -> int:
    from manyskills.training.trainer import TrainConfig, run_training

    overrides = {"dataset": args.dataset, "out": args.out, "model": args.model, "steps": args.steps,
                 "time_budget_s": args.time_budget, "deadline": args.deadline,
                 "device": args.device, "seed": args.seed,
                 "skills": args.skills.split(",") if args.skills else None}
    try:
        config = TrainConfig.from_file(args.config, **overrides)
    except (OSError, ValueError, TypeError) as exc:
        print(f"manyskills train: {exc}", file=sys.stderr)
        return EXIT_ERROR
    run_training(config, progress=lambda msg: print(msg, file=sys.stderr, flush=True))
    return EXIT_OK


def run_eval(args: argparse.Namespace) -> int:
    from manyskills.training.evaluate import evaluate, format_table

    limits = json.loads(args.limits) if args.limits else None
    report = evaluate(args.adapter, args.dataset, args.quixbugs, args.model, limits,
                      with_baselines=not args.no_baselines, device=args.device,
                      skills=args.skills.split(",") if args.skills else None)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=2))
    print(format_table(report))
    return EXIT_OK


def run_data(args: argparse.Namespace) -> int:
    if args.action in ("history", "history-merge"):  # fixes mined from git history (data/gitmine.py)
        from manyskills.data import gitmine

        return (gitmine.main if args.action == "history" else gitmine.merge_main)(args.rest)
    from manyskills.data.build import main as build_main

    return build_main(args.rest)
