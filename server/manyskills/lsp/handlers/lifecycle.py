"""initialize, initialized, shutdown, exit and live configuration changes."""

from __future__ import annotations

import logging
import os
import sys

from lsprotocol import types as lsp

from manyskills.lsp.configuration import (
    apply_settings,
    fetch_configuration,
    parse_initialization_options,
    report_errors,
)
from manyskills.lsp.scheduler import reanalyse_all
from manyskills.lsp.session import ClientFeatures, Session
from manyskills.settings import parse_settings

log = logging.getLogger(__name__)


def initialize(session: Session, params: lsp.InitializeParams) -> None:
    options = parse_initialization_options(params.initialization_options)
    session.client_features = ClientFeatures.from_capabilities(params.capabilities, options.status_notifications)
    session.settings = options.settings
    session.pending_messages = options.errors


async def initialized(session: Session, _params: lsp.InitializedParams) -> None:
    if session.initialized_seen:  # a repeated `initialized` must not start (and load) a second model
        log.warning("ignoring a repeated 'initialized' notification")
        return
    session.initialized_seen = True
    report_errors(session, session.pending_messages)
    await fetch_configuration(session)
    session.start_engine()
    reanalyse_all(session)  # documents opened while the configuration was being fetched


def shutdown(session: Session, _params: None) -> None:
    if session.engine is not None:
        session.engine.shutdown()


def exit_(session: Session, _params: None) -> None:
    # Exit at once: a model still loading on the worker thread is inside torch's C++ code, and a
    # normal interpreter teardown under it aborts ("terminate called without an active exception").
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0 if getattr(session.client.protocol, "_shutdown", False) else 1)


async def did_change_configuration(session: Session, params: lsp.DidChangeConfigurationParams) -> None:
    settings = params.settings
    if isinstance(settings, dict) and "manyskills" in settings:
        apply_settings(session, *parse_settings(settings["manyskills"], session.settings))
    elif session.client_features.workspace_configuration:
        await fetch_configuration(session)
    elif settings is not None:
        apply_settings(session, *parse_settings(settings, session.settings))
