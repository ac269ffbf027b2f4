"""Which adapter a workspace runs (`projectAdapter`), decided without loading a model."""

from __future__ import annotations

import json
import shutil

import pytest
from manyskills.model.adapter import Manifest
from manyskills.model.paths import shipped_adapter_dir
from manyskills.model.project_adapter import (
    describe,
    load_with_project_adapter,
    loaded_adapter,
    project_adapter_dir,
    project_root,
)
from manyskills.model.types import ModelIdentity
from manyskills.settings import Settings, parse_settings


def _project(tmp_path, active: bool | None, base_sha: str | None = None):
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    if active is None:
        return root
    adapter = root / ".manyskills" / "adapter"
    shutil.copytree(shipped_adapter_dir(), adapter)
    manifest = json.loads((adapter / "manyskills.json").read_text())
    manifest["training"] = {"project": {"active": active, "reason": "pairwise 0.4 does not beat 0.5"}}
    if base_sha:
        manifest["base_sha256"] = base_sha
    (adapter / "manyskills.json").write_text(json.dumps(manifest))
    return root


def test_auto_uses_only_an_active_project_adapter(tmp_path):
    assert project_adapter_dir("auto", _project(tmp_path / "a", None)) == (None, None)  # none: silent
    directory, note = project_adapter_dir("auto", _project(tmp_path / "b", False))
    assert directory is None and "not active (pairwise 0.4 does not beat 0.5)" in note
    root = _project(tmp_path / "c", True)
    assert project_adapter_dir("auto", root) == (root / ".manyskills" / "adapter", None)
    assert project_adapter_dir("off", root) == (None, None)
    assert project_adapter_dir("/some/dir", None)[0].as_posix() == "/some/dir"


def test_loading_falls_back_with_a_message_and_the_adapter_setting_wins(tmp_path):
    root = _project(tmp_path, True)
    tried: list = []
    notes: list[str] = []

    def load(adapter):
        tried.append(adapter)
        if adapter and "proj" in adapter:
            raise RuntimeError("corrupt file")
        return adapter

    assert load_with_project_adapter(load, "auto", root, None, notes.append) is None
    assert tried == [str(root / ".manyskills" / "adapter"), None]
    assert "corrupt file" in notes[0] and "falling back to the shipped adapter" in notes[0]
    assert load_with_project_adapter(load, "auto", root, "/explicit", notes.append) == "/explicit"


def test_describe_refuses_a_project_adapter_made_for_another_base(tmp_path):
    shipped_sha = json.loads((shipped_adapter_dir() / "manyskills.json").read_text())["base_sha256"]
    good = describe("auto", _project(tmp_path / "a", True), None, shipped_sha)
    assert good["active"] == "project"
    other = describe("auto", _project(tmp_path / "b", True, base_sha="0" * 64), None, shipped_sha)
    assert other["active"] == "shipped" and "trained on base" in other["note"]


def test_project_root_and_the_setting(tmp_path):
    root = _project(tmp_path, None)
    (root / "pkg").mkdir()
    (root / "pkg" / "m.py").write_text("x = 1\n")
    assert project_root(root / "pkg" / "m.py") == root and project_root(root / "pkg") == root
    assert Settings().project_adapter == "auto"
    settings, errors = parse_settings({"projectAdapter": "off"})
    assert settings.project_adapter == "off" and not errors
    with pytest.raises(ValueError):
        Settings(project_adapter="  ")


def _identity(manifest: Manifest, path) -> ModelIdentity:
    return ModelIdentity(manifest.base_name, manifest.base_sha256, "test", str(path) if path else None,
                         manifest.version, manifest.trained, "cpu", "float32")


def test_loaded_adapter_is_named_from_what_was_loaded(tmp_path):
    shipped_dir = shipped_adapter_dir()
    shipped = Manifest.load(shipped_dir)
    common = {"version": shipped.version, "trained": shipped.trained, "base": shipped.base_model}
    assert loaded_adapter(_identity(shipped, shipped_dir), shipped) == {"kind": "shipped", "path": str(shipped_dir),
                                                                        **common}
    copy = tmp_path / "copy"
    shutil.copytree(shipped_dir, copy)  # the same files, chosen by the `adapter` setting
    assert loaded_adapter(_identity(shipped, copy), shipped)["kind"] == "setting"
    project_dir = _project(tmp_path / "p", True) / ".manyskills" / "adapter"
    project = Manifest.load(project_dir)
    assert loaded_adapter(_identity(project, project_dir), project)["kind"] == "project"
    assert loaded_adapter(_identity(shipped, None), shipped) == {"kind": "none", "path": None, **common}
    # Loaded by a model service on another machine: its path is not here; the manifest says which it is.
    remote = "/srv/manyskills/models/smollm2-135m"
    assert loaded_adapter(_identity(shipped, remote), shipped)["kind"] == "shipped"
    other = Manifest.load(shipped_dir)
    other.version = "9.9.9"
    assert loaded_adapter(_identity(other, remote), other)["kind"] == "setting"
