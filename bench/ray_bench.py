"""Team scale on Ray: memory of N editor sessions, and scan throughput local vs Ray workers.

    python bench/ray_bench.py [--model DIR] [--sessions 1,2,4] [--functions 256] [--json bench/results/ray.json]

1. Memory: N real `manyskills serve` subprocesses (one per editor window), each with a document
   open and its diagnostics published. In-process: every server loads its own model. Shared: every
   server uses `engine = http://...` and one `manyskills model-server` (local Ray instance, one
   replica) holds the model. Memory is summed over all processes (servers + the whole Ray tree) as
   RSS (pages shared between processes count once per process: the usual `ps` view, an upper bound)
   and as PSS (shared pages split between their processes: what the processes use together).
2. Throughput: the same functions (this repository's own Python code) analysed in-process (the
   engine, torch's default threads) and by `check --ray`'s worker pool on a local Ray instance with
   1 and 2 workers (one CPU and one torch thread each); model loading and worker start are reported
   separately from the analysis time. The Ray results are checked against the in-process ones.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
from lsprotocol import types as lsp
from pytest_lsp import client_capabilities
from pytest_lsp.client import make_test_lsp_client

REPO = Path(__file__).resolve().parent.parent
DOC = "".join(f"def handler_{i}(items, limit={i}):\n    total = 0\n    for item in items:\n"
              f"        total += item - limit\n    return total\n\n\n" for i in range(20))
URI = "file:///tmp/manyskills-bench/doc.py"


def rss_mb(pids: list[int]) -> tuple[float, float]:
    """(RSS, PSS) summed over `pids`, in MB. RSS counts a page shared by k processes k times (the `ps`
    view, an upper bound); PSS charges each process 1/k of it, so the PSS sum is the memory used."""
    rss = pss = 0
    for pid in pids:
        try:
            info = psutil.Process(pid).memory_full_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        rss += info.rss
        pss += getattr(info, "pss", info.rss)
    return rss / 2**20, pss / 2**20


def tree(pid: int) -> list[int]:
    try:
        return [pid] + [c.pid for c in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


async def open_editors(n: int, settings: dict) -> list:
    async def one():
        client = make_test_lsp_client()
        client.set_configuration(settings, section="manyskills")
        await client.start_io(sys.executable, "-m", "manyskills", "serve")
        await client.initialize_session(lsp.InitializeParams(capabilities=client_capabilities("neovim"),
                                                             initialization_options=settings))
        client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(
            uri=URI, language_id="python", version=1, text=DOC)))
        deadline = time.monotonic() + 1800
        while len([d for d in client.diagnostics.get(URI, []) if d.source == "manyskills"]) < 20:
            if time.monotonic() > deadline:
                raise TimeoutError("no diagnostics in 30 min")
            await asyncio.sleep(0.1)
        return client

    return list(await asyncio.gather(*(one() for _ in range(n))))


async def close_editors(clients: list) -> None:
    for client in clients:
        await client.shutdown_session()
        await client.stop()


def start_service(args) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "manyskills", "model-server", "--address", "local", "--cluster-cpus", "2",
               "--num-cpus", "1", "--port", str(port), "--device", args.device]
    if args.model:
        command += ["--model", args.model]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    while selector.select(1800) and proc.poll() is None:
        line = proc.stdout.readline()
        if line.startswith("{"):
            return proc, json.loads(line)["url"]
    raise RuntimeError("model-server did not start")


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(120)
    except subprocess.TimeoutExpired:
        proc.kill()


async def memory(args) -> list[dict]:
    base = {"skills": {"clone": False}, "threshold": 0.0, "device": args.device}
    if args.model:
        base["model"] = args.model
    rows = []
    for n in args.sessions:
        editors = await open_editors(n, base)
        in_process, in_process_pss = rss_mb([c._server.pid for c in editors])
        await close_editors(editors)
        rows.append({"sessions": n, "in_process_mb": round(in_process), "in_process_pss_mb": round(in_process_pss)})
        print(f"  {n} in-process session(s): RSS {in_process:.0f} MB, PSS {in_process_pss:.0f} MB",
              file=sys.stderr, flush=True)
    service, url = start_service(args)
    try:
        for row in rows:
            editors = await open_editors(row["sessions"], {**base, "engine": url, "engineTimeout": 600})
            editors_mb, editors_pss = rss_mb([c._server.pid for c in editors])
            service_mb, service_pss = rss_mb(tree(service.pid))
            await close_editors(editors)
            row.update(shared_editors_mb=round(editors_mb), shared_service_mb=round(service_mb),
                       shared_total_mb=round(editors_mb + service_mb), shared_editors_pss_mb=round(editors_pss),
                       shared_service_pss_mb=round(service_pss), shared_total_pss_mb=round(editors_pss + service_pss))
            print(f"  {row['sessions']} session(s) + service: RSS {editors_mb:.0f} + {service_mb:.0f} MB, "
                  f"PSS {editors_pss:.0f} + {service_pss:.0f} MB", file=sys.stderr, flush=True)
    finally:
        stop(service)
    return rows


def corpus(limit: int):
    from manyskills.analysis.files import iter_source_files
    from manyskills.analysis.scan import index_files
    from manyskills.settings import Settings

    results, count = [], 0
    for result in index_files(iter_source_files([str(REPO / "server" / "manyskills")], ("python",)), Settings()):
        if count >= limit:
            break
        result.functions = result.functions[: limit - count]
        count += len(result.functions)
        results.append(result)
    return results


def throughput(args) -> list[dict]:
    from manyskills.analysis.rounds import plan_rounds, split_rounds
    from manyskills.model.engine import ModelEngine
    from manyskills.model.runtime import LocalRuntime
    from manyskills.model.types import FunctionInput
    from manyskills.service.cluster import connect
    from manyskills.service.distributed import RayPoolBackend, analyse_on_ray

    results = corpus(args.functions)
    functions = [f for rounds in plan_rounds([f for r in results for f in r.functions]) for f in rounds]
    rows = []
    started = time.perf_counter()
    engine = ModelEngine(lambda progress: LocalRuntime.load(args.model, None, args.device))
    engine.start()
    engine.wait_ready()
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    local: dict = {}
    for chunk in split_rounds(functions):  # the rounds a local scan sends
        out = engine.analyse([FunctionInput(f.language, f.text, f.is_test) for f in chunk]).result()
        local.update({f.content_hash: a for f, a in zip(chunk, out)})
    seconds = time.perf_counter() - started
    engine.shutdown(wait=30)
    rows.append({"mode": "local (in-process)", "workers": 1, "start_s": round(load_s, 1),
                 "analyse_s": round(seconds, 1), "functions_per_s": round(len(functions) / seconds, 2)})
    print(f"  local: {len(functions) / seconds:.2f} functions/s", file=sys.stderr, flush=True)
    # Ray starts its workers at nice 15 (worker_niceness) so its own daemons win the CPU; on a shared box
    # that would measure the other tenants, not Ray. Workers here run at the driver's priority instead.
    os.environ.setdefault("RAY_worker_niceness", "0")
    ray = connect("local", num_cpus=2)
    try:
        for workers in (1, 2):
            started = time.perf_counter()
            pool = RayPoolBackend("local", args.model, None, args.device, workers)
            start_s = time.perf_counter() - started
            started = time.perf_counter()
            remote = analyse_on_ray(pool, results)
            seconds = time.perf_counter() - started
            pool.close()
            same = all(remote[h].defect_score == local[h].defect_score and remote[h].bug_line == local[h].bug_line
                       for h in local)
            rows.append({"mode": "ray", "workers": workers, "start_s": round(start_s, 1),
                         "analyse_s": round(seconds, 1), "functions_per_s": round(len(functions) / seconds, 2),
                         "same_results": same})
            print(f"  ray x{workers}: {len(functions) / seconds:.2f} functions/s (same results: {same})",
                  file=sys.stderr, flush=True)
    finally:
        ray.shutdown()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="base model directory (default: the embedded base)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sessions", default="1,2,4")
    parser.add_argument("--functions", type=int, default=256)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    args.sessions = [int(s) for s in args.sessions.split(",")]
    info = {"model": args.model or "embedded SmolLM2-135M-Instruct + models/smollm2-135m", "device": args.device,
            "dtype": os.environ.get("MANYSKILLS_DTYPE", "auto"), "cpus": os.cpu_count(),
            "ray_worker_niceness": os.environ.get("RAY_worker_niceness", "0 (set by this script)"),
            "load_average_at_start": [round(x, 1) for x in os.getloadavg()]}
    memory_rows = [] if args.skip_memory else asyncio.run(memory(args))
    throughput_rows = throughput(args)
    info["load_average_at_end"] = [round(x, 1) for x in os.getloadavg()]
    print(f"\nmodel: {info['model']}  device: {info['device']}  dtype: {info['dtype']}  cpus: {info['cpus']}  "
          f"load average at start/end: {info['load_average_at_start'][0]} / {info['load_average_at_end'][0]}")
    if memory_rows:
        print("\n| editor sessions | in-process models: RSS / PSS | shared service, RSS: editors + service = total "
              "| shared service, PSS: editors + service = total |")
        print("|---|---|---|---|")
        for r in memory_rows:
            print(f"| {r['sessions']} | {r['in_process_mb']} / {r['in_process_pss_mb']} MB | {r['shared_editors_mb']} + "
                  f"{r['shared_service_mb']} = {r['shared_total_mb']} MB | {r['shared_editors_pss_mb']} + "
                  f"{r['shared_service_pss_mb']} = {r['shared_total_pss_mb']} MB |")
    print("\n| scan | workers | start (load) | analyse | functions/s | same results |")
    print("|---|---|---|---|---|---|")
    for r in throughput_rows:
        print(f"| {r['mode']} | {r['workers']} | {r['start_s']} s | {r['analyse_s']} s | {r['functions_per_s']} | "
              f"{r.get('same_results', '-')} |")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"info": info, "memory": memory_rows, "throughput": throughput_rows},
                                              indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
