"""`ManySkillsServer`: the pygls server subclass that holds all session state.

Handlers live one area per module (text_sync, diagnostics, code_actions, hover, commands,
configuration); each module's `register(server)` attaches them. Handlers that mutate session state
run on the event loop and return quickly; model work runs on the engine's thread and is awaited.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from manyskills import __version__
from manyskills.analysis.analyzer import Analyzer
from manyskills.analysis.cache import LruCache
from manyskills.lsp.documents import DocumentStore
from manyskills.model.engine import EngineStatus, ModelEngine
from manyskills.model.types import ReviewNote
from manyskills.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClientFeatures:
    """Client capabilities, resolved once at initialize."""

    pull_diagnostics: bool = False
    diagnostic_refresh: bool = False  # workspace/diagnostic/refresh after model results (pull clients)
    code_action_resolve: bool = False
    work_done_progress: bool = False
    workspace_configuration: bool = False
    status_notifications: bool = False  # opt-in custom `manyskills/status` (VS Code status bar)

    @classmethod
    def from_params(cls, params: lsp.InitializeParams) -> "ClientFeatures":
        caps = params.capabilities
        text = caps.text_document
        resolve = text.code_action.resolve_support if text and text.code_action else None
        options = params.initialization_options if isinstance(params.initialization_options, dict) else {}
        return cls(
            pull_diagnostics=bool(text and text.diagnostic),
            diagnostic_refresh=bool(caps.workspace and caps.workspace.diagnostics
                                    and caps.workspace.diagnostics.refresh_support),
            code_action_resolve=bool(resolve and "edit" in resolve.properties),
            work_done_progress=bool(caps.window and caps.window.work_done_progress),
            workspace_configuration=bool(caps.workspace and caps.workspace.configuration),
            status_notifications=bool(options.get("statusNotifications")),
        )


def make_loader(settings: Settings, notify=None):
    """The engine's loader: the in-process model, or the model service the `engine` setting names."""
    from manyskills.service.backends import backend_loader

    return backend_loader(settings, notify)


class ManySkillsServer(LanguageServer):
    def __init__(self) -> None:
        from manyskills.lsp.protocol import ManySkillsProtocol

        super().__init__("manyskills", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental,
                         protocol_cls=ManySkillsProtocol)
        self.request_tokens: dict = {}  # request id -> CancelToken of a running long request
        self.settings = Settings()
        self.client_features = ClientFeatures()
        self.documents = DocumentStore()
        self.engine: ModelEngine | None = None
        self.analyzer: Analyzer | None = None
        self.reviews: LruCache[ReviewNote] = LruCache(2000)
        self.scan_token = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._progress_token: str | None = None
        self.initialized_seen = False
        self.pending_messages: list[str] = []  # settings errors found before the client is ready for messages

    # ------------------------------------------------------------------ engine
    def start_engine(self) -> None:
        """Start loading the model in the background; requests are answered meanwhile."""
        self.loop = asyncio.get_running_loop()
        self.engine = ModelEngine(
            make_loader(self.settings, self.message_from_thread),
            on_status=self._status_from_thread,
            on_progress=self._progress_from_thread,
            cpu_fallback_loader=make_loader(_cpu(self.settings), self.message_from_thread),
        )
        self.analyzer = Analyzer(self.engine, self.settings.cache_size)
        self.engine.start()

    def _status_from_thread(self, status: EngineStatus) -> None:
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._on_status, status)

    def _progress_from_thread(self, message: str, fraction: float | None = None) -> None:
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._on_progress, message, fraction)

    def message_from_thread(self, level: str, message: str) -> None:
        """window/showMessage from any thread (the model service reports outages from the engine's)."""
        kind = {"error": lsp.MessageType.Error, "warning": lsp.MessageType.Warning}.get(level, lsp.MessageType.Info)
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(lambda: self.window_show_message(
                lsp.ShowMessageParams(type=kind, message=f"ManySkills: {message}")))

    def _on_status(self, status: EngineStatus) -> None:
        if status.state == "loading":
            self._begin_progress("ManySkills: loading model", status.message)
        elif status.state in ("ready", "error"):
            self._end_progress("model ready" if status.state == "ready" else "model failed to load")
        if status.state == "error":
            self.window_show_message(lsp.ShowMessageParams(
                type=lsp.MessageType.Error,
                message=f"ManySkills: analysis disabled, the model could not be loaded: {status.message}",
            ))
        elif status.state == "ready" and status.message:
            self.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Warning,
                                                           message=f"ManySkills: {status.message}"))
        if self.client_features.status_notifications:
            self.protocol.notify("manyskills/status", {
                "state": status.state, "model": status.model, "device": status.device, "message": status.message,
            })

    def _on_progress(self, message: str, fraction: float | None) -> None:
        if self._progress_token is None:
            self._begin_progress("ManySkills: loading model", message)
            return
        self.work_done_progress.report(self._progress_token, lsp.WorkDoneProgressReport(
            message=message, percentage=int(fraction * 100) if fraction is not None else None))

    def _begin_progress(self, title: str, message: str) -> None:
        if not self.client_features.work_done_progress or self._progress_token is not None:
            return
        token = f"manyskills-model-{id(self)}-{asyncio.get_running_loop().time()}"
        self._progress_token = token
        self.work_done_progress.create(token)
        self.work_done_progress.begin(token, lsp.WorkDoneProgressBegin(title=title, message=message, percentage=0))

    def _end_progress(self, message: str) -> None:
        if self._progress_token is not None:
            self.work_done_progress.end(self._progress_token, lsp.WorkDoneProgressEnd(message=message))
            self._progress_token = None

    @property
    def position_encoding(self) -> str:
        try:
            return self.workspace.position_encoding or lsp.PositionEncodingKind.Utf16
        except RuntimeError:
            return lsp.PositionEncodingKind.Utf16


def _cpu(settings: Settings) -> Settings:
    import attrs

    return attrs.evolve(settings, device="cpu")


def create_server() -> ManySkillsServer:
    from manyskills.lsp import code_actions, commands, configuration, diagnostics, hover, text_sync

    server = ManySkillsServer()
    for module in (configuration, text_sync, diagnostics, code_actions, hover, commands):
        module.register(server)
    return server
