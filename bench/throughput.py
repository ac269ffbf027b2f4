"""Throughput and memory: workspace scan functions/s per device/dtype, peak RSS (and GPU memory), model load
time cold/warm, and the FLOP floor measured against this machine's own matmul peak in the same run.

    python bench/throughput.py [--workspace server/manyskills] [--max-functions 400] [--repeats 3] [--quick]
                               [--json bench/results/throughput.json]

Each device/dtype runs in its own subprocess (the same path as `manyskills check`: index -> Analyzer ->
ModelEngine batches), so its peak RSS is its own and its load time is a warm load in a fresh process.

FLOP floor = 2 x parameters used per token x tokens analysed / measured GEMM peak (torch.matmul on large
square matrices, same dtype, same process tree, same run). "Parameters used" counts the matrices a token
actually meets: decoder layers below the feature layer plus the per-token head; the embedding lookup is not
a matmul and the layers above the feature layer and the LM head never run. Attention-score FLOPs
(~4 x seq x hidden per token per layer) are left out, which makes the floor lower (stricter), not higher.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    ROOT,
    cold_load_seconds,
    machine_info,
    machine_line,
    peak_rss_mib,
    timed,
    write_json,
)


# ---------------------------------------------------------------------------------------------- GEMM peak
def matmul_peak_gflops(dtype_name: str, device: str, sizes: list[int], repeats: int) -> dict:
    """Best median GFLOP/s of torch.matmul over square sizes (2 n^3 FLOPs per product)."""
    import torch

    dtype = getattr(torch, dtype_name)
    per_size = {}
    for n in sizes:
        a = torch.randn(n, n, device=device).to(dtype)
        b = torch.randn(n, n, device=device).to(dtype)

        def product():
            torch.matmul(a, b)
            if device == "cuda":
                torch.cuda.synchronize()

        product()  # warm-up (oneDNN picks its kernel on first call)
        per_size[n] = 2 * n**3 / statistics.median(timed(product, repeats)) / 1e9
    return {"gflops_by_size": per_size, "peak_gflops": max(per_size.values())}


# ---------------------------------------------------------------------------------------------- worker
def parameters_used_per_token(runtime) -> int:
    layers = runtime._decoder.layers[: runtime.feature_layer]
    count = sum(p.numel() for layer in layers for p in layer.parameters())
    heads = runtime.heads
    count += sum(p.numel() for p in heads.token_bug.parameters()) + sum(
        p.numel() for p in heads.norm.parameters()
    )
    return count


def workspace_files(workspace: Path, max_functions: int) -> tuple[list[tuple[Path, str]], int]:
    """Source files in a stable order, up to about `max_functions` functions."""
    from manyskills.analysis.files import iter_source_files
    from manyskills.index.functions import index_functions
    from manyskills.index.languages import LANGUAGES

    chosen, functions = [], 0
    for path, language in sorted(
        iter_source_files([str(workspace)], list(LANGUAGES)), key=lambda x: str(x[0])
    ):
        n = len(index_functions(language, path.read_text(errors="replace")))
        if n == 0:
            continue
        chosen.append((path, language))
        functions += n
        if functions >= max_functions:
            break
    return chosen, functions


def worker(args) -> dict:
    """One device/dtype: load, then scan the workspace `repeats` times with a fresh result cache each time."""
    import torch
    from manyskills.analysis.analyzer import Analyzer
    from manyskills.analysis.scan import scan_files
    from manyskills.model.engine import ModelEngine
    from manyskills.model.runtime import LocalRuntime
    from manyskills.settings import Settings

    started = time.perf_counter()
    engine = ModelEngine(lambda progress: LocalRuntime.load(None, None, args.device))
    engine.start()
    engine.wait_ready()
    runtime = engine.backend
    load_s = time.perf_counter() - started
    files, _ = workspace_files(Path(args.workspace), args.max_functions)
    settings = Settings()
    scans, functions, tokens = [], 0, 0
    for _ in range(args.repeats):
        analyzer = Analyzer(engine, 100_000)
        before_f, before_t = engine.functions_analysed, engine.tokens_analysed
        t0 = time.perf_counter()
        results = scan_files(analyzer, files, settings)
        scans.append(time.perf_counter() - t0)
        functions, tokens = engine.functions_analysed - before_f, engine.tokens_analysed - before_t
    out = {
        "device": runtime.identity.device,
        "dtype": runtime.identity.dtype,
        "load_s": load_s,
        "files": len(files),
        "functions_indexed": sum(len(r.functions) for r in results),
        "functions_analysed": functions,
        "tokens": tokens,
        "scan_s": scans,
        "scan_median_s": statistics.median(scans),
        "functions_per_s": functions / statistics.median(scans),
        "tokens_per_s": tokens / statistics.median(scans),
        "parameters_used_per_token": parameters_used_per_token(runtime),
        "parameters_total": sum(p.numel() for p in runtime.model.parameters())
        + sum(p.numel() for p in runtime.heads.parameters()),
        "peak_rss_mib": peak_rss_mib(),
    }
    if runtime.identity.device == "cuda":
        out["gpu_peak_mib"] = torch.cuda.max_memory_allocated() / 2**20
    engine.shutdown(wait=30)
    return out


def run_worker(device: str, dtype: str, args) -> dict:
    env = {**os.environ, "MANYSKILLS_DTYPE": dtype, "PYTHONPATH": str(ROOT / "server")}
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        "--device",
        device,
        "--workspace",
        args.workspace,
        "--max-functions",
        str(args.max_functions),
        "--repeats",
        str(args.repeats),
    ]
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {device}/{dtype} failed:\n{proc.stderr[-3000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_wall_s"] = time.perf_counter() - started
    return out


# ---------------------------------------------------------------------------------------------- main
def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workspace", default=str(ROOT / "server" / "manyskills"))
    parser.add_argument("--max-functions", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="120 functions, 1 repeat, no cold load")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold load (GGUF conversion, ~25 s)")
    parser.add_argument("--json", default=None)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--device", default="cpu", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args)))
        return 0
    if args.quick:
        args.max_functions, args.repeats, args.no_cold = 120, 1, True

    import torch

    results: dict = {"machine": machine_info(), "workspace": args.workspace, "repeats": args.repeats}
    print(machine_line(results["machine"]), flush=True)
    configs = [("cpu", "float32"), ("cpu", "bfloat16")]
    if torch.cuda.is_available():
        configs += [("cuda", "bfloat16"), ("cuda", "float32")]
    sizes = [1024, 2048] if args.quick else [1024, 2048, 3072]
    results["matmul"] = {}
    results["configs"] = {}
    for device, dtype in configs:
        key = f"{device}-{dtype}"
        results["matmul"][key] = matmul_peak_gflops(
            dtype, device, sizes if device == "cpu" else [4096, 8192], max(3, args.repeats)
        )
        print(f"{key}: GEMM peak {results['matmul'][key]['peak_gflops']:.0f} GFLOP/s", flush=True)
        run = run_worker(device, dtype, args)
        flops = 2 * run["parameters_used_per_token"] * run["tokens"]
        run["flops"] = flops
        run["floor_s"] = flops / (results["matmul"][key]["peak_gflops"] * 1e9)
        run["distance_from_floor"] = run["scan_median_s"] / run["floor_s"]
        results["configs"][key] = run
        print(
            f"{key}: {run['functions_per_s']:.1f} functions/s, peak RSS {run['peak_rss_mib']:.0f} MiB, "
            f"floor {run['floor_s']:.2f} s vs {run['scan_median_s']:.2f} s",
            flush=True,
        )
    if not args.no_cold:
        results["cold_load_s"] = cold_load_seconds()

    cpu32, cpu16 = results["configs"]["cpu-float32"], results["configs"]["cpu-bfloat16"]
    print()
    print(
        f"workspace scan: {cpu16['files']} files, {cpu16['functions_analysed']} functions, {cpu16['tokens']} tokens "
        f"({args.workspace}); medians over {args.repeats} scans"
    )
    print(
        "  config          functions/s  tokens/s  peak RSS MiB  warm load s  GEMM peak GFLOP/s  floor s  "
        "scan s  x floor"
    )
    for key, run in results["configs"].items():
        gpu = f" (GPU {run['gpu_peak_mib']:.0f} MiB)" if "gpu_peak_mib" in run else ""
        print(
            f"  {key:14s}  {run['functions_per_s']:11.1f}  {run['tokens_per_s']:8.0f}  {run['peak_rss_mib']:12.0f}"
            f"  {run['load_s']:11.1f}  {results['matmul'][key]['peak_gflops']:17.0f}  {run['floor_s']:7.2f}"
            f"  {run['scan_median_s']:6.2f}  {run['distance_from_floor']:7.1f}{gpu}"
        )
    results["bf16_vs_fp32_speedup"] = cpu16["functions_per_s"] / cpu32["functions_per_s"]
    print(
        f"  CPU bf16 / fp32 throughput: {results['bf16_vs_fp32_speedup']:.2f}x; parameters used per token "
        f"{cpu16['parameters_used_per_token'] / 1e6:.1f} M of {cpu16['parameters_total'] / 1e6:.1f} M"
    )
    if "cold_load_s" in results:
        print(
            f"  model load: cold (GGUF -> safetensors, new process) {results['cold_load_s']:.1f} s; "
            f"warm (fresh process, cached safetensors) {cpu16['load_s']:.1f} s"
        )
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
