"""A raw JSON-RPC client over a real `manyskills serve` subprocess, for fault and load tests.

Written by hand (not pytest-lsp) because these tests must send what a well-behaved client never
would: broken headers, wrong Content-Length, non-JSON bodies, wrong types. A reader thread parses
the server's output; server->client requests (configuration, progress) are answered automatically.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SERVER_SRC = REPO / "server"


def _die_with_parent() -> None:
    """Linux: the server gets SIGKILL when the test process dies, so no orphan outlives a run."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort on other platforms
        pass


class ServerDied(AssertionError):
    pass


def frame(body: bytes | str, length: int | None = None) -> bytes:
    data = body.encode("utf-8") if isinstance(body, str) else body
    n = len(data) if length is None else length
    return f"Content-Length: {n}\r\n\r\n".encode("ascii") + data


def server_env(extra_pythonpath: list[str] | None = None, **env: str) -> dict[str, str]:
    out = dict(os.environ)
    paths = [*(extra_pythonpath or []), str(SERVER_SRC)]
    if out.get("PYTHONPATH"):
        paths.append(out["PYTHONPATH"])
    out["PYTHONPATH"] = os.pathsep.join(paths)
    out.setdefault("HF_HUB_OFFLINE", "1")
    out.update(env)
    return out


class RawServer:
    """One server process. Not asyncio: hypothesis drives it from plain synchronous tests."""

    def __init__(self, args: list[str] | None = None, env: dict[str, str] | None = None, cwd: str | None = None,
                 stderr_path: Path | None = None, configuration: Any = None):
        self.stderr_path = stderr_path
        self._stderr = open(stderr_path, "wb") if stderr_path else subprocess.DEVNULL
        self.proc = subprocess.Popen([sys.executable, "-m", "manyskills", *(args or ["serve"])],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                                     env=env or server_env(), cwd=cwd, preexec_fn=_die_with_parent)
        self.configuration = configuration  # answer to workspace/configuration (one item)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._cv = threading.Condition()
        self.responses: dict[Any, dict] = {}
        self.notifications: list[dict] = []
        self.server_requests: list[dict] = []
        self.edits_offered: list[dict] = []  # WorkspaceEdits the server asked us to apply
        self.bytes_received = 0
        self.client_errors: list[str] = []  # output this client could not parse (must stay empty)
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()

    # ------------------------------------------------------------------ output
    def _read_loop(self) -> None:
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    with self._cv:
                        self._cv.notify_all()
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii", "replace").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if length is None:
                continue
            body = out.read(length)
            self.bytes_received += len(body)
            try:
                self._dispatch(json.loads(body))
            except Exception as exc:  # noqa: BLE001 - keep reading; the test sees the record
                self.client_errors.append(f"{type(exc).__name__}: {exc} in {body[:200]!r}")

    def _dispatch(self, message: dict) -> None:
        if "method" in message and "id" in message:  # a request from the server
            self.server_requests.append(message)
            self.send({"jsonrpc": "2.0", "id": message["id"], "result": self._answer(message)})
            return
        with self._cv:
            if "method" in message:
                self.notifications.append(message)
            else:
                msg_id = message.get("id")
                self.responses[msg_id if isinstance(msg_id, (int, str, type(None))) else json.dumps(msg_id)] = message
            self._cv.notify_all()

    def _answer(self, request: dict) -> Any:
        if request["method"] == "workspace/configuration":
            return [self.configuration for _ in request["params"]["items"]]
        if request["method"] == "workspace/applyEdit":
            self.edits_offered.append(request["params"]["edit"])
            return {"applied": False, "failureReason": "test client applies nothing"}
        return None

    # ------------------------------------------------------------------ input
    def send_raw(self, data: bytes) -> None:
        with self._lock:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()

    def send(self, message: dict) -> None:
        self.send_raw(frame(json.dumps(message)))

    def notify(self, method: str, params: Any = None) -> None:
        message = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    def request_async(self, method: str, params: Any = None, msg_id: Any = None) -> Any:
        msg_id = next(self._ids) if msg_id is None else msg_id
        message = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return msg_id

    def wait_response(self, msg_id: Any, timeout: float = 120.0) -> dict:
        deadline = time.monotonic() + timeout
        with self._cv:
            while msg_id not in self.responses:
                if self.proc.poll() is not None:
                    raise ServerDied(f"server exited with {self.proc.returncode}{self.stderr_tail()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no response to request {msg_id!r} in {timeout}s")
                self._cv.wait(min(left, 0.5))
            return self.responses.pop(msg_id)

    def request(self, method: str, params: Any = None, timeout: float = 120.0) -> Any:
        response = self.wait_response(self.request_async(method, params), timeout)
        if "error" in response:
            raise RuntimeError(f"{method} failed: {response['error']}")
        return response.get("result")

    def command(self, name: str, *arguments: Any, timeout: float = 120.0) -> Any:
        return self.request("workspace/executeCommand", {"command": name, "arguments": list(arguments)}, timeout)

    # ------------------------------------------------------------------ session helpers
    def initialize(self, options: Any = None, root: Path | None = None, capabilities: dict | None = None) -> dict:
        params: dict[str, Any] = {"processId": os.getpid(), "capabilities": capabilities or {
            "workspace": {"configuration": True},
            "textDocument": {"synchronization": {"dynamicRegistration": False}},
        }, "initializationOptions": options}
        if root is not None:
            params["rootUri"] = root.as_uri()
            params["workspaceFolders"] = [{"uri": root.as_uri(), "name": root.name}]
        result = self.request("initialize", params, timeout=240)
        self.notify("initialized", {})
        return result

    def wait_for(self, predicate, timeout: float = 60.0, interval: float = 0.05, what: str = "condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            if self.proc.poll() is not None:
                raise ServerDied(f"server exited with {self.proc.returncode} waiting for {what}{self.stderr_tail()}")
            time.sleep(interval)
        raise TimeoutError(f"{what} not met in {timeout}s{self.stderr_tail()}")

    def wait_ready(self, timeout: float = 1200.0) -> dict:
        return self.wait_for(lambda: (s := self.command("manyskills.stats")) and s["state"] in ("ready", "error") and s,
                             timeout, 0.1, "model load")

    def messages(self, method: str = "window/showMessage") -> list[str]:
        with self._cv:
            return [n["params"]["message"] for n in self.notifications if n["method"] == method]

    def diagnostics(self, uri: str) -> dict | None:
        """The latest publishDiagnostics params for `uri`."""
        with self._cv:
            for n in reversed(self.notifications):
                if n["method"] == "textDocument/publishDiagnostics" and n["params"]["uri"] == uri:
                    return n["params"]
        return None

    def stderr_tail(self, chars: int = 3000) -> str:
        if not self.stderr_path or not self.stderr_path.exists():
            return ""
        return "\n--- server stderr ---\n" + self.stderr_path.read_text(errors="replace")[-chars:]

    def stderr_text(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path and self.stderr_path.exists() else ""

    def close(self, timeout: float = 20.0) -> int | None:
        if self.proc.poll() is None:
            try:
                self.request("shutdown", timeout=timeout)
                self.notify("exit")
                self.proc.wait(timeout)
            except (OSError, TimeoutError, ServerDied, RuntimeError, subprocess.TimeoutExpired):
                pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if self._stderr is not subprocess.DEVNULL:
            self._stderr.close()
        return self.proc.returncode
