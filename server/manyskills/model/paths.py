"""Where ManySkills keeps converted models and caches (never inside user projects), and where the
shipped adapters are: `models/<base registry name>/` in a checkout, `manyskills/models/<name>/` in a wheel."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

# The embedded default base (registry.py describes it); its adapter ships as models/smollm2-135m.
DEFAULT_MODEL = "smollm2-135m"
MANIFEST_FILE = "manyskills.json"


def cache_root() -> Path:
    override = os.environ.get("MANYSKILLS_CACHE_DIR")
    root = Path(override) if override else Path(platformdirs.user_cache_dir("manyskills", appauthor=False))
    return root


def package_root() -> Path:
    return Path(__file__).resolve().parent.parent


def shipped_adapter_roots() -> list[Path]:
    """Folders holding one adapter directory per base, most specific first."""
    return [
        package_root() / "models",  # installed wheel: setup.py's build_py copies models/<base>/ here
        package_root().parent.parent / "models",  # source checkout: server/manyskills -> repo root
    ]


def shipped_adapters() -> dict[str, Path]:
    """Base registry name -> shipped adapter directory (the first root that has it wins)."""
    found: dict[str, Path] = {}
    for root in shipped_adapter_roots():
        if root.is_dir():
            for d in sorted(root.iterdir()):
                if (d / MANIFEST_FILE).is_file():
                    found.setdefault(d.name, d)
    return found


def shipped_adapter_dir(base_model: str = DEFAULT_MODEL) -> Path | None:
    """MANYSKILLS_ADAPTER if set, else the shipped adapter for `base_model`; None if there is none."""
    env = os.environ.get("MANYSKILLS_ADAPTER")
    if env:
        return Path(env)
    return shipped_adapters().get(base_model)
