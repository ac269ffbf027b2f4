"""Connecting to Ray: a clear message when Ray is not installed, one place that decides which
environment the workers need, and a local instance when no address is given."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

LOCAL = "local"
# Environment a worker must share with the driver so it loads the same model the same way.
FORWARDED_ENV = ("MANYSKILLS_DTYPE", "MANYSKILLS_CACHE_DIR", "MANYSKILLS_ADAPTER", "HF_HUB_OFFLINE")


class RayMissing(RuntimeError):
    pass


def import_ray():
    try:
        import ray
    except ImportError as exc:
        raise RayMissing("this command needs Ray: pip install 'manyskills[ray]'") from exc
    return ray


def is_local(address: str | None) -> bool:
    return address in (None, "", LOCAL)


def worker_env(address: str | None) -> dict[str, str]:
    env = {name: os.environ[name] for name in FORWARDED_ENV if name in os.environ}
    if is_local(address):
        # A local instance runs this very checkout: workers import manyskills from the same place.
        package_parent = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, os.environ.get("PYTHONPATH")) if p)
    return env


def connect(address: str | None, num_cpus: int | None = None) -> Any:
    """ray.init for `local` (a fresh instance owned by this process, `num_cpus` CPUs), `auto`,
    `host:port` (a running cluster's GCS) or `ray://host:10001` (Ray Client)."""
    ray = import_ray()
    if ray.is_initialized():
        return ray
    env = worker_env(address)
    common: dict[str, Any] = {"runtime_env": {"env_vars": env} if env else None, "log_to_driver": False,
                              "logging_level": logging.WARNING, "configure_logging": True}
    if is_local(address):
        # address="local": always a new instance, never whatever cluster this machine happens to run.
        ray.init(address="local", num_cpus=num_cpus, include_dashboard=False,
                 object_store_memory=200 * 1024 * 1024, **common)
    else:
        ray.init(address=address, **common)
    return ray
