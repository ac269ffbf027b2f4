"""Settings: `initializationOptions`, then `workspace/configuration`, then live updates.

`parse_initialization_options` is the one place that reads `initializationOptions`. A setting change
never restarts the server: model/adapter/device/engine changes reload the engine in the background
(switching between the in-process model and a model service); threshold/skill changes re-derive
findings from cached results without the model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from lsprotocol import types as lsp

from manyskills.lsp.scheduler import reanalyse_all
from manyskills.lsp.session import Session
from manyskills.settings import Settings, parse_settings

log = logging.getLogger(__name__)
CONFIG_TIMEOUT_S = 3.0
SECTION = "manyskills"


@dataclass(frozen=True)
class InitializationOptions:
    settings: Settings
    errors: list[str] = field(default_factory=list)  # one message per rejected setting
    status_notifications: bool = False  # the client wants `manyskills/status` notifications


def parse_initialization_options(raw: Any) -> InitializationOptions:
    """Clients send either the settings themselves (plus the `statusNotifications` flag beside them) or
    the whole configuration tree under `manyskills`; anything else falls back to defaults with a message."""
    status = bool(raw.get("statusNotifications")) if isinstance(raw, dict) else False
    if isinstance(raw, dict) and SECTION not in raw:
        raw = {k: v for k, v in raw.items() if k != "statusNotifications"}
    settings, errors = parse_settings(raw, Settings())
    return InitializationOptions(settings, errors, status)


def report_errors(session: Session, errors: list[str]) -> None:
    if errors:
        session.show_message("ManySkills settings: " + "; ".join(errors), lsp.MessageType.Warning)


async def fetch_configuration(session: Session) -> None:
    if not session.client_features.workspace_configuration:
        return
    try:
        raw = await session.configuration(SECTION, CONFIG_TIMEOUT_S)
    except Exception as exc:  # noqa: BLE001 - a client that cannot answer keeps the current settings
        log.warning("workspace/configuration failed: %s", exc)
        return
    if raw is None:
        return  # Neovim answers null for a section it does not have: keep what we have
    apply_settings(session, *parse_settings(raw, session.settings))


def apply_settings(session: Session, new: Settings, errors: list[str]) -> None:
    log.info("settings: %s (errors: %s)", new, errors)
    report_errors(session, errors)
    old = session.settings
    session.settings = new
    if new.max_file_bytes != old.max_file_bytes:
        session.documents.revalidate(new.max_file_bytes)
    if session.engine is None:
        return
    if new.model_key() != old.model_key():
        log.info("model settings changed: reloading the engine")
        session.reload_engine()
    if new.cache_size != old.cache_size and session.analyzer is not None:
        session.analyzer.cache.resize(new.cache_size)
    if new != old:
        reanalyse_all(session)
