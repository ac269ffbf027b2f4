"""The route table: every LSP method and every workspace command this server answers, the plain
function that handles it, and where it runs. `create_server` (server.py) wires exactly this table;
nothing else registers a handler.

Where a handler runs:
- LOOP: a plain function, run to completion on the event loop. It reads and changes session state
  and returns quickly; model work it needs (document analysis) is handed to the scheduler, not awaited.
- BACKGROUND: a coroutine that awaits work done elsewhere: the model (review notes, repairs, query
  embeddings, a workspace scan on a worker thread, waiting for a loading model) or a client round
  trip (workspace/configuration, workspace/applyEdit). Session state is read and changed only
  between awaits, on the loop.
Requests that do model work get a cancellation token from the session, so `$/cancelRequest` stops them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lsprotocol import types as lsp

from manyskills.lsp import command_names
from manyskills.lsp.diagnostics import SOURCE
from manyskills.lsp.handlers import code_actions, commands, hover, lifecycle, pull, symbols, text_sync


class Runs(enum.Enum):
    LOOP = "loop"
    BACKGROUND = "background"


@dataclass(frozen=True)
class Route:
    method: str  # an LSP method, or a command name for COMMANDS
    handler: Callable[..., Any]  # handler(session, params) for methods, handler(session, args) for commands
    runs: Runs
    options: Any = None  # registration options advertised in the server's capabilities


METHODS: tuple[Route, ...] = (
    Route(lsp.INITIALIZE, lifecycle.initialize, Runs.LOOP),
    Route(lsp.INITIALIZED, lifecycle.initialized, Runs.BACKGROUND),  # asks the client for settings
    Route(lsp.SHUTDOWN, lifecycle.shutdown, Runs.LOOP),
    Route(lsp.EXIT, lifecycle.exit_, Runs.LOOP),
    Route(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION, lifecycle.did_change_configuration, Runs.BACKGROUND),
    Route(lsp.TEXT_DOCUMENT_DID_OPEN, text_sync.did_open, Runs.LOOP),
    Route(lsp.TEXT_DOCUMENT_DID_CHANGE, text_sync.did_change, Runs.LOOP),
    Route(lsp.TEXT_DOCUMENT_DID_CLOSE, text_sync.did_close, Runs.LOOP),
    Route(lsp.TEXT_DOCUMENT_DIAGNOSTIC, pull.document_diagnostic, Runs.LOOP,
          lsp.DiagnosticOptions(identifier=SOURCE, inter_file_dependencies=True, workspace_diagnostics=False)),
    Route(lsp.TEXT_DOCUMENT_CODE_ACTION, code_actions.code_action, Runs.LOOP,
          lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix], resolve_provider=True)),
    Route(lsp.CODE_ACTION_RESOLVE, code_actions.code_action_resolve, Runs.BACKGROUND),  # review note / repair
    Route(lsp.TEXT_DOCUMENT_HOVER, hover.hover, Runs.BACKGROUND),  # review note
    # Semantic search for descriptions (model work), name matching for names (no model).
    Route(lsp.WORKSPACE_SYMBOL, symbols.workspace_symbol, Runs.BACKGROUND, lsp.WorkspaceSymbolOptions()),
    Route(lsp.WINDOW_WORK_DONE_PROGRESS_CANCEL, commands.progress_cancel, Runs.LOOP),
)

COMMANDS: tuple[Route, ...] = (
    Route(command_names.SCAN_WORKSPACE, commands.scan_workspace, Runs.BACKGROUND),
    Route(command_names.SEARCH, commands.search, Runs.BACKGROUND),
    Route(command_names.STATS, commands.stats, Runs.LOOP),
    Route(command_names.DOCUMENT_STATE, commands.document_state, Runs.LOOP),
    Route(command_names.SHOW_NOTE, commands.show_note, Runs.BACKGROUND),
    Route(command_names.APPLY_FIX, commands.apply_fix, Runs.BACKGROUND),
)
