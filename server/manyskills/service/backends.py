"""Which backend the engine loads, from the `engine` setting: the in-process runtime (`local`, the
default: nothing leaves the machine) or the model service at a URL, optionally falling back to the
local model when the service is down (`engineFallback: "local"`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from manyskills.settings import Settings

log = logging.getLogger(__name__)
Notify = Callable[[str, str], None]
ProgressFn = Callable[[str, float | None], None]


def _local(settings: Settings, progress: ProgressFn, root: Path | None = None, notify: Notify | None = None):
    from manyskills.model.project_adapter import load_with_project_adapter
    from manyskills.model.runtime import LocalRuntime  # torch/transformers load here, off the event loop

    return load_with_project_adapter(
        lambda adapter: LocalRuntime.load(settings.model, adapter, settings.device, progress),
        settings.project_adapter, root, settings.adapter,
        lambda message: (notify or (lambda level, m: log.warning("%s", m)))("warning", message))


def backend_loader(settings: Settings, notify: Notify | None = None,
                   root: Callable[[], Path | None] | None = None) -> Callable[[ProgressFn], object]:
    """A `BackendLoader` for `ModelEngine` (called on the engine's thread). `root`: the workspace root
    at load time, where `projectAdapter: auto` looks for the project adapter."""
    notify = notify or (lambda level, message: log.warning("%s", message))

    def local(progress: ProgressFn):
        return _local(settings, progress, root() if root else None, notify)

    def load(progress: ProgressFn):
        if settings.engine == "local":
            return local(progress)
        from manyskills.service.auth import token_from_env
        from manyskills.service.client import ServiceClient, ServiceUnavailable
        from manyskills.service.remote import FallbackBackend, RemoteBackend

        fallback = settings.engine_fallback == "local"
        progress(f"Connecting to the model service at {settings.engine}", 0.1)
        client = ServiceClient(settings.engine, timeout=settings.engine_timeout,
                               token=settings.engine_token or token_from_env())
        # With a fallback the switch itself is the message; without one, outages are reported here.
        remote_notify = (lambda level, message: None) if fallback else notify
        try:
            remote = RemoteBackend(client, remote_notify)
        except ServiceUnavailable as exc:
            if not fallback:
                raise ServiceUnavailable(f"{exc}. Start it, point `engine` elsewhere, or set "
                                         "`engineFallback` to \"local\" to use a local model") from None
            notify("warning", f"{exc}; using the local model instead (engineFallback)")
            return local(progress)
        if not fallback:
            return remote
        return FallbackBackend(remote, lambda: local(progress), notify)

    return load
