"""Editor latency through a real LSP session (server subprocess over stdio).

    python bench/lsp_latency.py [--sizes 200,2000,10000] [--lines 2000] [--edits 20] [--quick]
                                [--models smollm2-135m,qwen2.5-coder-0.5b [--adapters DIR,DIR]]

Measures: time to answer `initialize` (the model loads in the background), didOpen -> first
ManySkills diagnostics and -> all of them for generated Python files of each size (the server
publishes after every chunk of functions it analyses), and after an edit inside
one function of the --lines file (p50/p95 over --edits edits), plus the model tokens processed per
edit vs. re-analysing the file. Each file's functions are distinct (no result-cache hits across files).

With several --models, one server session per base runs the same files and edits in turn, and one table
puts them side by side. Each base runs with its adapter (bench/_bases.py: the one given, the shipped one,
else an untrained one of its recipe's shape: speed is the same). The FLOP floor of an edit is
2 x parameters used per token x model tokens per edit / this process's GEMM peak in the server's dtype.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, machine_info, machine_line, percentile, write_json  # noqa: E402
from lsprotocol import types as lsp
from pytest_lsp import client_capabilities
from pytest_lsp.client import make_test_lsp_client

TEMPLATE = '''def {tag}_{i}(request, limit={i}):
    """Process request number {i}."""
    items = request.get("items", [])
    total = 0
    for index in range(len(items)):
        if items[index] > limit:
            total += items[index] - limit
    return total

'''


def make_file(lines: int, tag: str = "handler") -> str:
    out, i, n = [], 0, 0
    while n < lines:
        out.append(TEMPLATE.format(i=i, tag=tag))
        n += out[-1].count("\n")
        i += 1
    return "".join(out)


async def open_and_wait(client, uri: str, text: str, n_functions: int) -> tuple[float, float]:
    """Seconds from didOpen to the first ManySkills diagnostic and to one per function."""
    t0 = time.perf_counter()
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
        )
    )
    first = None
    while (shown := len([d for d in client.diagnostics.get(uri, []) if d.source == "manyskills"])) < n_functions:
        if shown and first is None:
            first = time.perf_counter() - t0
        await asyncio.sleep(0.02)
    total = time.perf_counter() - t0
    return (first if first is not None else total), total


async def run(args, model: str | None = None, adapter: str | None = None) -> dict:
    client = make_test_lsp_client()
    settings = {"debounceMs": args.debounce, "skills": {"clone": False}, "threshold": 0.0}
    if model:
        settings["model"] = model
    if adapter:
        settings["adapter"] = adapter
    client.set_configuration(settings, section="manyskills")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "server")}  # this checkout's server, not an installed one
    if adapter:
        env.pop("MANYSKILLS_ADAPTER", None)
    await client.start_io(sys.executable, "-m", "manyskills", "serve", env=env)
    started = time.perf_counter()
    await client.initialize_session(
        lsp.InitializeParams(capabilities=client_capabilities("neovim"), initialization_options=settings)
    )
    result = {"initialize_s": time.perf_counter() - started}

    async def stats():
        return await client.workspace_execute_command_async(
            lsp.ExecuteCommandParams(command="manyskills.stats")
        )

    while (await stats())["state"] != "ready":
        await asyncio.sleep(0.1)
    result["model_ready_s"] = time.perf_counter() - started

    # didOpen -> diagnostics per file size; the edit file is opened (and edited) last among the sizes that
    # precede it, so its numbers are not affected by a bigger file still being analysed.
    result["open"] = {}
    sizes = sorted(set(args.sizes) | {args.lines})
    for size in sizes:
        before = await stats()
        text = make_file(size, tag=f"h{size}")
        n_functions = text.count(f"def h{size}_")
        uri = f"file:///tmp/manyskills-bench/file_{size}.py"
        first, seconds = await open_and_wait(client, uri, text, n_functions)
        after = await stats()
        result["open"][size] = {
            "lines": text.count("\n"),
            "functions": n_functions,
            "open_to_first_diagnostics_s": first,
            "open_to_diagnostics_s": seconds,
            "tokens": after["tokensAnalysed"] - before["tokensAnalysed"],
            "functions_per_s": n_functions / seconds,
        }
        print(
            f"  didOpen -> first diagnostics {first:.1f} s, all {seconds:.1f} s ({size} lines / {n_functions} functions)",
            flush=True,
        )
        if size == args.lines:
            await edits(client, stats, uri, text, n_functions, args, result)
    await client.shutdown_session()
    return result


async def edits(client, stats, uri: str, text: str, n_functions: int, args, result: dict) -> None:
    tag = f"h{args.lines}"
    result["functions"] = n_functions
    result["open_to_diagnostics_s"] = result["open"][args.lines]["open_to_diagnostics_s"]
    result["tokens_full_file"] = result["open"][args.lines]["tokens"]

    edit_times, tokens_per_edit = [], []
    lines = text.split("\n")
    version = 1
    for k in range(args.edits):
        target_fn = (k * 7) % n_functions
        line_no = next(i for i, line in enumerate(lines) if line.startswith(f"def {tag}_{target_fn}(")) + 3
        before = await stats()
        version += 1
        new_text = f"    total = {k + 1}"
        old = lines[line_no]
        lines[line_no] = new_text
        client.diagnostics[uri] = []
        t0 = time.perf_counter()
        client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[
                    lsp.TextDocumentContentChangePartial(
                        range=lsp.Range(start=lsp.Position(line_no, 0), end=lsp.Position(line_no, len(old))),
                        text=new_text,
                    )
                ],
            )
        )
        while True:
            s = await stats()
            if (
                s["functionsAnalysed"] > before["functionsAnalysed"]
                and s["queue"] == 0
                and len(client.diagnostics.get(uri, [])) >= n_functions
            ):
                break
            await asyncio.sleep(0.01)
        edit_times.append(time.perf_counter() - t0)
        tokens_per_edit.append(s["tokensAnalysed"] - before["tokensAnalysed"])
    result["edit_to_diagnostics_p50_s"] = statistics.median(edit_times)
    result["edit_to_diagnostics_p95_s"] = percentile(edit_times, 95)
    result["tokens_per_edit"] = statistics.mean(tokens_per_edit)
    result["edit_vs_full_token_ratio"] = result["tokens_per_edit"] / max(1, result["tokens_full_file"])
    result["debounce_ms"] = args.debounce


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--sizes", default="200,2000,10000", help="file sizes (lines) for didOpen -> diagnostics"
    )
    parser.add_argument("--lines", type=int, default=2000, help="size of the file that is edited")
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="sizes 200,2000 and 20 edits")
    parser.add_argument("--debounce", type=int, default=300)
    parser.add_argument("--model", default=None, help="one base (name or dir) with its shipped adapter, as the "
                                                      "server picks it (default: the embedded default)")
    parser.add_argument("--models", default=None, help="comma-separated bases, one server session each, side by side")
    parser.add_argument("--adapters", default=None, help="adapter dirs aligned with --models (empty entry: "
                                                         "shipped, else untrained of the recipe's shape)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    args.sizes = [int(x) for x in ("200,2000" if args.quick else args.sizes).split(",") if x]
    info = machine_info()
    print(machine_line(info))
    if not args.models:
        result = asyncio.run(run(args, args.model))
        result["machine"] = info
        report_one(result, args)
        write_json(args.json, result)
        return 0
    results = {"machine": info, "debounce_ms": args.debounce, "bases": side_by_side(args)}
    report_bases(results, args)
    write_json(args.json, results)
    return 0


def side_by_side(args) -> dict:
    import tempfile

    from _bases import adapters_arg, bench_adapter, models_arg, parameters_used_per_token_files
    from manyskills.model.base import resolve_base
    from manyskills.model.runtime import pick_device
    from throughput import matmul_peak_gflops

    device, dtype, _ = pick_device("auto")  # what the server will pick on this machine
    dtype_name = str(dtype).replace("torch.", "")
    peak = matmul_peak_gflops(dtype_name, device, [1024, 2048], 3)["peak_gflops"]
    print(f"{device}-{dtype_name}: GEMM peak {peak:.0f} GFLOP/s (the server's dtype)", flush=True)
    models = models_arg(args.models, "")
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="manyskills-bench-adapters-") as scratch:
        for model, given in zip(models, adapters_arg(args.adapters, models)):
            adapter = bench_adapter(model, given, Path(scratch))
            print(f"{model}: adapter {adapter.path or '-'} [{adapter.how}]", flush=True)
            result = asyncio.run(run(args, model, adapter.path))
            params = parameters_used_per_token_files(resolve_base(model).path, adapter.path)
            result.update(adapter=adapter.path, adapter_how=adapter.how, device=device, dtype=dtype_name,
                          gemm_peak_gflops=peak, parameters_used_per_token=params)
            result["edit_floor_s"] = 2 * params * result["tokens_per_edit"] / (peak * 1e9)
            compute = result["edit_to_diagnostics_p50_s"] - args.debounce / 1000
            result["edit_x_floor"] = compute / result["edit_floor_s"] if result["edit_floor_s"] else None
            for row in result["open"].values():
                row["floor_s"] = 2 * params * row["tokens"] / (peak * 1e9)
            out[model] = result
    return out


def report_one(result: dict, args) -> None:
    print(
        f"initialize answered in {result['initialize_s']:.2f} s; model ready after {result['model_ready_s']:.1f} s"
    )
    print("  lines  functions  didOpen->first s  didOpen->all s  functions/s  tokens")
    for size, row in result["open"].items():
        print(
            f"  {row['lines']:5d}  {row['functions']:9d}  {row['open_to_first_diagnostics_s']:16.1f}  "
            f"{row['open_to_diagnostics_s']:14.1f}  "
            f"{row['functions_per_s']:11.1f}  {row['tokens']:6d}"
        )
    print(
        f"edit inside one function -> diagnostics (debounce {args.debounce} ms): p50 "
        f"{result['edit_to_diagnostics_p50_s']:.2f} s, p95 {result['edit_to_diagnostics_p95_s']:.2f} s "
        f"over {args.edits} edits"
    )
    print(
        f"model tokens per edit {result['tokens_per_edit']:.0f} vs whole file {result['tokens_full_file']} "
        f"({100 * result['edit_vs_full_token_ratio']:.1f}%)"
    )


def report_bases(results: dict, args) -> None:
    from _bases import table

    bases = results["bases"]
    print()
    print(f"edit inside one function of the {args.lines}-line file -> diagnostics, debounce {args.debounce} ms "
          f"included, {args.edits} edits; floor = model FLOPs of the edit at this run's GEMM peak")
    rows = [{"base": m, "ready s": r["model_ready_s"], "edit p50 s": r["edit_to_diagnostics_p50_s"],
             "edit p95 s": r["edit_to_diagnostics_p95_s"], "tokens/edit": r["tokens_per_edit"],
             "floor ms": 1000 * r["edit_floor_s"], "(p50-debounce) x floor": r["edit_x_floor"],
             "adapter": r["adapter_how"].split(" (")[0]} for m, r in bases.items()]
    for line in table([("base", ""), ("ready s", ".1f"), ("edit p50 s", ".2f"), ("edit p95 s", ".2f"),
                       ("tokens/edit", ".0f"), ("floor ms", ".1f"), ("(p50-debounce) x floor", ".1f"),
                       ("adapter", "")], rows):
        print("  " + line)
    print()
    print("didOpen -> diagnostics of a whole file")
    rows = [{"base": m, "lines": row["lines"], "functions": row["functions"],
             "first s": row["open_to_first_diagnostics_s"], "all s": row["open_to_diagnostics_s"],
             "functions/s": row["functions_per_s"], "tokens": row["tokens"], "floor s": row["floor_s"],
             "x floor": row["open_to_diagnostics_s"] / row["floor_s"] if row["floor_s"] else None}
            for m, r in bases.items() for row in r["open"].values()]
    for line in table([("base", ""), ("lines", "d"), ("functions", "d"), ("first s", ".1f"), ("all s", ".1f"),
                       ("functions/s", ".1f"), ("tokens", "d"), ("floor s", ".2f"), ("x floor", ".1f")], rows):
        print("  " + line)


if __name__ == "__main__":
    raise SystemExit(main())
