"""Runtime benchmark: model load (cold from GGUF / warm from the safetensors cache), forward latency per
function length, batch throughput, fp32 vs bf16, and one shared pass vs one pass per skill.

    python bench/runtime_bench.py [--repeats 5] [--cold] [--json bench/results/runtime.json]

Prints a table; medians over repeats (the machine is shared and noisy, so compare ratios from one run).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import cold_load_seconds, function_of, machine_info, machine_line, median_time, write_json  # noqa: E402
from manyskills.model.runtime import LocalRuntime  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cold", action="store_true", help="also time a cold load (GGUF conversion)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    results: dict = {"machine": machine_info()}
    print(machine_line(results["machine"]))

    start = time.perf_counter()
    runtime = LocalRuntime.load(device_setting="cpu")
    results["warm_load_s"] = time.perf_counter() - start
    results["dtype_auto"] = runtime.identity.dtype
    results["adapter"] = runtime.identity.adapter_path
    if args.cold:
        results["cold_load_s"] = cold_load_seconds()

    for dtype in ("bfloat16", "float32"):
        runtime.model.to(getattr(torch, dtype))
        per_len = {}
        for tokens in (64, 256, 512):
            item = function_of(tokens, runtime)
            runtime.manifest.max_tokens = 512
            runtime.analyse([item])  # warm-up
            per_len[tokens] = median_time(lambda: runtime.analyse([item]), args.repeats)
        batch = [function_of(n, runtime) for n in (60, 80, 100, 120, 140, 160, 90, 110)] * 2
        throughput = len(batch) / median_time(lambda: runtime.analyse(batch), max(2, args.repeats // 2))
        results[dtype] = {"latency_s": per_len, "batch16_functions_per_s": throughput}

    # One shared pass for defect + flaky + embedding vs one pass per classifier skill.
    runtime.model.to(torch.bfloat16)
    item = function_of(256, runtime)
    ids, lines, n_lines, _ = runtime.encode_code(item)
    x = torch.tensor([ids])
    mask = torch.ones_like(x)
    shared = median_time(
        lambda: runtime.heads(runtime.feature_states(x, mask), mask.bool(), torch.tensor([lines]), n_lines),
        args.repeats,
    )
    per_skill = median_time(
        lambda: [
            runtime.heads(runtime.feature_states(x, mask), mask.bool(), torch.tensor([lines]), n_lines)
            for _ in range(3)
        ],
        args.repeats,
    )
    full_lm = median_time(lambda: runtime.model(input_ids=x), args.repeats)
    results["shared_pass_s"] = shared
    results["three_passes_s"] = per_skill
    results["full_model_with_lm_head_s"] = full_lm
    results["shared_vs_per_skill_ratio"] = per_skill / shared
    results["early_exit_saving_vs_full_lm"] = 1 - shared / full_lm

    print(
        f"warm load (safetensors cache): {results['warm_load_s']:.2f} s; dtype auto = {results['dtype_auto']}"
    )
    if "cold_load_s" in results:
        print(f"cold load (GGUF -> safetensors, new process): {results['cold_load_s']:.1f} s")
    print("forward latency, one function (median):")
    print("  tokens   bf16 s   fp32 s   fp32/bf16")
    for tokens in (64, 256, 512):
        b, f = results["bfloat16"]["latency_s"][tokens], results["float32"]["latency_s"][tokens]
        print(f"  {tokens:6d}  {b:7.3f}  {f:7.3f}   {f / b:5.2f}x")
    print(
        f"batch of 16 (60-160 tokens): bf16 {results['bfloat16']['batch16_functions_per_s']:.1f} functions/s, "
        f"fp32 {results['float32']['batch16_functions_per_s']:.1f} functions/s"
    )
    print(
        f"one shared pass (defect+flaky+embedding) {shared * 1000:.0f} ms vs one pass per skill (3) "
        f"{per_skill * 1000:.0f} ms: {results['shared_vs_per_skill_ratio']:.2f}x less compute"
    )
    print(
        f"early exit at layer {runtime.feature_layer} vs full model + LM head: {full_lm * 1000:.0f} ms -> "
        f"{shared * 1000:.0f} ms ({100 * results['early_exit_saving_vs_full_lm']:.0f}% saved)"
    )
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
