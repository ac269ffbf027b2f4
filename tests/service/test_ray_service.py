"""Team scale on Ray, end to end: a local Ray instance (2 CPUs) runs the model service (Ray Serve,
tiny model, one replica); real language-server subprocesses share it; `check --ray` runs on the same
instance; a replica killed mid-request costs a retry or a clear message, never a hang.

The service batches slowly on purpose (`--fault-delay-s`) so a request is reliably in flight when
the replica is killed."""

from __future__ import annotations

import asyncio
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

pytestmark = pytest.mark.ray
pytest.importorskip("ray", reason="needs the `ray` extra (pip install -e '.[ray]'); CI installs it")

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "check"
ENV = {**os.environ, "MANYSKILLS_DTYPE": "float32"}  # identical numbers in every process, any CPU
FAULT_DELAY_S = 0.5
START_TIMEOUT_S = 600
SOURCE = '''def first(xs):
    total = 0
    for i in range(len(xs)):
        total += xs[i]
    return total


def second(name):
    if name is None:
        return ""
    return name.upper()


def test_clock():
    import time
    assert time.time() > 0
'''
URI = "file:///tmp/manyskills-ray/example.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def ready_line(proc: subprocess.Popen, timeout: float) -> dict | None:
    """model-server's one JSON line on stdout (anything else there is ignored)."""
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if not selector.select(max(0.0, deadline - time.monotonic())):
            break
        line = proc.stdout.readline()
        if line.startswith("{"):
            return json.loads(line)
    return None


@pytest.fixture(scope="module")
def service(tiny_model_dir, tmp_path_factory):
    log = tmp_path_factory.mktemp("service") / "model-server.log"
    port = free_port()
    with open(log, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "manyskills", "model-server", "--address", "local", "--cluster-cpus", "2",
             "--num-cpus", "1", "--replicas", "1", "--port", str(port), "--model", str(tiny_model_dir),
             "--device", "cpu", "--fault-delay-s", str(FAULT_DELAY_S)],
            stdout=subprocess.PIPE, stderr=err, text=True, env=ENV)
    try:
        info = ready_line(proc, START_TIMEOUT_S)
        if info is None:
            raise AssertionError(f"model-server did not start:\n{log.read_text()[-3000:]}")
        yield {**info, "log": log}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(90)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(30)


def settings(tiny_model_dir, **overrides) -> dict:
    # threshold 0: every function gets a defect finding, so nothing depends on the random weights.
    return {"model": str(tiny_model_dir), "device": "cpu", "threshold": 0.0, "debounceMs": 50,
            "skills": {"clone": False}, **overrides}


async def open_session(options: dict, text: str = SOURCE) -> LanguageClient:
    config = ClientServerConfig(server_command=[sys.executable, "-m", "manyskills", "serve"], server_env=ENV)
    client = await config.start()
    client.set_configuration(options, section="manyskills")
    await client.initialize_session(lsp.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), initialization_options=options))
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=URI, language_id="python", version=1, text=text)))
    return client


async def close_session(client: LanguageClient) -> None:
    await client.shutdown_session()
    await client.stop()


def diagnostics(client: LanguageClient) -> list[lsp.Diagnostic]:
    return [d for d in client.diagnostics.get(URI, []) if d.source == "manyskills"]


def summary(diags: list[lsp.Diagnostic]) -> list[tuple]:
    return sorted((d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character,
                   d.code, d.message, d.data["function"], d.data["score"]) for d in diags)


async def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return False


async def stats(client: LanguageClient) -> dict:
    return await client.workspace_execute_command_async(lsp.ExecuteCommandParams(command="manyskills.stats"))


async def test_two_editors_share_one_service_with_in_process_diagnostics(service, tiny_model_dir):
    local = await open_session(settings(tiny_model_dir))
    try:
        assert await wait_for(lambda: len(diagnostics(local)) == 3, 180)
        expected = summary(diagnostics(local))
        assert (await stats(local))["backend"] == "LocalRuntime"
    finally:
        await close_session(local)

    served_before = get_json(service["url"] + "/readyz")["stats"]["functions"]
    remote = settings(tiny_model_dir, engine=service["url"], engineTimeout=120)
    editors = await asyncio.gather(open_session(remote), open_session(remote))
    try:
        for editor in editors:
            assert await wait_for(lambda e=editor: len(diagnostics(e)) == 3, 180)
            assert summary(diagnostics(editor)) == expected
            assert (await stats(editor))["backend"] == "RemoteBackend"  # no model in the editor's server
        ready = get_json(service["url"] + "/readyz")
        assert ready["stats"]["functions"] - served_before == 2 * 3  # both sessions went to the one replica
        assert ready["identity"]["base_name"] == Path(tiny_model_dir).name  # the model the service was told to load

        # Live switch to the in-process model and back, no restart; results come from each backend's cache.
        editor = editors[0]
        editor.set_configuration(settings(tiny_model_dir), section="manyskills")
        editor.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings=None))
        for _ in range(600):
            if (await stats(editor))["backend"] == "LocalRuntime":
                break
            await asyncio.sleep(0.2)
        assert (await stats(editor))["backend"] == "LocalRuntime"
        assert await wait_for(lambda: summary(diagnostics(editor)) == expected, 60)
    finally:
        await asyncio.gather(*(close_session(e) for e in editors))


def test_service_health_and_bad_input(service, tiny_model_dir):
    health = get_json(service["url"] + "/healthz")
    assert health["state"] == "ok" and health["identity"]["base_name"] == Path(tiny_model_dir).name
    request = urllib.request.Request(service["url"] + "/v1/analyse", method="POST",
                                     data=json.dumps({"items": [{"language": 3}]}).encode())
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 400
    answer = json.load(refused.value)
    assert "language" in answer["error"] and answer["identity"]["base_name"] == Path(tiny_model_dir).name


def test_likelihood_over_the_wire_equals_the_in_process_one(service, tiny_model_dir, monkeypatch):
    """Repairs ask the language model how natural an edit is; through a shared service the answer is the
    in-process one (same model, float32 on both sides), and bad input is refused with the field named."""
    from manyskills.model.runtime import LocalRuntime
    from manyskills.model.types import FunctionInput
    from manyskills.service.client import ServiceClient
    from manyskills.service.remote import RemoteBackend

    monkeypatch.setenv("MANYSKILLS_DTYPE", "float32")
    items = [FunctionInput("python", "def f(x):\n    return x + 1\n"),
             FunctionInput("python", "def f(x):\n    return x - 1\n"), FunctionInput("c", "int g(void) { return 0; }")]
    remote = RemoteBackend(ServiceClient(service["url"])).log_likelihood(items)
    local = LocalRuntime.load(str(tiny_model_dir), None, "cpu").log_likelihood(items)
    assert remote == pytest.approx(local, rel=1e-4, abs=1e-3) and remote[0] != remote[1]
    request = urllib.request.Request(service["url"] + "/v1/likelihood", method="POST",
                                     data=json.dumps({"items": [{"language": "python"}]}).encode())
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 400 and "text" in json.load(refused.value)["error"]


def run_check(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "manyskills", "check", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=900, env=env or ENV)


# Ray 2.60 clusters started by ray.init use token auth (the token is in ~/.ray/auth_token); a client
# naming an explicit address sends it only with RAY_AUTH_MODE=token.
RAY_CLIENT_ENV = {**ENV, "RAY_AUTH_MODE": "token"}


def test_check_on_ray_equals_a_local_run(service, tiny_model_dir, tmp_path):
    shutil.copytree(FIXTURES, tmp_path, dirs_exist_ok=True)
    body = "def handler_{i}(items, limit={n}):\n    total = 0\n    for item in items:\n        total += item - limit\n" \
           "    return total\n\n\n"
    for f in range(4):  # 160 more functions (several rounds); every fifth repeats across files (cache, clones)
        (tmp_path / f"module_{f}.py").write_text("".join(body.format(i=i, n=i if i % 5 else 0) for i in range(40)))
    common = [".", "--format", "json", "--threshold", "0", "--model", str(tiny_model_dir), "--device", "cpu"]
    local = run_check(*common, cwd=tmp_path)
    on_ray = run_check(*common, "--ray", service["ray_address"], cwd=tmp_path, env=RAY_CLIENT_ENV)
    served = run_check(*common, "--engine", service["url"], cwd=tmp_path)
    for done in (local, on_ray, served):
        assert done.returncode == 1 and done.stdout.startswith("{"), done.stderr[-3000:]  # 1 = findings
    report = json.loads(local.stdout)
    assert report["functions"] > 160 and any(f["skill"] == "clone" for f in report["findings"])
    assert json.loads(on_ray.stdout) == report
    assert json.loads(served.stdout) == report
    assert "Ray worker" in on_ray.stderr  # progress streamed while rounds finished


def test_check_on_ray_without_the_auth_token_says_so(service, tmp_path):
    (tmp_path / "a.py").write_text("def f(x):\n    return x\n")
    env = {k: v for k, v in ENV.items() if k != "RAY_AUTH_MODE"}
    done = run_check(".", "--ray", service["ray_address"], cwd=tmp_path, env=env)
    if done.returncode == 1 and done.stdout.startswith("{"):
        pytest.skip("this Ray version sends the auth token to explicit addresses by itself")
    assert done.returncode == 2 and done.stdout == ""
    assert "RAY_AUTH_MODE=token" in done.stderr and "Traceback" not in done.stderr, done.stderr[-3000:]


@pytest.mark.parametrize("scheme", ["", "ray://"])
def test_check_on_ray_with_nothing_at_the_address_says_so_at_once(tmp_path, scheme):
    """Ray itself retries an address where nothing listens for about 14 minutes."""
    (tmp_path / "a.py").write_text("def f(x):\n    return x\n")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{s.getsockname()[1]}"  # closed when the block ends: connections are refused
    started = time.monotonic()
    done = run_check(".", "--ray", scheme + address, cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == "", done.stderr[-3000:]
    assert f"nothing answers at {address}" in done.stderr and "Traceback" not in done.stderr
    assert time.monotonic() - started < 120  # seconds (imports on a loaded box), not Ray's minutes


async def test_killed_replica_mid_request_retries_or_says_so(service, tiny_model_dir):
    replica = get_json(service["url"] + "/readyz")["replica"]
    body = "def job_{i}(queue):\n    item = queue.pop({i})\n    return item * {i}\n\n\n"
    text = "".join(body.format(i=i) for i in range(48))  # three engine batches: three HTTP requests
    client = await open_session(settings(tiny_model_dir, engine=service["url"], engineTimeout=240), text)
    try:
        deadline = time.monotonic() + 300
        while (await stats(client))["functionsAnalysed"] < 16 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)  # the first request answered; the next one is now in flight
        assert (await stats(client))["functionsAnalysed"] < 48, "finished before the kill: nothing was tested"
        os.kill(replica, signal.SIGKILL)
        answered = await wait_for(
            lambda: len(diagnostics(client)) == 48 or any("model service" in m.message for m in client.messages),
            300)
        assert answered, "neither diagnostics nor a message after the replica died"
        if len(diagnostics(client)) == 48:  # retried on the restarted replica
            assert get_json(service["url"] + "/readyz")["replica"] != replica
        else:
            message = next(m.message for m in client.messages if "model service" in m.message)
            assert "analysis paused" in message
    finally:
        await close_session(client)
