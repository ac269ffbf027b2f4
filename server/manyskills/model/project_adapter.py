"""Which adapter a workspace runs: the `projectAdapter` setting (`auto` | `off` | a directory).

`auto` uses `<workspace root>/.manyskills/adapter` (made by `manyskills adapt`) when it is there and its
manifest says it is active (it beat the shipped adapter on the repository's held-out fixes); a path is
used as given. A project adapter that is missing, made for another base or broken is not fatal: the
runtime falls back to the shipped adapter and the message says why. An explicit `adapter` setting wins.
`loaded_adapter` says afterwards which one a loaded backend actually runs (the editors' status item).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from manyskills.model.adapter import Manifest
    from manyskills.model.types import ModelIdentity

log = logging.getLogger(__name__)
R = TypeVar("R")
PROJECT_ADAPTER_DIR = Path(".manyskills") / "adapter"


def project_adapter_dir(setting: str, root: Path | None) -> tuple[Path | None, str | None]:
    """(the directory to try, a note for the user) for the setting and the workspace root."""
    if setting == "off":
        return None, None
    if setting != "auto":
        return Path(setting).expanduser(), None
    if root is None:
        return None, None
    directory = Path(root) / PROJECT_ADAPTER_DIR
    manifest = directory / "manyskills.json"
    if not manifest.is_file():
        return None, None  # no project adapter: nothing to say
    try:
        project = json.loads(manifest.read_text()).get("training", {}).get("project", {})
    except (OSError, ValueError, AttributeError) as exc:
        return None, f"project adapter {directory} is unreadable ({exc}); using the shipped adapter"
    if not project.get("active"):
        return None, (f"project adapter {directory} is not active ({project.get('reason', 'no evaluation')}); "
                      "using the shipped adapter")
    return directory, None


def load_with_project_adapter(load: Callable[[str | None], R], setting: str, root: Path | None,
                              adapter_setting: str | None, notify: Callable[[str], None]) -> R:
    """`load(adapter)` with the project adapter when the settings pick one, else with `adapter_setting`
    (None = the shipped adapter); a project adapter that fails to load falls back, with a message."""
    if adapter_setting:
        return load(adapter_setting)
    directory, note = project_adapter_dir(setting, root)
    if note:
        notify(note)
    if directory is not None:
        try:
            return load(str(directory))
        except Exception as exc:  # noqa: BLE001 - missing, another base, corrupt: all fall back the same way
            notify(f"project adapter {directory} cannot be used ({exc}); falling back to the shipped adapter")
    return load(None)


def project_root(path: str | Path) -> Path | None:
    """The project a checked path belongs to: the nearest folder at or above it holding `.manyskills`
    or `.git` (what `manyskills check` uses as the workspace root)."""
    start = Path(path).resolve()
    for folder in [start] + list(start.parents) if start.is_dir() else list(start.parents):
        if (folder / ".manyskills").is_dir() or (folder / ".git").exists():
            return folder
    return None


def describe(setting: str, root: Path | None, adapter_setting: str | None, base_sha256: str | None) -> dict:
    """Which adapter would run, without loading the model (`manyskills info`): the same choice as
    `load_with_project_adapter`, with the loader's checks that need no weights (files, manifest, base)."""
    from manyskills.model.adapter import AdapterError, Manifest, check_adapter_files, check_base_matches

    if adapter_setting:
        return {"active": "adapter setting", "path": adapter_setting, "project_adapter": setting}
    directory, note = project_adapter_dir(setting, root)
    out: dict = {"active": "shipped", "project_adapter": setting, "root": str(root) if root else None}
    if directory is not None:
        try:
            check_adapter_files(directory)
            manifest = Manifest.load(directory)
            if base_sha256:
                check_base_matches(manifest, base_sha256, manifest.base_name, directory)
            return {**out, "active": "project", "path": str(directory)}
        except AdapterError as exc:
            note = f"project adapter {directory} cannot be used ({exc}); falling back to the shipped adapter"
    if note:
        out["note"] = note
    return out


def loaded_adapter(identity: ModelIdentity, manifest: Manifest) -> dict[str, Any]:
    """The adapter a loaded backend runs, from what it loaded (its path and manifest), not from the
    settings, which a fallback may have overruled. `kind`: `project` (made by `manyskills adapt`),
    `shipped`, `setting` (any other directory: the `adapter` setting or MANYSKILLS_ADAPTER) or `none`
    (no adapter: untrained heads)."""
    from manyskills.model.paths import shipped_adapters

    out: dict[str, Any] = {"path": identity.adapter_path, "version": identity.adapter_version,
                           "trained": identity.adapter_trained, "base": manifest.base_model or manifest.base_name}
    if identity.adapter_path is None:
        return {"kind": "none", **out}
    project = manifest.training.get("project") if isinstance(manifest.training, dict) else None
    if isinstance(project, dict):
        extends = project.get("extends")
        version = extends.get("version") if isinstance(extends, dict) else None
        return {"kind": "project", **out, **({"extends": version} if isinstance(version, str) else {})}
    path = Path(identity.adapter_path)
    shipped = shipped_adapters()
    if any(path.resolve() == directory.resolve() for directory in shipped.values()):
        return {"kind": "shipped", **out}
    if not path.is_dir():
        # Loaded elsewhere (a model service): shipped when it is this package's adapter for that base.
        local = shipped.get(manifest.base_model)
        if local is not None and _same_adapter(local, manifest):
            return {"kind": "shipped", **out}
    return {"kind": "setting", **out}


def _same_adapter(directory: Path, manifest: Manifest) -> bool:
    from manyskills.model.adapter import AdapterError, Manifest

    try:
        local = Manifest.load(directory)
    except AdapterError:
        return False
    return (local.version, local.base_sha256) == (manifest.version, manifest.base_sha256)
