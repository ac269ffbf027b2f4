"""Memory soak: open/edit/close cycles against a real `manyskills serve` for a set duration, sampling
the server's RSS and its cache sizes; writes the curve to JSON.

Every cycle opens documents with fresh function bodies (so the result cache keeps filling), edits
them, and closes them. With `--cache-size` small, the LRU must hold at that size and RSS must level
off; the JSON holds every sample plus start/peak/end RSS and the growth over the second half.

    nice -n 19 .venv/bin/python bench/soak.py --minutes 5 --json bench/results/soak.json
    .venv/bin/python bench/soak.py --minutes 30 --model default   # the real model, as a user runs it
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from _common import bench_model  # noqa: E402

from harness.raw_lsp import RawServer  # noqa: E402
from harness.text_reference import apply_change, utf16_position  # noqa: E402

FUNCTION = "def step_{c}_{i}(rows, k={c}):\n    out = []\n    for row in rows:\n        out.append(row * k + {i})\n    return out\n\n\n"


def run_cycle(server: RawServer, rng: random.Random, cycle: int, docs: int, functions: int,
              edits_per_document: int = 10) -> int:
    """Open `docs` documents of fresh functions, edit each `edits_per_document` times, wait for their analysis, close them.
    Returns the number of edits sent."""
    edits = 0
    uris = [f"file:///soak/cycle_{cycle}_{d}.py" for d in range(docs)]
    texts = {}
    for d, uri in enumerate(uris):
        texts[uri] = "".join(FUNCTION.format(c=cycle * docs + d, i=i) for i in range(functions))
        server.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python",
                                                                "version": 1, "text": texts[uri]}})
    last_version = 1 + edits_per_document
    for version in range(2, last_version + 1):
        for uri in uris:
            text = texts[uri]
            pos = rng.randrange(len(text))
            change = {"range": {"start": utf16_position(text, pos), "end": utf16_position(text, pos)},
                      "text": rng.choice(["x", " ", "# note\n", "1"])}
            server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                                     "contentChanges": [change]})
            texts[uri] = apply_change(text, change)
            edits += 1
        time.sleep(0.02)
    for uri in uris:  # let this cycle's analysis finish before closing, so the result cache fills
        # Random edits can break a function's syntax, so count the functions the server indexed
        # now; threshold 0 gives every analysed function exactly one `defect` diagnostic.
        indexed = server.command("manyskills.documentState", uri)["functions"]
        server.wait_for(lambda u=uri, n=indexed: (d := server.diagnostics(u)) and d.get("version") == last_version
                        and sum(x.get("code") == "defect" for x in d["diagnostics"]) >= n,
                        900, 0.05, "analysis")
        server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    return edits


def soak(model: str | None, minutes: float, cache_size: int, docs: int, functions: int, sample_every: float,
         seed: int = 0, log: Path | None = None) -> dict:
    rng = random.Random(seed)
    options = {"model": model, "threshold": 0.0, "debounceMs": 50, "cacheSize": cache_size,
               "skills": {"clone": True, "review": False}}
    server = RawServer(stderr_path=log, configuration=options)
    server.initialize(options)
    state = server.wait_ready()["state"]
    proc = psutil.Process(server.proc.pid)
    started = time.monotonic()
    deadline = started + minutes * 60
    samples: list[dict] = []
    next_sample = started
    cycle = edits = 0
    while time.monotonic() < deadline:
        edits += run_cycle(server, rng, cycle, docs, functions)
        cycle += 1
        now = time.monotonic()
        if now >= next_sample:
            stats = server.command("manyskills.stats")
            samples.append({"t_s": round(now - started, 1), "rss_mb": round(proc.memory_info().rss / 2**20, 1),
                            "cycles": cycle, "edits": edits, "cache_entries": stats["cacheEntries"],
                            "documents": stats["documents"], "queue": stats["queue"],
                            "functions_analysed": stats["functionsAnalysed"]})
            print(json.dumps(samples[-1]), flush=True)
            next_sample = now + sample_every
    final = server.command("manyskills.stats")
    server.close()
    rss = [s["rss_mb"] for s in samples]
    half = samples[len(samples) // 2:]
    growth = (half[-1]["rss_mb"] - half[0]["rss_mb"]) if len(half) > 1 else 0.0
    span_min = (half[-1]["t_s"] - half[0]["t_s"]) / 60 if len(half) > 1 else 0.0
    return {
        "model": model or "default (embedded base + shipped adapter)", "model_state": state, "minutes": minutes, "cache_size_setting": cache_size, "documents_per_cycle": docs,
        "functions_per_document": functions, "cycles": cycle, "edits": edits,
        "rss_mb": {"start": rss[0] if rss else None, "peak": max(rss, default=None), "end": rss[-1] if rss else None,
                   "second_half_growth": round(growth, 1),
                   "second_half_growth_per_min": round(growth / span_min, 2) if span_min else None},
        "cache_entries_max": max((s["cache_entries"] for s in samples), default=0),
        "cache_bounded": max((s["cache_entries"] for s in samples), default=0) <= cache_size,
        "documents_open_at_end": final["documents"], "samples": samples,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--model", default=None,
                        help="model directory, or `default` for the embedded base + shipped adapter a user gets "
                             "(default: a tiny random model)")
    parser.add_argument("--cache-size", type=int, default=2000, help="the server's cacheSize setting")
    parser.add_argument("--docs", type=int, default=3)
    parser.add_argument("--functions", type=int, default=20)
    parser.add_argument("--sample-every", type=float, default=5.0, help="seconds between RSS samples")
    parser.add_argument("--json", default=str(REPO / "bench" / "results" / "soak.json"))
    args = parser.parse_args()
    model = None if args.model == "default" else bench_model(args.model)
    result = soak(model, args.minutes, args.cache_size, args.docs, args.functions, args.sample_every)
    summary = {k: v for k, v in result.items() if k != "samples"}
    print(json.dumps(summary, indent=2))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["cache_bounded"] and result["documents_open_at_end"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
