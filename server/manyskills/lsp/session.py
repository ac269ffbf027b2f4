"""The session: the state every handler works on, and the only way handlers reach the client.

Handlers are plain functions `handler(session, params)` (routes.py says which handles what). They read
and change the state held here (settings, open documents, the model engine, cached review notes, the
running scan) and talk to the client only through the helpers below, so a test can call a handler on a
`Session` whose client is a pygls server that was never started. This module imports no handler.

Model work never runs here: the engine loads and analyses on its own thread and reports back through
`*_from_thread` callbacks, which hop onto the event loop before touching the client.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import attrs
from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from manyskills.analysis.analyzer import Analyzer
from manyskills.analysis.cache import LruCache
from manyskills.lsp.documents import DocumentStore
from manyskills.model.engine import EngineStatus, ModelEngine
from manyskills.model.jobs import CancelToken
from manyskills.model.types import ReviewNote
from manyskills.settings import Settings

log = logging.getLogger(__name__)

Notify = Callable[[str, str], None]  # (level, message), from any thread
# settings -> the engine's BackendLoader: the in-process model or a model service. The choice is made by
# the caller of `create_server` (cli/serve.py), so the language server never imports the service package.
# (settings, notify, workspace root at load time: where `projectAdapter: auto` looks) -> engine loader
LoaderFactory = Callable[[Settings, Notify, Callable[[], "Path | None"]], Callable]
_MESSAGE_TYPES = {"error": lsp.MessageType.Error, "warning": lsp.MessageType.Warning}


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
    def from_capabilities(cls, caps: lsp.ClientCapabilities, status_notifications: bool) -> ClientFeatures:
        text = caps.text_document
        resolve = text.code_action.resolve_support if text and text.code_action else None
        return cls(
            pull_diagnostics=bool(text and text.diagnostic),
            diagnostic_refresh=bool(caps.workspace and caps.workspace.diagnostics
                                    and caps.workspace.diagnostics.refresh_support),
            code_action_resolve=bool(resolve and "edit" in resolve.properties),
            work_done_progress=bool(caps.window and caps.window.work_done_progress),
            workspace_configuration=bool(caps.workspace and caps.workspace.configuration),
            status_notifications=status_notifications,
        )


class Session:
    def __init__(self, client: LanguageServer, make_loader: LoaderFactory) -> None:
        self.client = client
        self.make_loader = make_loader
        self.settings = Settings()
        self.client_features = ClientFeatures()
        self.documents = DocumentStore()
        self.engine: ModelEngine | None = None
        self.analyzer: Analyzer | None = None
        self.reviews: LruCache[ReviewNote] = LruCache(2000)
        self.scan_token: CancelToken | None = None  # the running workspace scan, if any
        # Whether a workspace scan has completed: until then the embedding index holds only the open
        # documents' functions, and a search must scan first to cover the rest of the workspace.
        self.workspace_scanned = False
        self.loop: asyncio.AbstractEventLoop | None = None
        self.initialized_seen = False
        self.pending_messages: list[str] = []  # settings errors found before the client is ready for messages
        self._progress_token: str | None = None

    # ------------------------------------------------------------------ engine
    def start_engine(self) -> None:
        """Start loading the model in the background; requests are answered meanwhile."""
        self.loop = asyncio.get_running_loop()
        self.engine = ModelEngine(
            self.make_loader(self.settings, self.message_from_thread, self.workspace_root),
            on_status=self._status_from_thread,
            on_progress=self._progress_from_thread,
            cpu_fallback_loader=self.make_loader(attrs.evolve(self.settings, device="cpu"), self.message_from_thread,
                                                 self.workspace_root),
        )
        self.analyzer = Analyzer(self.engine, self.settings.cache_size)
        self.engine.start()

    def reload_engine(self) -> None:
        """Load the model the current settings name (in the background, like the first load)."""
        if self.engine is not None:
            self.engine.reload(self.make_loader(self.settings, self.message_from_thread, self.workspace_root))

    def _status_from_thread(self, status: EngineStatus) -> None:
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._on_status, status)

    def _progress_from_thread(self, message: str, fraction: float | None = None) -> None:
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._on_progress, message, fraction)

    def message_from_thread(self, level: str, message: str) -> None:
        """window/showMessage from any thread (the model service reports outages from the engine's)."""
        kind = _MESSAGE_TYPES.get(level, lsp.MessageType.Info)
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.show_message, f"ManySkills: {message}", kind)

    def _on_status(self, status: EngineStatus) -> None:
        if status.state == "loading":
            self._begin_progress("ManySkills: loading model", status.message)
        elif status.state in ("ready", "error"):
            self._end_progress("model ready" if status.state == "ready" else "model failed to load")
        if status.state == "error":
            self.show_message(f"ManySkills: analysis disabled, the model could not be loaded: {status.message}",
                              lsp.MessageType.Error)
        elif status.state == "ready" and status.message:
            self.show_message(f"ManySkills: {status.message}", lsp.MessageType.Warning)
        if self.client_features.status_notifications:
            self.client.protocol.notify("manyskills/status", {
                "state": status.state, "model": status.model, "device": status.device, "message": status.message,
                "adapter": status.adapter or None,
            })

    def _on_progress(self, message: str, fraction: float | None) -> None:
        if self._progress_token is None:
            self._begin_progress("ManySkills: loading model", message)
            return
        self.progress.report(self._progress_token, lsp.WorkDoneProgressReport(
            message=message, percentage=int(fraction * 100) if fraction is not None else None))

    def _begin_progress(self, title: str, message: str) -> None:
        if not self.client_features.work_done_progress or self._progress_token is not None:
            return
        token = f"manyskills-model-{id(self)}-{asyncio.get_running_loop().time()}"
        self._progress_token = token
        self.progress.create(token)
        self.progress.begin(token, lsp.WorkDoneProgressBegin(title=title, message=message, percentage=0))

    def _end_progress(self, message: str) -> None:
        if self._progress_token is not None:
            self.progress.end(self._progress_token, lsp.WorkDoneProgressEnd(message=message))
            self._progress_token = None

    # ------------------------------------------------------------------ client
    @property
    def position_encoding(self) -> str:
        try:
            return self.client.workspace.position_encoding or lsp.PositionEncodingKind.Utf16
        except RuntimeError:  # no workspace before initialize
            return lsp.PositionEncodingKind.Utf16

    @property
    def progress(self):
        """The client's work-done progress (create/begin/report/end)."""
        return self.client.work_done_progress

    def publish_diagnostics(self, uri: str, diagnostics: list[lsp.Diagnostic], version: int | None = None) -> None:
        self.client.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
            uri=uri, version=version, diagnostics=diagnostics))

    def show_message(self, message: str, kind: lsp.MessageType = lsp.MessageType.Info) -> None:
        self.client.window_show_message(lsp.ShowMessageParams(type=kind, message=message))

    async def apply_edit(self, edit: lsp.WorkspaceEdit, label: str) -> None:
        await self.client.workspace_apply_edit_async(lsp.ApplyWorkspaceEditParams(edit=edit, label=label))

    async def configuration(self, section: str, timeout_s: float) -> Any:
        """The client's `workspace/configuration` answer for one section (raises on timeout or error)."""
        result = await asyncio.wait_for(
            self.client.workspace_configuration_async(lsp.ConfigurationParams(
                items=[lsp.ConfigurationItem(section=section)])),
            timeout_s,
        )
        return result[0] if isinstance(result, (list, tuple)) and result else None

    def refresh_diagnostics(self) -> None:
        """Ask a pull client to re-request diagnostics (workspace/diagnostic/refresh)."""
        self.client.workspace_diagnostic_refresh(None)

    def notify(self, method: str, payload: Any) -> None:
        self.client.protocol.notify(method, payload)

    def to_json(self, value: Any) -> Any:
        """An lsprotocol object as the JSON the client would receive."""
        return self.client.protocol._converter.unstructure(value)

    def workspace_root(self) -> Path | None:
        """The first workspace folder (or the root path); None before initialize or without one."""
        try:
            roots = self.workspace_roots()
        except (RuntimeError, AttributeError):  # no workspace yet
            return None
        return roots[0] if roots else None

    def workspace_roots(self) -> list[Path]:
        roots = []
        for folder in self.client.workspace.folders.values():
            path = to_fs_path(folder.uri)
            if path:
                roots.append(Path(path))
        if not roots and self.client.workspace.root_path:
            roots.append(Path(self.client.workspace.root_path))
        return roots

    # ------------------------------------------------------------------ cancellation
    def request_token(self) -> CancelToken:
        """A token cancelled by `$/cancelRequest` for the request being handled (if any)."""
        return self.client.protocol.track_request(CancelToken())

    def release(self, token: CancelToken) -> None:
        self.client.protocol.release_request(token)

    def handlers_in_flight(self) -> int:
        return self.client.protocol.handlers_in_flight()
