"""Which backend the engine loads, from the `engine` setting: the in-process runtime (`local`, the
default: nothing leaves the machine) or the model service at a URL, optionally falling back to the
local model when the service is down (`engineFallback: "local"`)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from manyskills.settings import Settings

log = logging.getLogger(__name__)
Notify = Callable[[str, str], None]
ProgressFn = Callable[[str, float | None], None]


def _local(settings: Settings, progress: ProgressFn):
    from manyskills.model.runtime import LocalRuntime  # torch/transformers load here, off the event loop

    return LocalRuntime.load(settings.model, settings.adapter, settings.device, progress)


def backend_loader(settings: Settings, notify: Notify | None = None) -> Callable[[ProgressFn], object]:
    """A `BackendLoader` for `ModelEngine` (called on the engine's thread)."""
    notify = notify or (lambda level, message: log.warning("%s", message))

    def load(progress: ProgressFn):
        if settings.engine == "local":
            return _local(settings, progress)
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
            return _local(settings, progress)
        if not fallback:
            return remote
        return FallbackBackend(remote, lambda: _local(settings, progress), notify)

    return load
