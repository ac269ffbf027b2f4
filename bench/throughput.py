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
import resource
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
    """One base and device/dtype: load, then scan the workspace `repeats` times with a fresh result cache
    each time. With --int8 the model loads in float32 and its feature-layer stack is quantised."""
    import torch
    from _bases import feature_states_of, quantize_feature_stack, state_drift
    from manyskills.analysis.analyzer import Analyzer
    from manyskills.analysis.scan import scan_files
    from manyskills.model.engine import ModelEngine
    from manyskills.model.runtime import FunctionInput, LocalRuntime
    from manyskills.settings import Settings

    counted: dict = {}

    def load(_progress):
        runtime = LocalRuntime.load(args.model or None, args.adapter or None, args.device)
        counted["used"] = parameters_used_per_token(runtime)  # before int8 packs the weights away
        counted["total"] = sum(p.numel() for p in runtime.model.parameters()) + sum(
            p.numel() for p in runtime.heads.parameters())
        if args.int8:
            # The heads' input before and after quantising, on the first functions of the workspace.
            t0 = time.perf_counter()
            sample = [FunctionInput(f.language, f.text, f.is_test) for f in sample_functions(args)]
            before, mask = feature_states_of(runtime, sample)
            quantize_feature_stack(runtime)
            after, _ = feature_states_of(runtime, sample)
            counted["drift"] = {**state_drift(before, after, mask), "functions": len(sample)}
            counted["drift_s"] = time.perf_counter() - t0
        return runtime

    started = time.perf_counter()
    engine = ModelEngine(load)
    engine.start()
    engine.wait_ready()
    runtime = engine.backend
    load_s = time.perf_counter() - started - counted.get("drift_s", 0.0)
    files, _ = workspace_files(Path(args.workspace), args.max_functions)
    settings = Settings()
    scans, cpu, functions, tokens = [], [], 0, 0
    for _ in range(args.repeats):
        analyzer = Analyzer(engine, 100_000)
        before_f, before_t = engine.functions_analysed, engine.tokens_analysed
        t0, c0 = time.perf_counter(), cpu_seconds()
        results = scan_files(analyzer, files, settings)
        scans.append(time.perf_counter() - t0)
        cpu.append(cpu_seconds() - c0)
        functions, tokens = engine.functions_analysed - before_f, engine.tokens_analysed - before_t
    indexed = [f for r in results for f in r.functions]
    analyses, _ = analyzer.cached(indexed)
    # File order, one entry per distinct function: what the engine would batch without sorting by length.
    lengths = [analyses[h].tokens for h in dict.fromkeys(f.content_hash for f in indexed) if h in analyses]
    out = {
        "model": args.model,
        "base": runtime.identity.base_name,
        "adapter": args.adapter,
        "feature_layer": runtime.feature_layer,
        "layers": len(runtime._decoder.layers),
        "max_tokens": runtime.manifest.max_tokens,
        "device": runtime.identity.device,
        "dtype": "qint8-dynamic" if args.int8 else runtime.identity.dtype,
        "load_s": load_s,
        "files": len(files),
        "functions_indexed": len(indexed),
        "functions_analysed": functions,
        "tokens": tokens,
        "scan_s": scans,
        "scan_median_s": statistics.median(scans),
        "functions_per_s": functions / statistics.median(scans),
        # CPU seconds of all this process's threads: on a host shared with other jobs, wall time measures
        # the share of the CPU the scan got; functions per CPU-second measures the work it needed.
        "scan_cpu_s": statistics.median(cpu),
        "functions_per_cpu_s": functions / statistics.median(cpu),
        "tokens_per_s": tokens / statistics.median(scans),
        "parameters_used_per_token": counted["used"],
        "parameters_total": counted["total"],
        "peak_rss_mib": peak_rss_mib(),
        "lengths": lengths,
        "scores": {h: [a.defect_score, a.bug_line] for h, a in analyses.items()},
    }
    if "drift" in counted:
        out["feature_state_drift"] = counted["drift"]
    if runtime.identity.device == "cuda":
        out["gpu_peak_mib"] = torch.cuda.max_memory_allocated() / 2**20
    engine.shutdown(wait=30)
    return out


def sample_functions(args, count: int = 16) -> list:
    """The first `count` functions of the workspace, in the scan's file order."""
    from manyskills.index.functions import index_functions

    files, _ = workspace_files(Path(args.workspace), count)
    functions = [f for path, language in files for f in index_functions(language, path.read_text(errors="replace"))]
    return functions[:count]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_worker(model: str, adapter: str | None, device: str, dtype: str, args, int8: bool = False) -> dict:
    env = {**os.environ, "MANYSKILLS_DTYPE": dtype, "PYTHONPATH": str(ROOT / "server")}
    env.pop("MANYSKILLS_ADAPTER", None)  # the adapter is chosen per base below
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
        "--models",
        model,
    ]
    if adapter:
        cmd += ["--adapters", adapter]
    if int8:
        cmd.append("--int8")
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {model} {device}/{dtype}{' int8' if int8 else ''} failed:\n{proc.stderr[-3000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_wall_s"] = time.perf_counter() - started
    return out


def qint8_linear_peak_gops(sizes: list[int], repeats: int) -> dict:
    """Best median GOP/s of a dynamically quantised nn.Linear (n x n, n rows): the same kernel path
    (activation quantisation + int8 GEMM) that --int8 puts in the decoder layers."""
    import torch
    from _bases import quantize_linear_int8

    per_size = {}
    for n in sizes:
        layer = quantize_linear_int8(torch.nn.Sequential(torch.nn.Linear(n, n, bias=False)))
        x = torch.randn(n, n)
        with torch.inference_mode():
            layer(x)
            per_size[n] = 2 * n**3 / statistics.median(timed(lambda f=layer, a=x: f(a), repeats)) / 1e9
    return {"gflops_by_size": per_size, "peak_gflops": max(per_size.values())}


# ---------------------------------------------------------------------------------------------- main
def main() -> int:
    from manyskills.model.paths import DEFAULT_MODEL

    parser = argparse.ArgumentParser()
    parser.add_argument("--workspace", default=str(ROOT / "server" / "manyskills"))
    parser.add_argument("--models", default=None,
                        help=f"comma-separated bases (registry names or directories), side by side; default {DEFAULT_MODEL}")
    parser.add_argument("--adapters", default=None,
                        help="comma-separated adapter dirs aligned with --models (empty entry: shipped adapter, "
                             "else an untrained one of models/train-config-<name>.json's shape)")
    parser.add_argument("--dtypes", default="float32,bfloat16", help="CPU dtypes to run (MANYSKILLS_DTYPE)")
    parser.add_argument("--int8", action="store_true",
                        help="also run each base with dynamic int8 linear layers in the feature-layer stack, "
                             "and report how its scores differ from float32/bfloat16 on the same functions")
    parser.add_argument("--max-functions", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="120 functions, 1 repeat, no cold load")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold load (GGUF conversion, ~25 s)")
    parser.add_argument("--json", default=None)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--device", default="cpu", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        args.model, args.adapter = args.models, args.adapters
        print(json.dumps(worker(args)))
        return 0
    if args.quick:
        args.max_functions, args.repeats, args.no_cold = 120, 1, True

    import tempfile

    import torch
    from _bases import adapters_arg, bench_adapter, models_arg, padded_tokens, score_change
    from manyskills.model.batching import MAX_BATCH, TOKEN_BUDGET
    from manyskills.model.runtime import PAD_MULTIPLE

    models = models_arg(args.models, DEFAULT_MODEL)
    given = adapters_arg(args.adapters, models)
    results: dict = {"machine": machine_info(), "workspace": args.workspace, "repeats": args.repeats}
    print(machine_line(results["machine"]), flush=True)
    dtypes = [d.strip() for d in args.dtypes.split(",") if d.strip()]
    configs = [("cpu", d) for d in dtypes]
    if torch.cuda.is_available():
        configs += [("cuda", "bfloat16"), ("cuda", "float32")]
    sizes = [1024, 2048] if args.quick else [1024, 2048, 3072]
    results["matmul"] = {}
    for device, dtype in configs:
        key = f"{device}-{dtype}"
        results["matmul"][key] = matmul_peak_gflops(
            dtype, device, sizes if device == "cpu" else [4096, 8192], max(3, args.repeats)
        )
        print(f"{key}: GEMM peak {results['matmul'][key]['peak_gflops']:.0f} GFLOP/s", flush=True)
    if args.int8:
        results["matmul"]["cpu-qint8"] = qint8_linear_peak_gops(sizes, max(3, args.repeats))
        print(f"cpu-qint8: dynamic int8 Linear peak {results['matmul']['cpu-qint8']['peak_gflops']:.0f} GOP/s",
              flush=True)

    results["bases"] = {}
    with tempfile.TemporaryDirectory(prefix="manyskills-bench-adapters-") as scratch:
        for model, adapter_given in zip(models, given):
            adapter = bench_adapter(model, adapter_given, Path(scratch))
            print(f"{model}: adapter {adapter.path or '-'} [{adapter.how}]", flush=True)
            runs: dict = {}
            plan = [(device, dtype, False) for device, dtype in configs]
            if args.int8:
                plan.append(("cpu", "float32", True))
            for device, dtype, int8 in plan:
                key = "cpu-qint8" if int8 else f"{device}-{dtype}"
                run = run_worker(model, adapter.path, device, dtype, args, int8)
                flops = 2 * run["parameters_used_per_token"] * run["tokens"]
                run["flops"] = flops
                run["floor_s"] = flops / (results["matmul"][key]["peak_gflops"] * 1e9)
                run["distance_from_floor"] = run["scan_median_s"] / run["floor_s"]
                runs[key] = run
                print(
                    f"  {model} {key}: {run['functions_per_s']:.1f} functions/s, peak RSS {run['peak_rss_mib']:.0f} MiB, "
                    f"floor {run['floor_s']:.2f} s vs {run['scan_median_s']:.2f} s",
                    flush=True,
                )
            first = next(iter(runs.values()))
            lengths = first.pop("lengths")
            sorted_pad, sorted_passes = padded_tokens(lengths, True, MAX_BATCH, TOKEN_BUDGET, PAD_MULTIPLE)
            file_pad, file_passes = padded_tokens(lengths, False, MAX_BATCH, TOKEN_BUDGET, PAD_MULTIPLE)
            entry = {
                "adapter": adapter.path, "adapter_how": adapter.how, "adapter_trained": adapter.trained,
                "runs": runs,
                "batching": {"tokens": sum(lengths), "padded_by_length": sorted_pad, "passes_by_length": sorted_passes,
                             "padded_file_order": file_pad, "passes_file_order": file_passes},
            }
            scores = {k: r.pop("scores") for k, r in runs.items()}
            for r in runs.values():
                r.pop("lengths", None)
            if "cpu-qint8" in scores:
                entry["int8_score_change"] = {
                    ref: score_change(scores[ref], scores["cpu-qint8"]) for ref in scores if ref != "cpu-qint8"
                }
            if "cpu-float32" in scores and "cpu-bfloat16" in scores:
                entry["bf16_score_change"] = score_change(scores["cpu-float32"], scores["cpu-bfloat16"])
            results["bases"][model] = entry
    if not args.no_cold:
        results["cold_load_s"] = cold_load_seconds()
    report(results, args)
    write_json(args.json, results)
    return 0


def report(results: dict, args) -> None:
    from _bases import table

    print()
    print(f"workspace scan ({args.workspace}); medians over {args.repeats} scans; the same functions for every base")
    rows = []
    for model, entry in results["bases"].items():
        for key, run in entry["runs"].items():
            rows.append({
                "base": model, "config": key, "feature layer": f"{run['feature_layer']}/{run['layers']}",
                "max tok": run["max_tokens"], "functions": run["functions_analysed"], "tokens": run["tokens"],
                "functions/s": run["functions_per_s"], "tokens/s": run["tokens_per_s"],
                "functions/CPU-s": run["functions_per_cpu_s"],
                "peak RSS MiB": run["peak_rss_mib"], "warm load s": run["load_s"],
                "peak GFLOP/s": results["matmul"][key]["peak_gflops"], "floor s": run["floor_s"],
                "scan s": run["scan_median_s"], "x floor": run["distance_from_floor"],
                "GPU MiB": run.get("gpu_peak_mib"),
            })
    columns = [("base", ""), ("config", ""), ("feature layer", ""), ("max tok", "d"), ("functions", "d"),
               ("tokens", "d"), ("functions/s", ".1f"), ("tokens/s", ".0f"), ("functions/CPU-s", ".2f"),
               ("peak RSS MiB", ".0f"),
               ("warm load s", ".1f"), ("peak GFLOP/s", ".0f"), ("floor s", ".2f"), ("scan s", ".2f"),
               ("x floor", ".1f")]
    if any(r["GPU MiB"] is not None for r in rows):
        columns.append(("GPU MiB", ".0f"))
    for line in table(columns, rows):
        print("  " + line)
    for model, entry in results["bases"].items():
        runs = entry["runs"]
        any_run = next(iter(runs.values()))
        parts = [f"{model}: adapter {entry['adapter_how']}",
                 (f"parameters used per token {any_run['parameters_used_per_token'] / 1e6:.1f} M of "
                  f"{any_run['parameters_total'] / 1e6:.1f} M")]

        def ratio(fast: str, slow: str, runs: dict = runs) -> str:
            a, b = runs[fast], runs[slow]
            return (f"{fast[4:]}/{slow[4:]} {a['functions_per_s'] / b['functions_per_s']:.2f}x "
                    f"({a['functions_per_cpu_s'] / b['functions_per_cpu_s']:.2f}x per CPU-s)")

        if "cpu-float32" in runs and "cpu-bfloat16" in runs:
            entry["bf16_vs_fp32_speedup"] = runs["cpu-bfloat16"]["functions_per_s"] / runs["cpu-float32"]["functions_per_s"]
            parts.append(ratio("cpu-bfloat16", "cpu-float32"))
        if "cpu-qint8" in runs:
            parts += [ratio("cpu-qint8", ref) for ref in ("cpu-bfloat16", "cpu-float32") if ref in runs]
        b = entry["batching"]
        parts.append(f"length batching pads {100 * (b['padded_by_length'] / max(1, b['tokens']) - 1):.0f}% "
                     f"({b['passes_by_length']} passes) vs {100 * (b['padded_file_order'] / max(1, b['tokens']) - 1):.0f}% "
                     f"in file order ({b['passes_file_order']} passes)")
        print("  " + "; ".join(parts))
    changes = [(model, ref, change) for model, entry in results["bases"].items()
               for ref, change in (entry.get("int8_score_change") or {}).items()]
    changes += [(model, "fp32 -> bf16", entry["bf16_score_change"]) for model, entry in results["bases"].items()
                if "bf16_score_change" in entry]
    if changes:
        print()
        print("score change on the same functions (defect score; top line = the line the defect head points at)")
        rows = [{"base": m + ("" if results["bases"][m]["adapter_trained"] else " (untrained heads)"),
                 "compared": (ref if ref.startswith("fp32") else f"{ref[4:]} -> int8"),
                 "functions": c.get("functions", 0), "max |diff|": c.get("max_abs_diff"),
                 "mean |diff|": c.get("mean_abs_diff"), "top line same": c.get("top_line_agreement"),
                 "spearman": c.get("spearman")} for m, ref, c in changes]
        for line in table([("base", ""), ("compared", ""), ("functions", "d"), ("max |diff|", ".4f"),
                           ("mean |diff|", ".4f"), ("top line same", ".3f"), ("spearman", ".4f")], rows):
            print("  " + line)
    drifts = [(m, e["runs"]["cpu-qint8"]["feature_state_drift"]) for m, e in results["bases"].items()
              if "feature_state_drift" in e["runs"].get("cpu-qint8", {})]
    if drifts:
        print()
        print("int8 vs float32 at the feature layer (the heads' input, whatever the adapter's training), per token")
        rows = [{"base": m, "functions": d["functions"], "tokens": d["tokens"], "mean rel err": d["mean_rel_err"],
                 "max rel err": d["max_rel_err"], "mean cos": d["mean_cos"], "min cos": d["min_cos"]} for m, d in drifts]
        for line in table([("base", ""), ("functions", "d"), ("tokens", "d"), ("mean rel err", ".4f"),
                           ("max rel err", ".4f"), ("mean cos", ".4f"), ("min cos", ".4f")], rows):
            print("  " + line)
    if "cold_load_s" in results:
        print(f"  model load of the embedded default: cold (GGUF -> safetensors, new process) {results['cold_load_s']:.1f} s")


if __name__ == "__main__":
    raise SystemExit(main())
