"""The token end to end on Ray (one local instance): `model-server --token-file` on loopback, a request
without the token and with a wrong one gets 401, `/healthz` stays open, and `check --engine URL` with
MANYSKILLS_SERVICE_TOKEN analyses through the batched `/v1/analyse` route."""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.ray
pytest.importorskip("ray", reason="needs the `ray` extra (pip install -e '.[ray]'); CI installs it")

TOKEN = "ray-token-0123456789abcdefghij"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "check"
ENV = {k: v for k, v in os.environ.items() if k != "MANYSKILLS_SERVICE_TOKEN"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ready_line(proc: subprocess.Popen, timeout: float) -> dict | None:
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


def code(url: str, headers: dict[str, str]) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_model_server_with_a_token_file(tiny_model_dir, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    log = tmp_path / "model-server.log"
    with open(log, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "manyskills", "model-server", "--address", "local", "--cluster-cpus", "2",
             "--num-cpus", "1", "--port", str(free_port()), "--model", str(tiny_model_dir), "--device", "cpu",
             "--token-file", str(token_file)], stdout=subprocess.PIPE, stderr=err, text=True, env=ENV)
    try:
        info = ready_line(proc, 600)  # model-server's own readiness wait sent the token
        assert info is not None, log.read_text()[-3000:]
        url = info["url"]
        assert code(url + "/healthz", {}) == 200
        assert code(url + "/readyz", {}) == 401
        assert code(url + "/readyz", {"Authorization": "Bearer " + TOKEN[::-1]}) == 401
        assert code(url + "/readyz", {"Authorization": "Bearer " + TOKEN}) == 200
        common = [sys.executable, "-m", "manyskills", "check", str(FIXTURES), "--format", "json", "--threshold",
                  "0", "--model", str(tiny_model_dir), "--device", "cpu", "--engine", url]
        denied = subprocess.run(common, capture_output=True, text=True, timeout=300, env=ENV, check=False)
        assert denied.returncode == 2 and "MANYSKILLS_SERVICE_TOKEN" in denied.stderr, denied.stderr[-2000:]
        served = subprocess.run(common, capture_output=True, text=True, timeout=300, check=False,
                                env={**ENV, "MANYSKILLS_SERVICE_TOKEN": TOKEN})
        assert served.returncode == 1 and json.loads(served.stdout)["findings"], served.stderr[-2000:]
        assert TOKEN not in served.stderr + served.stdout + denied.stderr + log.read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(90)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(30)
