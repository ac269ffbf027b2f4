"""Load: bursts of ~1,000 didChange/s over several open documents while a workspace scan runs.

Measures, against a real `manyskills serve` subprocess (tiny random model by default, so the numbers
are about the server's plumbing, not the model's speed):
  - p50/p95 latency from the last change of a burst to the final diagnostics of that version
    (every function reported: threshold 0 gives each function a finding),
  - the engine queue length sampled during bursts (must stay bounded: stale runs are cancelled),
  - functions analysed vs changes sent (stale work dropped),
  - that the latest version wins (server text == client text; last published version == final).

    nice -n 19 .venv/bin/python bench/load.py --bursts 5 --rate 1000 --docs 4 --json bench/results/load.json
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from _common import bench_model, percentile  # noqa: E402

from harness.raw_lsp import RawServer  # noqa: E402
from harness.text_reference import apply_change, utf16_position  # noqa: E402

FUNCTION = "def handler_{i}(items, limit={i}):\n    total = 0\n    for item in items:\n        total += item - limit\n    return total\n\n\n"


def make_workspace(root: Path, files: int, functions: int) -> None:
    for f in range(files):
        (root / f"module_{f}.py").write_text("".join(FUNCTION.format(i=f * 1000 + i) for i in range(functions)))


def run_load(model: str, bursts: int = 5, rate: int = 1000, docs: int = 4, functions: int = 30,
             scan_files: int = 40, burst_seconds: float = 1.0, seed: int = 0, log: Path | None = None) -> dict:
    rng = random.Random(seed)
    work = Path(tempfile.mkdtemp(prefix="manyskills-load-"))
    make_workspace(work, scan_files, functions)
    options = {"model": model, "threshold": 0.0, "debounceMs": 100, "skills": {"clone": False, "review": False}}
    server = RawServer(stderr_path=log, configuration=options)
    server.initialize(options, root=work)
    ready = server.wait_ready()
    uris = [(work / f"open_{d}.py").as_uri() for d in range(docs)]
    texts = {uri: "".join(FUNCTION.format(i=d * 10_000 + i) for i in range(functions)) for d, uri in enumerate(uris)}
    versions = {uri: 1 for uri in uris}
    for uri in uris:
        server.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                                "text": texts[uri]}})
    for uri in uris:
        server.wait_for(lambda u=uri: (d := server.diagnostics(u)) and len(d["diagnostics"]) == functions, 900, 0.1,
                        "initial diagnostics")
    base = server.command("manyskills.stats")
    scan_id = server.request_async("workspace/executeCommand", {"command": "manyskills.scanWorkspace"})
    queue_samples: list[int] = []
    stop = threading.Event()

    def sample_queue() -> None:
        while not stop.is_set():
            try:
                queue_samples.append(server.command("manyskills.stats", timeout=60)["queue"])
            except Exception:  # noqa: BLE001 - sampling must not end the run
                pass
            time.sleep(0.1)

    sampler = threading.Thread(target=sample_queue, daemon=True)
    sampler.start()
    latencies: list[float] = []
    changes_sent = 0
    for _burst in range(bursts):
        burst_start = time.monotonic()
        n = int(rate * burst_seconds)
        for k in range(n):
            uri = uris[k % docs]
            text = texts[uri]
            # Edit inside a function body: change one digit of a `limit=` default (stays valid Python).
            pos = rng.choice([m.end() for m in re.finditer("limit=", text)])
            change = {"range": {"start": utf16_position(text, pos), "end": utf16_position(text, pos + 1)},
                      "text": str(rng.randrange(10))}
            versions[uri] += 1
            server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": versions[uri]},
                                                     "contentChanges": [change]})
            texts[uri] = apply_change(text, change)
            changes_sent += 1
            target = burst_start + (k + 1) / rate  # pace the burst at `rate` changes per second
            delay = target - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        last_change = time.monotonic()
        for uri in uris:
            final = versions[uri]
            server.wait_for(lambda u=uri, v=final: (d := server.diagnostics(u)) and d.get("version") == v
                            and len(d["diagnostics"]) == functions, 900, 0.005, "final diagnostics")
            latencies.append(time.monotonic() - last_change)
    stop.set()
    sampler.join(5)
    scan = server.wait_response(scan_id, 1800)
    after = server.command("manyskills.stats")
    mismatches = 0
    for uri in uris:
        state = server.command("manyskills.documentState", uri)
        mismatches += int(state["text"] != texts[uri] or state["version"] != versions[uri])
    server.close()
    return {
        "model": ready.get("state"), "bursts": bursts, "rate_per_s": rate, "documents": docs,
        "functions_per_document": functions, "changes_sent": changes_sent,
        "final_diagnostics_latency_s": {"p50": round(statistics.median(latencies), 3),
                                        "p95": round(percentile(latencies, 95), 3),
                                        "max": round(max(latencies), 3), "n": len(latencies)},
        "queue": {"max": max(queue_samples, default=0), "samples": len(queue_samples)},
        "functions_analysed_during_load": after["functionsAnalysed"] - base["functionsAnalysed"],
        "scan": scan.get("result"), "latest_version_mismatches": mismatches,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model directory (default: a tiny random model, built once)")
    parser.add_argument("--bursts", type=int, default=5)
    parser.add_argument("--rate", type=int, default=1000, help="didChange per second within a burst")
    parser.add_argument("--docs", type=int, default=4)
    parser.add_argument("--functions", type=int, default=30)
    parser.add_argument("--scan-files", type=int, default=40)
    parser.add_argument("--json", default=str(REPO / "bench" / "results" / "load.json"))
    args = parser.parse_args()
    model = bench_model(args.model)
    result = run_load(model, args.bursts, args.rate, args.docs, args.functions, args.scan_files)
    print(json.dumps(result, indent=2))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["latest_version_mismatches"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
