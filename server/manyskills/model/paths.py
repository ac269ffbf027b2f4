"""Where ManySkills keeps converted models and caches (never inside user projects)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def cache_root() -> Path:
    override = os.environ.get("MANYSKILLS_CACHE_DIR")
    root = Path(override) if override else Path(platformdirs.user_cache_dir("manyskills", appauthor=False))
    return root


def package_root() -> Path:
    return Path(__file__).resolve().parent.parent


def shipped_adapter_dir() -> Path | None:
    """The adapter in the repository's models/ folder (editable installs and source checkouts),
    or one installed beside the package. None if neither exists."""
    env = os.environ.get("MANYSKILLS_ADAPTER")
    if env:
        return Path(env)
    candidates = [
        package_root() / "models" / "default",  # wheel layout
        package_root().parent.parent / "models" / "default",  # source checkout: server/manyskills -> repo root
    ]
    for c in candidates:
        if (c / "manyskills.json").is_file():
            return c
    return None
