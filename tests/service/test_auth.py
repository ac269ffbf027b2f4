"""The model service's bearer token, without Ray: the replica's own request handler (the class Ray Serve
wraps, with a real tiny model) behind a real HTTP server on loopback, the real client, and
`model-server`'s refusal to serve the network without a token. (The replica's `serve.batch` queue needs
a running Serve, so authorised calls here use the routes that do not batch: /readyz, /v1/tokens,
/v1/embed; test_ray_service.py runs /v1/analyse on Ray.)"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
from manyskills.model.types import FunctionInput
from manyskills.service import auth, wire
from manyskills.service.client import ServiceAuthError, ServiceClient
from manyskills.settings import parse_settings

pytest.importorskip("ray", reason="the replica class lives in the Ray Serve deployment module")
uvicorn = pytest.importorskip("uvicorn")

TOKEN = "s3cret-token-0123456789abcdef"
ITEM = FunctionInput("python", "def first(xs):\n    return xs[0]\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """One replica object behind uvicorn on 127.0.0.1 (what Ray's HTTP proxy does, minus Ray)."""

    def __init__(self, model_dir, token: str | None):
        from manyskills.service.deployment import ModelService, ServiceConfig
        from starlette.requests import Request

        replica = ModelService.func_or_class(ServiceConfig(model=str(model_dir), device="cpu", token=token))

        async def app(scope, receive, send):
            if scope["type"] == "lifespan":
                while (await receive())["type"] != "lifespan.shutdown":
                    await send({"type": "lifespan.startup.complete"})
                await send({"type": "lifespan.shutdown.complete"})
                return
            response = await replica(Request(scope, receive))
            await response(scope, receive, send)

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def served(tiny_model_dir):
    service = Served(tiny_model_dir, TOKEN)
    yield service
    service.stop()


def status(url: str, headers: dict[str, str] | None = None, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})},
                                     method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_every_route_but_healthz_needs_the_token(served):
    analyse = {"items": [wire.encode_input(ITEM)]}
    routes = [("/readyz", None), (wire.ANALYSE_PATH, analyse), (wire.TOKENS_PATH, analyse),
              (wire.EMBED_PATH, {"queries": ["first element"]}), ("/no/such/route", None)]
    assert status(served.url + "/healthz")[0] == 200
    for path, body in routes:
        code, answer = status(served.url + path, body=body)
        assert code == 401 and "Bearer" in answer["error"], path
        code, answer = status(served.url + path, {"Authorization": "Bearer wrong-" + TOKEN}, body)
        assert code == 401 and answer["error"] == "wrong service token", path
        assert status(served.url + path, {"Authorization": "Basic " + TOKEN}, body)[0] == 401, path
        if path != wire.ANALYSE_PATH:
            code, answer = status(served.url + path, auth.bearer(TOKEN), body)
            assert code == (404 if path == "/no/such/route" else 200), (path, answer)
    code, answer = status(served.url + wire.TOKENS_PATH, auth.bearer(TOKEN), analyse)
    assert len(answer["counts"]) == 1 and TOKEN not in json.dumps(answer)


def test_client_sends_the_token_and_says_what_to_set(served, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ServiceAuthError, match="engineToken") as missing:
        ServiceClient(served.url, timeout=10).get(wire.READY_PATH)
    with pytest.raises(ServiceAuthError, match="refused") as wrong:
        ServiceClient(served.url, timeout=10, token="x" * 20).get(wire.READY_PATH)
    client = ServiceClient(served.url, timeout=60, token=TOKEN)
    answer = client.post(wire.TOKENS_PATH, {"items": [wire.encode_input(ITEM)]})
    assert len(answer["counts"]) == 1 and client.retries == 0  # a 401 is not retried either
    assert TOKEN not in str(missing.value) + str(wrong.value) + caplog.text + repr(client)


def test_the_engine_setting_reaches_the_service_with_the_token(served, monkeypatch):
    from manyskills.service.backends import backend_loader

    settings, errors = parse_settings({"engine": served.url, "engineToken": TOKEN})
    assert not errors and TOKEN not in repr(settings)
    backend = backend_loader(settings)(lambda message, fraction: None)
    assert backend.embed_queries(["first element"]).shape[0] == 1
    monkeypatch.setenv(auth.TOKEN_ENV, TOKEN)  # or from the environment, as `check --engine URL` does
    from_env, _ = parse_settings({"engine": served.url})
    assert backend_loader(from_env)(lambda message, fraction: None).embed_queries(["x"]).shape[0] == 1
    monkeypatch.delenv(auth.TOKEN_ENV)
    with pytest.raises(ServiceAuthError):
        backend_loader(from_env)(lambda message, fraction: None)


def test_a_service_without_a_token_stays_open_on_loopback(tiny_model_dir):
    service = Served(tiny_model_dir, None)
    try:
        assert status(service.url + "/readyz")[0] == 200
    finally:
        service.stop()


def test_bad_token_settings_are_rejected_without_echoing_them():
    settings, _ = parse_settings({"engineToken": TOKEN})
    kept, errors = parse_settings({"engineToken": "short secret"}, settings)
    assert kept.engine_token == TOKEN and len(errors) == 1 and "engineToken" in errors[0]
    assert "short secret" not in errors[0] and TOKEN not in errors[0]


def test_the_comparison_is_constant_time(monkeypatch):
    calls = []
    real = auth.hmac.compare_digest
    monkeypatch.setattr(auth.hmac, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b))
    assert auth.rejection("/v1/analyse", "Bearer " + TOKEN, TOKEN) is None
    assert auth.rejection("/v1/analyse", "Bearer nope", TOKEN) == "wrong service token"
    assert len(calls) == 2
    assert auth.rejection("/healthz", None, TOKEN) is None and auth.rejection("/readyz", None, None) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "::", "gpu-box.example"])
def test_model_server_refuses_the_network_without_a_token(host, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != auth.TOKEN_ENV}
    done = subprocess.run([sys.executable, "-m", "manyskills", "model-server", "--host", host, "--address",
                           "127.0.0.1:1"], capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path, check=False)
    assert done.returncode != 0 and "refusing to serve" in done.stderr and "--insecure" in done.stderr
    assert "Ray" not in done.stderr  # refused before connecting to anything


def test_loopback_hosts_and_short_tokens(tmp_path):
    assert all(auth.is_loopback(h) for h in ("127.0.0.1", "::1", "localhost", "[::1]", "127.8.0.1"))
    assert not any(auth.is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.2", "box"))
    (tmp_path / "t").write_text(TOKEN + "\n")
    assert auth.read_token_file(tmp_path / "t") == TOKEN
    (tmp_path / "short").write_text("abc\n")
    with pytest.raises(auth.TokenError, match="16"):
        auth.read_token_file(tmp_path / "short")


def test_model_server_takes_a_token_file_or_insecure(tmp_path):
    """With a token (or --insecure) the network bind passes the check and model-server goes on to
    connect to Ray (here: nothing at the address, so it stops there with Ray's message)."""
    (tmp_path / "token").write_text(TOKEN)
    env = {k: v for k, v in os.environ.items() if k != auth.TOKEN_ENV}
    for extra in (["--token-file", str(tmp_path / "token")], ["--insecure"]):
        done = subprocess.run([sys.executable, "-m", "manyskills", "model-server", "--host", "0.0.0.0",
                               "--address", f"127.0.0.1:{free_port()}", *extra],
                              capture_output=True, text=True, timeout=180, env=env, cwd=tmp_path, check=False)
        assert done.returncode != 0 and "cannot connect to the Ray cluster" in done.stderr, done.stderr
        assert TOKEN not in done.stderr + done.stdout


