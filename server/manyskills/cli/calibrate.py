"""`manyskills calibrate ADAPTER_DIR`: the defect threshold for a false-warning budget on validation code,
recall there, and the score-to-probability map (training/operating_point.py); `--write` stores the
threshold and the map in the adapter's manifest."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from manyskills.cli.exit_codes import EXIT_ERROR, EXIT_OK


def add_parser(sub) -> None:
    from manyskills.training import operating_point as op

    p = sub.add_parser("calibrate", help="choose the defect threshold for a false-warning budget on validation "
                                         "data and fit the score-to-probability map")
    p.add_argument("adapter", metavar="ADAPTER_DIR", help="the adapter directory")
    p.add_argument("--dataset", default="data-cache/dataset", help="dataset directory (manyskills data build)")
    p.add_argument("--max-false-per-kloc", type=float, default=op.DEFAULT_BUDGET,
                   help=f"false warnings allowed per 1,000 lines of clean validation code (default "
                        f"{op.DEFAULT_BUDGET:g}); recall is also reported at {op.SECOND_BUDGET:g}")
    p.add_argument("--base-rate", type=float, default=op.DEFAULT_BASE_RATE,
                   help=f"share of functions assumed to contain a bug, for the probability (default "
                        f"{op.DEFAULT_BASE_RATE:g})")
    p.add_argument("--max-clean", type=int, default=op.DEFAULT_MAX_CLEAN,
                   help=f"clean validation functions to score, a seeded sample (default {op.DEFAULT_MAX_CLEAN})")
    p.add_argument("--max-pairs", type=int, default=op.DEFAULT_MAX_PAIRS,
                   help=f"validation bugs per set: release fixes, commit fixes, synthetic (default "
                        f"{op.DEFAULT_MAX_PAIRS})")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model", help="base model (default: the base the adapter's manifest names)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--write", action="store_true",
                   help="store the threshold and the calibration in the adapter's manifest")
    p.set_defaults(run=run)


def _json_safe(value):
    """NaN (an empty set's rate) as null: the report is for programs as much as for people."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def run(args: argparse.Namespace) -> int:
    from manyskills.model.adapter import AdapterError, Manifest
    from manyskills.model.base import BaseModelError
    from manyskills.training.operating_point import calibrate, write_operating_point

    directory = Path(args.adapter).expanduser()
    if args.max_false_per_kloc < 0 or not 0 < args.base_rate < 1 or args.max_clean < 1 or args.max_pairs < 0:
        print("manyskills calibrate: need --max-false-per-kloc >= 0, 0 < --base-rate < 1, --max-clean >= 1 "
              "and --max-pairs >= 0", file=sys.stderr)
        return EXIT_ERROR
    try:
        from manyskills.model.runtime import LocalRuntime

        model = args.model or Manifest.load(directory).base_model or None
        runtime = LocalRuntime.load(model, str(directory), args.device,
                                    progress=lambda message, fraction=None: print(message, file=sys.stderr))
        report = calibrate(runtime, Path(args.dataset), args.max_false_per_kloc, args.base_rate, args.max_clean,
                           args.max_pairs, args.seed, progress=lambda message: print(message, file=sys.stderr,
                                                                                     flush=True))
        report["adapter"] = str(directory)
        report["adapter_version"] = runtime.identity.adapter_version
        if args.write:
            write_operating_point(directory, report)
            report["written"] = True
    except (AdapterError, BaseModelError, OSError, ValueError) as exc:
        print(f"manyskills calibrate: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(json.dumps(_json_safe(report), indent=2))
    return EXIT_OK
