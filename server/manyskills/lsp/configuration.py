"""Settings: `initializationOptions`, then `workspace/configuration`, then live updates.

A setting change never restarts the server: model/adapter/device/engine changes reload the engine in
the background (switching between the in-process model and a model service); threshold/skill changes re-derive findings from cached results without the model.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys

from lsprotocol import types as lsp

from manyskills.lsp.server import ClientFeatures, ManySkillsServer, make_loader
from manyskills.settings import Settings, parse_settings

log = logging.getLogger(__name__)
CONFIG_TIMEOUT_S = 3.0


def _report(server: ManySkillsServer, errors: list[str]) -> None:
    if errors:
        server.window_show_message(lsp.ShowMessageParams(
            type=lsp.MessageType.Warning,
            message="ManySkills settings: " + "; ".join(errors),
        ))


async def fetch_configuration(server: ManySkillsServer) -> None:
    if not server.client_features.workspace_configuration:
        return
    try:
        result = await asyncio.wait_for(
            server.workspace_configuration_async(lsp.ConfigurationParams(
                items=[lsp.ConfigurationItem(section="manyskills")])),
            CONFIG_TIMEOUT_S,
        )
    except Exception as exc:  # noqa: BLE001 - a client that cannot answer keeps the current settings
        log.warning("workspace/configuration failed: %s", exc)
        return
    raw = result[0] if isinstance(result, (list, tuple)) and result else None
    if raw is None:
        return  # Neovim answers null for a section it does not have: keep what we have
    apply_settings(server, *parse_settings(raw, server.settings))


def apply_settings(server: ManySkillsServer, new: Settings, errors: list[str]) -> None:
    log.info("settings: %s (errors: %s)", new, errors)
    _report(server, errors)
    old = server.settings
    server.settings = new
    if new.max_file_bytes != old.max_file_bytes:
        server.documents.revalidate(new.max_file_bytes)
    if server.engine is None:
        return
    if new.model_key() != old.model_key():
        log.info("model settings changed: reloading the engine")
        server.engine.reload(make_loader(new, server.message_from_thread))
    if new.cache_size != old.cache_size and server.analyzer is not None:
        server.analyzer.cache.resize(new.cache_size)
    if new != old:
        from manyskills.lsp.text_sync import reanalyse_all

        reanalyse_all(server)


def register(server: ManySkillsServer) -> None:
    @server.feature(lsp.INITIALIZE)
    def initialize(ls: ManySkillsServer, params: lsp.InitializeParams) -> None:
        ls.client_features = ClientFeatures.from_params(params)
        options = params.initialization_options
        if isinstance(options, dict) and "manyskills" not in options:
            options = {k: v for k, v in options.items() if k != "statusNotifications"}
        ls.settings, errors = parse_settings(options, Settings())
        ls.pending_messages = errors

    @server.feature(lsp.INITIALIZED)
    async def initialized(ls: ManySkillsServer, _params: lsp.InitializedParams) -> None:
        if ls.initialized_seen:  # a repeated `initialized` must not start (and load) a second model
            log.warning("ignoring a repeated 'initialized' notification")
            return
        ls.initialized_seen = True
        _report(ls, getattr(ls, "pending_messages", []))
        await fetch_configuration(ls)
        ls.start_engine()
        from manyskills.lsp.text_sync import reanalyse_all

        reanalyse_all(ls)  # documents opened while the configuration was being fetched

    @server.feature(lsp.SHUTDOWN)
    def shutdown(ls: ManySkillsServer, *_args) -> None:
        if ls.engine is not None:
            ls.engine.shutdown()

    @server.feature(lsp.EXIT)
    def exit_(ls: ManySkillsServer, *_args) -> None:
        # Exit at once: a model still loading on the worker thread is inside torch's C++ code, and a
        # normal interpreter teardown under it aborts ("terminate called without an active exception").
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0 if getattr(ls.protocol, "_shutdown", False) else 1)

    @server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(ls: ManySkillsServer, params: lsp.DidChangeConfigurationParams) -> None:
        settings = params.settings
        if isinstance(settings, dict) and "manyskills" in settings:
            apply_settings(ls, *parse_settings(settings["manyskills"], ls.settings))
        elif ls.client_features.workspace_configuration:
            await fetch_configuration(ls)
        elif settings is not None:
            apply_settings(ls, *parse_settings(settings, ls.settings))
