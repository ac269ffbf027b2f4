"""Editor latency through a real LSP session (server subprocess over stdio).

    python bench/lsp_latency.py [--sizes 200,2000,10000] [--lines 2000] [--edits 20] [--model DIR] [--quick]

Measures: time to answer `initialize` (the model loads in the background), didOpen -> first
ManySkills diagnostics and -> all of them for generated Python files of each size (the server
publishes after every chunk of functions it analyses), and after an edit inside
one function of the --lines file (p50/p95 over --edits edits), plus the model tokens processed per
edit vs. re-analysing the file. Each file's functions are distinct (no result-cache hits across files).
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


async def run(args) -> dict:
    client = make_test_lsp_client()
    settings = {"debounceMs": args.debounce, "skills": {"clone": False}, "threshold": 0.0}
    if args.model:
        settings["model"] = args.model
    client.set_configuration(settings, section="manyskills")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "server")}  # this checkout's server, not an installed one
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
    parser.add_argument("--model", default=None, help="base model dir (default: embedded + shipped adapter)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    args.sizes = [int(x) for x in ("200,2000" if args.quick else args.sizes).split(",") if x]
    info = machine_info()
    print(machine_line(info))
    result = asyncio.run(run(args))
    result["machine"] = info
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
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
