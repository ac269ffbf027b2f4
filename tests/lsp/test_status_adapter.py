"""`manyskills/status` names the adapter the server actually runs (what the VS Code status item shows):
a real `manyskills serve` subprocess with the tiny base and an adapter written by the real trainer, as a
project adapter, as the `adapter` setting and absent; a project adapter made for another base falls back,
and the status follows what was loaded, not what the settings asked for."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.raw_lsp import RawServer
from harness.tinymodel import build_tiny_adapter

STATUS = "manyskills/status"


@pytest.fixture(scope="module")
def tiny_adapter(tiny_model_dir, tmp_path_factory) -> Path:
    return build_tiny_adapter(tiny_model_dir, tmp_path_factory.mktemp("tiny-adapter") / "adapter")


def _project(root: Path, adapter: Path, **manifest_changes) -> Path:
    """A repository whose `.manyskills/adapter` is `adapter`, marked the way `manyskills adapt` marks it."""
    (root / ".git").mkdir(parents=True)
    target = root / ".manyskills" / "adapter"
    shutil.copytree(adapter, target)
    manifest = json.loads((target / "manyskills.json").read_text())
    manifest["training"]["project"] = {"active": True, "reason": "beats the shipped adapter",
                                       "extends": {"path": "/shipped", "version": "shipped-7"}}
    manifest.update(manifest_changes)
    (target / "manyskills.json").write_text(json.dumps(manifest))
    return target


def _options(tiny_model_dir: Path, **overrides) -> dict:
    return {"model": str(tiny_model_dir), "device": "cpu", "debounceMs": 50, **overrides}


@pytest.fixture
def start(tmp_path):
    servers: list[RawServer] = []

    def start(options: dict, root: Path) -> RawServer:
        server = RawServer(stderr_path=tmp_path / f"server{len(servers)}.log", configuration=options)
        servers.append(server)
        server.initialize({**options, "statusNotifications": True}, root=root)
        return server

    yield start
    for server in servers:
        server.close()


def _statuses(server: RawServer) -> list[dict]:
    return [n["params"] for n in list(server.notifications) if n["method"] == STATUS]


def _loaded(server: RawServer, after: int = 0) -> dict:
    """The first status past the first `after` that ends a load (ready or error)."""
    return server.wait_for(lambda: next((s for s in _statuses(server)[after:] if s["state"] in ("ready", "error")),
                                        None), 240, what="the model's status after loading")


def _reconfigure(server: RawServer, options: dict) -> dict:
    seen = len(_statuses(server))
    server.configuration = options
    server.notify("workspace/didChangeConfiguration", {"settings": {"manyskills": options}})
    return _loaded(server, seen)


def test_status_names_the_project_adapter_then_the_setting_then_none(start, tmp_path, tiny_model_dir, tiny_adapter):
    project_adapter = _project(tmp_path / "proj", tiny_adapter)
    server = start(_options(tiny_model_dir), tmp_path / "proj")
    status = _loaded(server)
    assert _statuses(server)[0]["state"] == "loading" and _statuses(server)[0]["adapter"] is None  # nothing loaded yet
    assert (status["state"], status["model"], status["device"]) == ("ready", tiny_model_dir.name, "cpu")
    assert status["adapter"] == {"kind": "project", "path": str(project_adapter), "version": "tiny-1",
                                 "trained": True, "base": tiny_model_dir.name, "extends": "shipped-7"}

    # An explicit `adapter` setting wins over the project adapter.
    status = _reconfigure(server, _options(tiny_model_dir, adapter=str(tiny_adapter)))
    assert status["state"] == "ready"
    assert status["adapter"] == {"kind": "setting", "path": str(tiny_adapter), "version": "tiny-1",
                                 "trained": True, "base": tiny_model_dir.name}

    # No project adapter and no shipped adapter for this base: untrained heads, and the status says so.
    status = _reconfigure(server, _options(tiny_model_dir, projectAdapter="off"))
    assert status["state"] == "ready"
    assert status["adapter"] == {"kind": "none", "path": None, "version": "untrained", "trained": False,
                                 "base": tiny_model_dir.name}
    assert server.proc.poll() is None


def test_a_project_adapter_for_another_base_falls_back_and_the_status_follows(start, tmp_path, tiny_model_dir,
                                                                              tiny_adapter):
    _project(tmp_path / "proj", tiny_adapter, base_sha256="0" * 64)
    server = start(_options(tiny_model_dir), tmp_path / "proj")
    status = _loaded(server)
    assert status["state"] == "ready"
    # The settings still say `projectAdapter: auto`; what runs is the fallback (this base ships no adapter).
    assert status["adapter"]["kind"] == "none" and status["adapter"]["path"] is None
    assert any("cannot be used" in m and "falling back to the shipped adapter" in m for m in server.messages())


@pytest.mark.realmodel
def test_status_names_the_shipped_adapter_of_the_embedded_base(start, tmp_path, embedded_model):
    from manyskills.model.paths import shipped_adapter_dir

    shipped = json.loads((shipped_adapter_dir() / "manyskills.json").read_text())
    (tmp_path / "repo").mkdir()
    server = start({"device": "cpu"}, tmp_path / "repo")
    status = _loaded(server)
    assert (status["state"], status["model"]) == ("ready", embedded_model.name)
    assert status["adapter"] == {"kind": "shipped", "path": str(shipped_adapter_dir()), "version": shipped["version"],
                                 "trained": shipped["trained"], "base": shipped["base_model"]}
