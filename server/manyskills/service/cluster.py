"""Connecting to Ray: a clear message when Ray is not installed, one place that decides which
environment the workers need, and a local instance when no address is given."""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path
from typing import Any

LOCAL = "local"
# Environment a worker must share with the driver so it loads the same model the same way.
FORWARDED_ENV = ("MANYSKILLS_DTYPE", "MANYSKILLS_CACHE_DIR", "MANYSKILLS_ADAPTER", "HF_HUB_OFFLINE")


class RayUnavailable(RuntimeError):
    """Ray cannot be used here: not installed, or the cluster cannot be reached (the message says why)."""


class RayMissing(RayUnavailable):
    pass


AUTH_HINT = ("the Ray cluster at {address} requires token authentication: set RAY_AUTH_MODE=token "
             "(the token is read from RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH or ~/.ray/auth_token, which a "
             "cluster started on this machine writes; Ray sends it only when asked to)")


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
        unreachable = _unreachable(address)
        if unreachable:
            raise RayUnavailable(f"cannot connect to the Ray cluster at {address}: {unreachable}")
        try:
            ray.init(address=address, **common)
        except (ConnectionError, RuntimeError, ray.exceptions.RayError) as exc:
            raise RayUnavailable(_connect_failure(address, exc)) from None
    return ray


def _unreachable(address: str, timeout: float = 5.0) -> str | None:
    """Why nothing answers at HOST:PORT (or ray://HOST:PORT), or None. Ray itself retries an address
    where nothing listens for about 14 minutes (20 attempts of ~40 s); this answers in seconds."""
    target = address.removeprefix("ray://")
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit():
        return None  # "auto" and the like: Ray finds the cluster itself
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            return None
    except OSError as exc:
        return f"nothing answers at {target} ({exc.strerror or exc}); is the cluster running (`ray status`)?"


def _connect_failure(address: str, exc: BaseException) -> str:
    """Ray raises a bare "Failed to connect"; the cause (often a missing auth token) is down the chain."""
    causes = []
    seen: BaseException | None = exc
    while seen is not None and len(causes) < 8:
        causes.append(seen)
        seen = seen.__cause__ or seen.__context__
    if any(type(c).__name__ == "AuthenticationError" or "InvalidAuthToken" in str(c) for c in causes):
        return AUTH_HINT.format(address=address)
    return f"cannot connect to the Ray cluster at {address}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
