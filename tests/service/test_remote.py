"""The client side of the model service, without Ray: wire format, bounded timeouts, the `engine`
setting, and what an editor sees when the service is down (clear message, optional local fallback,
live switch back to the in-process model)."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from manyskills.model.batching import batch_plan
from manyskills.model.engine import ModelEngine
from manyskills.model.types import FunctionInput
from manyskills.service import wire
from manyskills.service.client import ServiceClient, ServiceUnavailable, check_engine_url
from manyskills.settings import parse_settings
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

SOURCE = "def first(xs):\n    return xs[0]\n\n\ndef second(name):\n    return name.upper()\n"
URI = "file:///tmp/manyskills-remote/example.py"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: connections are refused


@pytest.fixture(scope="module")
def runtime(tiny_model_dir):
    from manyskills.model.runtime import LocalRuntime

    return LocalRuntime.load(str(tiny_model_dir), None, "cpu")


def test_wire_round_trip_is_exact(runtime):
    items = [FunctionInput("python", SOURCE), FunctionInput("python", "def test_x():\n    assert 1\n", True)]
    results = runtime.analyse(items)
    decoded = [wire.decode_analysis(json.loads(json.dumps(wire.encode_analysis(r)))) for r in results]
    for before, after in zip(results, decoded):
        assert after.defect_score == before.defect_score and after.line_scores == before.line_scores
        assert after.flaky_score == before.flaky_score and after.bug_line == before.bug_line
        assert after.embedding.dtype == before.embedding.dtype and (after.embedding == before.embedding).all()
    identity = wire.decode_identity(json.loads(json.dumps(wire.envelope(runtime.identity)))["identity"])
    assert identity == runtime.identity
    with pytest.raises(wire.WireError, match="text"):
        wire.decode_inputs({"items": [{"language": "python"}]})


def test_batch_plan_matches_the_engine(runtime):
    """Replicas and scan workers group functions into forward passes exactly like the engine."""
    items = [FunctionInput("python", "def f%d(x):\n" % i + "    x += 1\n" * (i * 7 % 40 + 1)) for i in range(70)]
    seen: list[int] = []
    engine = ModelEngine(lambda progress: runtime)
    engine.before_batch = seen.append
    engine.token_budget = 1024
    engine.start()
    engine.analyse(items).result(timeout=120)
    engine.shutdown(wait=10)
    lengths = [runtime.count_tokens(item) for item in items]
    assert seen == [len(group) for group in batch_plan(lengths, engine.max_batch, 1024)]
    assert len(seen) > 4


def test_engine_setting_is_validated():
    settings, errors = parse_settings({"engine": "http://gpu-box:8000", "engineTimeout": 5})
    assert settings.engine == "http://gpu-box:8000" and settings.engine_timeout == 5 and not errors
    kept, errors = parse_settings({"engine": "gpu-box:8000", "engineFallback": "sometimes"}, settings)
    assert kept.engine == "http://gpu-box:8000" and kept.engine_fallback == "none"  # a bad value keeps the previous
    assert any("'engine'" in e for e in errors) and any("engineFallback" in e for e in errors)
    with pytest.raises(ValueError, match="http"):
        check_engine_url("file:///etc/passwd")


def test_refused_connection_fails_fast_with_a_clear_message():
    client = ServiceClient(f"http://127.0.0.1:{closed_port()}", timeout=3)
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable, match="refused the connection"):
        client.get(wire.READY_PATH)
    assert time.monotonic() - started < 6
    assert client.requests >= 2  # retried within the deadline


def test_stalled_service_times_out():
    """A service that accepts connections and never answers costs the deadline, not a hang."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        client = ServiceClient(f"http://127.0.0.1:{server.getsockname()[1]}", timeout=2)
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable, match="did not answer within 2 s"):
            client.post(wire.ANALYSE_PATH, {"items": []})
        assert time.monotonic() - started < 4
    finally:
        stop.set()
        thread.join(5)
        for conn in accepted:
            conn.close()
        server.close()


# ---------------------------------------------------------------------- the language server
async def wait_until(predicate, timeout=300.0):  # generous: a loaded CI box imports torch slowly
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await __import__("asyncio").sleep(0.05)
    raise AssertionError("condition not met in time")


def diagnostics(client: LanguageClient):
    return [d for d in client.diagnostics.get(URI, []) if d.source == "manyskills"]


async def stats(client: LanguageClient) -> dict:
    return await client.workspace_execute_command_async(lsp.ExecuteCommandParams(command="manyskills.stats"))


@pytest.fixture
def down_url() -> str:
    return f"http://127.0.0.1:{closed_port()}"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "manyskills", "serve"]))
async def client(lsp_client: LanguageClient):
    yield
    await lsp_client.shutdown_session()


async def start(client: LanguageClient, settings: dict) -> None:
    client.set_configuration(settings, section="manyskills")
    await client.initialize_session(lsp.InitializeParams(capabilities=client_capabilities("visual-studio-code"),
                                                         initialization_options=settings))
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(
        uri=URI, language_id="python", version=1, text=SOURCE)))


async def test_service_down_gives_a_message_then_live_switch_to_local(client: LanguageClient, tiny_model_dir,
                                                                      down_url):
    settings = {"model": str(tiny_model_dir), "threshold": 0.0, "skills": {"clone": False}, "engine": down_url,
                "engineTimeout": 2}
    await start(client, settings)
    await wait_until(lambda: any("model service" in m.message and "refused" in m.message for m in client.messages))
    assert diagnostics(client) == []
    assert (await stats(client))["state"] == "error"
    # Point the setting back at the in-process model: the same server now analyses.
    client.set_configuration({**settings, "engine": "local"}, section="manyskills")
    client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings=None))
    await wait_until(lambda: len(diagnostics(client)) == 2)
    assert (await stats(client))["backend"] == "LocalRuntime"


async def test_service_down_falls_back_to_the_local_model_when_configured(client: LanguageClient, tiny_model_dir,
                                                                          down_url):
    await start(client, {"model": str(tiny_model_dir), "threshold": 0.0, "skills": {"clone": False},
                         "engine": down_url, "engineTimeout": 2, "engineFallback": "local"})
    await wait_until(lambda: len(diagnostics(client)) == 2)
    assert any("local model" in m.message for m in client.messages)
    assert (await stats(client))["backend"] == "LocalRuntime"
