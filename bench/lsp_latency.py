"""Editor latency through a real LSP session (server subprocess over stdio).

    python bench/lsp_latency.py [--lines 2000] [--edits 20] [--model DIR]

Measures: time to answer `initialize` (the model loads in the background), didOpen -> first
ManySkills diagnostics for a generated Python file, and after an edit inside one function
(p50/p95 over --edits edits), plus the model tokens processed per edit vs. re-analysing the file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

from lsprotocol import types as lsp
from pytest_lsp import client_capabilities
from pytest_lsp.client import make_test_lsp_client

TEMPLATE = '''def handler_{i}(request, limit={i}):
    """Process request number {i}."""
    items = request.get("items", [])
    total = 0
    for index in range(len(items)):
        if items[index] > limit:
            total += items[index] - limit
    return total

'''


def make_file(lines: int) -> str:
    out, i = [], 0
    while sum(chunk.count("\n") for chunk in out) < lines:
        out.append(TEMPLATE.format(i=i))
        i += 1
    return "".join(out)


async def run(args) -> dict:
    client = make_test_lsp_client()
    settings = {"debounceMs": args.debounce, "skills": {"clone": False}, "threshold": 0.0}
    if args.model:
        settings["model"] = args.model
    client.set_configuration(settings, section="manyskills")
    await client.start_io(sys.executable, "-m", "manyskills", "serve")
    started = time.perf_counter()
    await client.initialize_session(lsp.InitializeParams(capabilities=client_capabilities("neovim"),
                                                         initialization_options=settings))
    result = {"initialize_s": time.perf_counter() - started}

    async def stats():
        return await client.workspace_execute_command_async(lsp.ExecuteCommandParams(command="manyskills.stats"))

    while (await stats())["state"] != "ready":
        await asyncio.sleep(0.1)
    result["model_ready_s"] = time.perf_counter() - started

    uri = "file:///tmp/manyskills-bench/big.py"
    text = make_file(args.lines)
    n_functions = text.count("def handler_")
    t0 = time.perf_counter()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(
        uri=uri, language_id="python", version=1, text=text)))
    while len([d for d in client.diagnostics.get(uri, []) if d.source == "manyskills"]) < n_functions:
        await asyncio.sleep(0.02)
    result["open_to_diagnostics_s"] = time.perf_counter() - t0
    full = await stats()
    result["functions"] = n_functions
    result["tokens_full_file"] = full["tokensAnalysed"]

    edit_times, tokens_per_edit = [], []
    lines = text.split("\n")
    version = 1
    for k in range(args.edits):
        target_fn = (k * 7) % n_functions
        line_no = next(i for i, line in enumerate(lines) if line.startswith(f"def handler_{target_fn}(")) + 3
        before = await stats()
        version += 1
        new_text = f"    total = {k + 1}"
        old = lines[line_no]
        lines[line_no] = new_text
        client.diagnostics[uri] = []
        t0 = time.perf_counter()
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[lsp.TextDocumentContentChangePartial(
                range=lsp.Range(start=lsp.Position(line_no, 0), end=lsp.Position(line_no, len(old))), text=new_text)]))
        while True:
            s = await stats()
            if s["functionsAnalysed"] > before["functionsAnalysed"] and s["queue"] == 0 and \
                    len(client.diagnostics.get(uri, [])) >= n_functions:
                break
            await asyncio.sleep(0.01)
        edit_times.append(time.perf_counter() - t0)
        tokens_per_edit.append(s["tokensAnalysed"] - before["tokensAnalysed"])
    result["edit_to_diagnostics_p50_s"] = statistics.median(edit_times)
    result["edit_to_diagnostics_p95_s"] = sorted(edit_times)[max(0, int(0.95 * len(edit_times)) - 1)]
    result["tokens_per_edit"] = statistics.mean(tokens_per_edit)
    result["edit_vs_full_token_ratio"] = result["tokens_per_edit"] / max(1, result["tokens_full_file"])
    result["debounce_ms"] = args.debounce
    await client.shutdown_session()
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--debounce", type=int, default=300)
    parser.add_argument("--model", default=None, help="base model dir (default: embedded + shipped adapter)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    result = asyncio.run(run(args))
    print(f"initialize answered in {result['initialize_s']:.2f} s; model ready after {result['model_ready_s']:.1f} s")
    print(f"didOpen -> diagnostics, {args.lines} lines / {result['functions']} functions: "
          f"{result['open_to_diagnostics_s']:.1f} s")
    print(f"edit inside one function -> diagnostics (debounce {args.debounce} ms): p50 "
          f"{result['edit_to_diagnostics_p50_s']:.2f} s, p95 {result['edit_to_diagnostics_p95_s']:.2f} s "
          f"over {args.edits} edits")
    print(f"model tokens per edit {result['tokens_per_edit']:.0f} vs whole file {result['tokens_full_file']} "
          f"({100 * result['edit_vs_full_token_ratio']:.1f}%)")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
