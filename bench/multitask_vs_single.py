"""The paper's experiment on our data: one multi-task adapter vs one single-task adapter per skill.

Each single-task adapter is trained with the recipe of the multi-task one (same data sample, same
LoRA layers and rank, same frozen activations from the shared activation cache) for exactly the
number of steps its skill received inside the multi-task run, so both sides see the same examples
and spend the same training compute; what differs is that the single-task adapters do not share
parameters. Reported per skill: the skill's metric for both, trainable parameters, adapter bytes,
training seconds and tokens, and the inference passes needed to serve all classifier skills.

    python bench/multitask_vs_single.py --multi runs/adapter-v2 --multi-eval runs/eval-v2.json \
        --config models/train-config.json --out runs/single --json runs/multitask-vs-single.json

Resumable: a single-task adapter or evaluation already on disk is reused.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import tensor_sizes  # noqa: E402

SKILLS = ("defect", "flaky", "search", "clone")  # review is generation, served on demand: not part of the pass
EVAL_LIMITS = {"defect": 600, "search": 500, "clone": 400, "flaky": 400, "repair": 0}


def metrics(report: dict, skill: str) -> dict[str, float]:
    if skill == "defect":
        held, qb = report["defect_heldout"], report.get("defect_quixbugs", {})
        return {"heldout line top-1": held["line_top1"], "heldout pairwise eq-len": held["pairwise_equal_length"],
                "heldout AUROC": held["auroc"], "QuixBugs line top-1": qb.get("line_top1", float("nan"))}
    if skill == "search":
        return {"MRR": report["search"]["mrr"]}
    if skill == "clone":
        return {"F1": report["clone"]["f1"], "F1 hard negatives": report["clone"]["hard_negatives"]["f1"]}
    return {"F1": report["flaky"]["f1"]}


def adapter_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.iterdir() if f.suffix == ".safetensors")


# Head modules each skill reads (a single-task adapter ships all heads, but only these were trained).
HEAD_PARTS = {"defect": ("norm", "token_bug", "no_bug"), "flaky": ("norm", "flaky"), "search": ("norm", "embed"),
              "clone": ("norm", "embed")}


def trained_parameters(path: Path, skills: tuple[str, ...]) -> int:
    parts = {p for s in skills for p in HEAD_PARTS[s]}
    lora = sum(n for n, _ in tensor_sizes(path / "adapter_model.safetensors").values())
    heads = sum(n for prefix, (n, _) in tensor_sizes(path / "heads.safetensors").items() if prefix in parts)
    return lora + heads


def training_record(path: Path, skills: tuple[str, ...] = SKILLS) -> dict:
    training = json.loads((path / "manyskills.json").read_text())["training"]
    stats = training["stats"]
    return {"trainable": trained_parameters(path, skills), "bytes": adapter_bytes(path),
            "train_seconds": stats["train_seconds"], "tokens_trained": stats["tokens_trained"],
            "steps_by_skill": stats.get("steps_by_skill", {})}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--multi", required=True, help="the multi-task adapter directory")
    ap.add_argument("--multi-eval", required=True, help="`manyskills eval --json` report of the multi-task adapter")
    ap.add_argument("--config", required=True, help="the multi-task adapter's training config")
    ap.add_argument("--out", default="runs/single")
    ap.add_argument("--quixbugs", default="../shared/bench/quixbugs.jsonl")
    ap.add_argument("--skills", default=",".join(SKILLS))
    ap.add_argument("--json", dest="json_out", default="runs/multitask-vs-single.json")
    ap.add_argument("--wait", type=int, default=0, help="seconds to wait for --multi-eval to appear")
    args = ap.parse_args(argv)

    from manyskills.training.evaluate import evaluate
    from manyskills.training.trainer import TrainConfig, run_training

    multi = training_record(Path(args.multi))
    out_root = Path(args.out)
    single = {}
    for skill in args.skills.split(","):
        steps = multi["steps_by_skill"].get(skill)
        if not steps:
            print(f"{skill}: no steps in the multi-task run; skipped", file=sys.stderr)
            continue
        out = out_root / skill
        config = TrainConfig.from_file(args.config, out=str(out), skills=[skill], steps=steps, checkpoint_every=0)
        if not (out / "manyskills.json").is_file() or json.loads((out / "manyskills.json").read_text()).get(
                "training", {}).get("checkpoint", True):
            started = time.perf_counter()
            run_training(config, progress=lambda m, s=skill: print(f"[{s}] {m}", file=sys.stderr, flush=True))
            print(f"[{skill}] trained {steps} steps in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        report_path = out / "eval.json"
        if not report_path.is_file():
            report = evaluate(str(out), config.dataset, args.quixbugs, model=config.model, limits=EVAL_LIMITS,
                              with_baselines=False, skills=[skill])
            report_path.write_text(json.dumps(report, indent=2))
        single[skill] = {**training_record(out, (skill,)), "steps": steps,
                         "metrics": metrics(json.loads(report_path.read_text()), skill)}
    multi_eval_path = Path(args.multi_eval)
    waited = 0
    while not multi_eval_path.is_file() and waited < args.wait:  # the multi-task evaluation may still be running
        time.sleep(30)
        waited += 30
    multi_eval = json.loads(multi_eval_path.read_text())
    results = {"multi": {**multi, "metrics": {s: metrics(multi_eval, s) for s in single}}, "single": single}
    Path(args.json_out).write_text(json.dumps(results, indent=2))
    print(format_table(results))
    return 0


def format_table(results: dict) -> str:
    multi, single = results["multi"], results["single"]
    lines = ["| skill | metric | multi-task (one adapter) | single-task adapter |", "|---|---|---|---|"]
    for skill, record in single.items():
        for name, value in record["metrics"].items():
            lines.append(f"| {skill} | {name} | {multi['metrics'][skill][name]:.3f} | {value:.3f} |")
    if single:
        n = len(single)
        def total(field: str) -> float:
            return sum(r[field] for r in single.values())

        lines += ["", f"| cost | multi-task (one adapter) | single-task adapters (sum over {n} skills) |",
                  "|---|---|---|",
                  f"| trainable parameters | {multi['trainable']:,} | {total('trainable'):,} |",
                  f"| adapter bytes | {multi['bytes']:,} | {total('bytes'):,} |",
                  f"| training seconds (CPU, cached activations) | {multi['train_seconds']:.0f} | "
                  f"{total('train_seconds'):.0f} |",
                  f"| tokens trained | {multi['tokens_trained']:,} | {total('tokens_trained'):,} |",
                  f"| forward passes to serve all {n} skills per function | 1 | {n} |"]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
