"""One multi-task adapter vs. one adapter (or one fine-tuned model) per skill: compute, storage, memory.

    python bench/adapters.py [--processes 5] [--repeats 3] [--quick] [--json bench/results/adapters.json]

- Compute per function for the classifier skills (defect, flaky, clone and search embeddings): one shared
  forward pass with all heads vs. one pass per skill (each skill would run its own adapted model), on a
  batch of 16 real-length functions, median over repeats.
- Storage: the shipped multi-task adapter (`models/smollm2-135m`: LoRA + all heads) vs. one adapter per skill
  (a LoRA copy + that skill's head; `review` is LoRA only) vs. full fine-tuned copies (the base weights
  per skill + the head), all counted from the tensors actually stored.
- Memory: start N processes that each load the runtime and analyse a batch (what serving N per-skill
  models costs: base weights are merged with each adapter, so nothing is shared), then sum their RSS and
  PSS; compare with one process serving every skill.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    ROOT, function_of, machine_info, machine_line, median_time, process_memory_mib, tensor_sizes, write_json,
)

# Which stored head tensors each skill needs (heads.safetensors prefixes). `norm` is the shared input norm.
SKILL_HEADS = {
    "defect": ["norm", "token_bug", "no_bug"],
    "flaky": ["norm", "flaky"],
    "clone": ["norm", "embed"],
    "search": ["norm", "embed"],
    "review": [],
}
CLASSIFIER_SKILLS = ["defect", "flaky", "clone", "search"]


def tensor_bytes(path: Path) -> dict[str, int]:
    """Bytes per top-level tensor-name prefix, from the safetensors header."""
    return {prefix: size for prefix, (_, size) in tensor_sizes(path).items()}


def storage(adapter_dir: Path) -> dict:
    from manyskills.model.base import embedded_base_dir

    lora_file = adapter_dir / "adapter_model.safetensors"
    heads_file = adapter_dir / "heads.safetensors"
    lora = sum(tensor_bytes(lora_file).values())
    heads = tensor_bytes(heads_file)
    base = sum(tensor_bytes(embedded_base_dir() / "model.safetensors").values())
    skills = list(SKILL_HEADS)
    per_skill_heads = {s: sum(heads[p] for p in SKILL_HEADS[s]) for s in skills}
    return {
        "skills": skills,
        "multi_task_adapter_bytes": lora + sum(heads.values()),
        "multi_task_files_bytes": lora_file.stat().st_size + heads_file.stat().st_size,
        "lora_bytes": lora,
        "heads_bytes": heads,
        "per_skill_adapters_bytes": sum(lora + per_skill_heads[s] for s in skills),
        "full_finetuned_copies_bytes": sum(base + per_skill_heads[s] for s in skills),
        "base_bytes": base,
    }


def compute(repeats: int) -> dict:
    import torch
    from manyskills.model.runtime import LocalRuntime

    runtime = LocalRuntime.load(device_setting="cpu")
    batch = [function_of(n, runtime) for n in (60, 80, 100, 120, 140, 160, 90, 110)] * 2
    encoded = [runtime.encode_code(item) for item in batch]
    ids = runtime._pad([e[0] for e in encoded], runtime.tokenizer.pad_token_id)
    lines = runtime._pad([e[1] for e in encoded], -1)
    mask = runtime._pad([[1] * len(e[0]) for e in encoded], 0).bool()
    n_lines = max(e[2] for e in encoded)

    @torch.inference_mode()
    def shared():
        runtime.heads(runtime.feature_states(ids, mask.long()), mask, lines, n_lines)

    @torch.inference_mode()
    def per_skill():
        for _ in CLASSIFIER_SKILLS:  # each skill's own model runs its own pass (+ its head)
            runtime.heads(runtime.feature_states(ids, mask.long()), mask, lines, n_lines)

    shared()
    one = median_time(shared, repeats)
    many = median_time(per_skill, repeats)
    return {
        "functions": len(batch),
        "dtype": runtime.identity.dtype,
        "skills": CLASSIFIER_SKILLS,
        "shared_ms_per_function": 1000 * one / len(batch),
        "per_skill_ms_per_function": 1000 * many / len(batch),
        "ratio": many / one,
    }


# ---------------------------------------------------------------------------------------------- RSS of N
def serve_worker() -> None:
    """Load the runtime, analyse a batch (so activations count too), report ready, then wait."""
    from manyskills.model.runtime import LocalRuntime

    runtime = LocalRuntime.load(device_setting="cpu")
    runtime.analyse([function_of(n, runtime) for n in (60, 120, 160, 250)] * 4)
    print("ready", flush=True)
    sys.stdin.readline()


def serving_memory(processes: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "server")}
    procs, loads = [], []
    try:
        for _ in range(processes):  # one at a time: loads do not compete for the 2 cores
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                [sys.executable, __file__, "--serve-worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
            procs.append(proc)
            for line in proc.stdout:  # anything a library prints before "ready" is skipped
                if line.strip() == "ready":
                    break
            else:
                raise RuntimeError("serving worker failed to start")
            loads.append(time.perf_counter() - t0)
        memory = [process_memory_mib(p.pid) for p in procs]
    finally:
        for proc in procs:
            try:
                proc.stdin.write("\n")
                proc.stdin.flush()
            except OSError:
                pass
            proc.wait(timeout=60)
    return {
        "processes": processes,
        "per_process": memory,
        "load_s": loads,
        "rss_sum_mib": sum(m["rss"] for m in memory),
        "pss_sum_mib": sum(m.get("pss", m["rss"]) for m in memory),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=5, help="N for 'one process per skill' (5 skills)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="3 processes, 2 repeats")
    parser.add_argument("--json", default=None)
    parser.add_argument("--serve-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_worker:
        serve_worker()
        return 0
    if args.quick:
        args.processes, args.repeats = 3, 2
    from manyskills.model.paths import shipped_adapter_dir

    results: dict = {"machine": machine_info()}
    print(machine_line(results["machine"]), flush=True)
    results["compute"] = compute(args.repeats)
    results["storage"] = storage(shipped_adapter_dir())
    one = serving_memory(1)
    many = serving_memory(args.processes)
    results["memory"] = {
        "one": one,
        "many": many,
        "rss_ratio": many["rss_sum_mib"] / one["rss_sum_mib"],
        "pss_ratio": many["pss_sum_mib"] / one["pss_sum_mib"],
    }

    c, s, m = results["compute"], results["storage"], results["memory"]
    mb = 1e6
    print(
        f"compute per function, {len(c['skills'])} classifier skills ({', '.join(c['skills'])}), batch of "
        f"{c['functions']}, {c['dtype']}:"
    )
    print(
        f"  one shared pass {c['shared_ms_per_function']:.1f} ms vs one pass per skill "
        f"{c['per_skill_ms_per_function']:.1f} ms ({c['ratio']:.2f}x)"
    )
    print(f"storage for {len(s['skills'])} skills ({', '.join(s['skills'])}):")
    print(f"  one multi-task adapter (LoRA + all heads)   {s['multi_task_adapter_bytes'] / mb:8.1f} MB")
    print(
        f"  one adapter per skill (LoRA + its head)     {s['per_skill_adapters_bytes'] / mb:8.1f} MB "
        f"({s['per_skill_adapters_bytes'] / s['multi_task_adapter_bytes']:.1f}x)"
    )
    print(
        f"  full fine-tuned copies (base + head each)   {s['full_finetuned_copies_bytes'] / mb:8.1f} MB "
        f"({s['full_finetuned_copies_bytes'] / s['multi_task_adapter_bytes']:.0f}x; base {s['base_bytes'] / mb:.0f} MB"
        f" shared by the adapters)"
    )
    print("serving memory (each process: runtime loaded + one batch analysed):")
    print(f"  1 process, all skills: RSS {one['rss_sum_mib']:.0f} MiB, PSS {one['pss_sum_mib']:.0f} MiB")
    print(
        f"  {many['processes']} processes, one per skill: RSS {many['rss_sum_mib']:.0f} MiB, "
        f"PSS {many['pss_sum_mib']:.0f} MiB ({m['rss_ratio']:.1f}x / {m['pss_ratio']:.1f}x)"
    )
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
