"""Where does a long-running server's memory go? Runs the soak's open/edit/close cycles against a real
`manyskills serve` and, inside the server, compares two points after the result cache is full:

- Python allocations (`tracemalloc`, grouped by traceback): what Python code still holds;
- live objects per type (`gc`): what accumulates;
- glibc's heap (`mallinfo2`): bytes in use vs bytes free inside the heap (fragmentation);
- RSS before and after `malloc_trim(0)`: how much of the growth is memory glibc could hand back.

The instrumentation is a `sitecustomize` module on the server's PYTHONPATH, driven by signals, so the
product carries no debug code:

    .venv/bin/python bench/memory_probe.py --model default --warmup 30 --cycles 100
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from _common import bench_model  # noqa: E402
from soak import run_cycle  # noqa: E402

from harness.raw_lsp import RawServer, server_env  # noqa: E402

SITECUSTOMIZE = r'''
import collections, ctypes, gc, json, os, signal, tracemalloc
_dir = os.environ.get("MEMPROBE_DIR")
_frames = int(os.environ.get("MEMPROBE_FRAMES", "10"))
if _dir:
    if _frames:
        tracemalloc.start(_frames)
    _libc = ctypes.CDLL("libc.so.6")

    class _Mallinfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in
                    ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
                     "fordblks", "keepcost")]

    _libc.mallinfo2.restype = _Mallinfo2

    def _mallinfo():
        m = _libc.mallinfo2()
        return {n: getattr(m, n) for n, _ in _Mallinfo2._fields_}

    def _type_name(o):
        t = type(o)
        module = t.__dict__.get("__module__", "")
        return f"{module if isinstance(module, str) else '?'}.{t.__qualname__}"

    def _snapshot(signum, frame):
        n = open(os.path.join(_dir, "request")).read().strip()
        gc.collect()
        if _frames:
            tracemalloc.take_snapshot().dump(os.path.join(_dir, f"snap-{n}.bin"))
        counts = collections.Counter(_type_name(o) for o in gc.get_objects())
        with open(os.path.join(_dir, f"state-{n}.json"), "w") as f:
            json.dump({"types": counts, "mallinfo": _mallinfo(),
                       "traced": tracemalloc.get_traced_memory()}, f)
        open(os.path.join(_dir, f"done-{n}"), "w").close()

    def _trim(signum, frame):
        _libc.malloc_trim(0)
        open(os.path.join(_dir, "trimmed"), "w").close()

    signal.signal(signal.SIGUSR1, _snapshot)
    signal.signal(signal.SIGUSR2, _trim)
'''


def _wait_file(path: Path, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the server did not write {path.name}")
        time.sleep(0.1)


def _rss(proc: psutil.Process) -> float:
    return round(proc.memory_info().rss / 2**20, 1)


def probe(model: str | None, warmup: int, cycles: int, cache_size: int, docs: int, functions: int,
          frames: int, top: int, edits: int = 10, extra_options: dict | None = None) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="memprobe-"))
    (workdir / "sitecustomize.py").write_text(SITECUSTOMIZE)
    options = {"model": model, "threshold": 0.0, "debounceMs": 50, "cacheSize": cache_size,
               "skills": {"clone": True, "review": False}, **(extra_options or {})}
    env = server_env([str(workdir)], MEMPROBE_DIR=str(workdir), MEMPROBE_FRAMES=str(frames))
    server = RawServer(env=env, configuration=options, stderr_path=workdir / "server.log")
    server.initialize(options)
    server.wait_ready()
    proc = psutil.Process(server.proc.pid)
    rng = random.Random(0)

    def snapshot(name: str) -> dict:
        (workdir / "request").write_text(name)
        os.kill(proc.pid, signal.SIGUSR1)
        _wait_file(workdir / f"done-{name}")
        state = json.loads((workdir / f"state-{name}.json").read_text())
        state["rss_mb"] = _rss(proc)
        return state

    curve = []
    for cycle in range(warmup):
        run_cycle(server, rng, cycle, docs, functions, edits)
    first = snapshot("a")
    for cycle in range(warmup, warmup + cycles):
        run_cycle(server, rng, cycle, docs, functions, edits)
        curve.append({"cycle": cycle + 1, "rss_mb": _rss(proc)})
    second = snapshot("b")
    os.kill(proc.pid, signal.SIGUSR2)
    _wait_file(workdir / "trimmed")
    rss_trimmed = _rss(proc)
    stats = server.command("manyskills.stats")
    server.close()

    diffs = []
    if frames:
        a = tracemalloc.Snapshot.load(str(workdir / "snap-a.bin"))
        b = tracemalloc.Snapshot.load(str(workdir / "snap-b.bin"))
        diffs = b.compare_to(a, "traceback")
    grown = [{"size_diff_kb": round(d.size_diff / 1024, 1), "count_diff": d.count_diff,
              "traceback": [f"{f.filename.replace(str(REPO) + '/', '')}:{f.lineno}" for f in d.traceback][-frames:]}
             for d in diffs[:top] if d.size_diff > 0]
    type_growth = sorted(((t, n - first["types"].get(t, 0)) for t, n in second["types"].items()),
                         key=lambda kv: -kv[1])[:top]
    mi_a, mi_b = first["mallinfo"], second["mallinfo"]

    def per_cycle(x: float) -> float:
        return round(x / cycles, 4)

    def mb(x: float) -> float:
        return round(x / 2**20, 2)

    return {
        "model": model or "default (embedded base + shipped adapter)", "options": options, "edits_per_document": edits,
        "warmup_cycles": warmup, "cycles": cycles,
        "cache_size": cache_size, "cache_entries": stats["cacheEntries"], "functions_analysed": stats["functionsAnalysed"],
        "rss_mb": {"a": first["rss_mb"], "b": second["rss_mb"], "after_malloc_trim": rss_trimmed,
                   "growth_per_cycle": per_cycle(second["rss_mb"] - first["rss_mb"])},
        "python_traced_mb": {"a": mb(first["traced"][0]), "b": mb(second["traced"][0]),
                             "growth_per_cycle": per_cycle(mb(second["traced"][0] - first["traced"][0]))},
        "glibc_heap_mb": {k: {"a": mb(mi_a[k]), "b": mb(mi_b[k])} for k in ("arena", "hblkhd", "uordblks", "fordblks")},
        "gc_objects": {"a": sum(first["types"].values()), "b": sum(second["types"].values())},
        "type_growth": [{"type": t, "count_diff": n} for t, n in type_growth if n > 0],
        "python_growth_by_traceback": grown,
        "rss_curve": curve,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model directory, `default` for the shipped one (default: tiny)")
    parser.add_argument("--warmup", type=int, default=30, help="cycles before the first snapshot (fill the cache)")
    parser.add_argument("--cycles", type=int, default=100, help="cycles between the two snapshots")
    parser.add_argument("--cache-size", type=int, default=500)
    parser.add_argument("--docs", type=int, default=3)
    parser.add_argument("--functions", type=int, default=20)
    parser.add_argument("--frames", type=int, default=10,
                        help="traceback depth for tracemalloc; 0 = no tracemalloc (glibc and gc counts only, "
                             "at full speed: tracemalloc slows a real-model cycle ~5x)")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--edits", type=int, default=10, help="edits per document per cycle")
    parser.add_argument("--options", default="{}", help="JSON merged into the server settings, e.g. "
                        "'{\"skills\": {\"clone\": false, \"review\": false}}'")
    parser.add_argument("--json", default=str(REPO / "bench" / "results" / "memory_probe.json"))
    args = parser.parse_args()
    model = None if args.model == "default" else bench_model(args.model)
    result = probe(model, args.warmup, args.cycles, args.cache_size, args.docs, args.functions, args.frames, args.top,
                   args.edits, json.loads(args.options))
    print(json.dumps({k: v for k, v in result.items() if k != "rss_curve"}, indent=2))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
