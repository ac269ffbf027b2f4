"""Handlers as plain functions: called on a session whose client is a real pygls server that was never
started; what it would send to the editor is read back from its output stream. No model is loaded,
so these cover the routing and state rules, not analysis (test_server_e2e.py runs the whole server)."""

from __future__ import annotations

import inspect
import json

import pytest
from lsprotocol import types as lsp
from manyskills.analysis.findings import Finding, line_span
from manyskills.lsp import command_names
from manyskills.lsp.actions import STALE_MESSAGE
from manyskills.lsp.handlers import code_actions, commands, lifecycle, text_sync
from manyskills.lsp.routes import COMMANDS, METHODS, Route, Runs
from manyskills.lsp.server import check_route, create_server
from manyskills.settings import Settings

URI = "file:///work/example.py"
SOURCE = '''def first(xs):
    total = 0
    for i in range(len(xs)):
        total += xs[i]
    return total


def second(name):
    if name is None:
        return ""
    return name.upper()
'''


class Output:
    """The server's stdout: every JSON-RPC message it writes, decoded."""

    def __init__(self) -> None:
        self.messages: list[dict] = []

    def write(self, data: bytes) -> None:
        self.messages.append(json.loads(data.split(b"\r\n\r\n", 1)[1]))

    def close(self) -> None:
        pass

    def sent(self, method: str) -> list[dict]:
        return [m["params"] for m in self.messages if m.get("method") == method]


def _no_model(_settings, _notify):
    raise AssertionError("these tests never start the engine")


@pytest.fixture
def session_and_output():
    server = create_server(_no_model)
    output = Output()
    server.protocol.set_writer(output)
    return server.session, output


def _initialize(session, options=None, resolve_support=True) -> None:
    code_action = lsp.CodeActionClientCapabilities(
        resolve_support=lsp.ClientCodeActionResolveOptions(properties=["edit"]) if resolve_support else None)
    lifecycle.initialize(session, lsp.InitializeParams(
        capabilities=lsp.ClientCapabilities(text_document=lsp.TextDocumentClientCapabilities(code_action=code_action)),
        initialization_options=options))


def _open_with_findings(session) -> None:
    """An open document with one defect finding per function, on each function's second line."""
    text_sync.did_open(session, lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(
        uri=URI, language_id="python", version=3, text=SOURCE)))
    state = session.documents.get(URI)
    state.findings = [
        Finding("defect", fn, 0.9, f"Possible defect in `{fn.qualified_name}`",
                line_span(state.lines, fn.span.start.line + 1), 1)
        for fn in state.index.functions]


# ---------------------------------------------------------------- the route table


def test_route_table_is_what_the_server_registers():
    server = create_server(_no_model)
    assert set(server.protocol.fm.features) == {r.method for r in METHODS}
    assert set(server.protocol.fm.commands) == {r.method for r in COMMANDS}
    names = {v for k, v in vars(command_names).items() if k.isupper()}
    assert names == {r.method for r in COMMANDS}, "every command name has exactly one route"
    assert len(METHODS) == len({r.method for r in METHODS}) and len(COMMANDS) == len(names)


def test_route_kinds_match_the_handlers():
    for route in (*METHODS, *COMMANDS):
        check_route(route)  # raises on a mislabelled route
        assert inspect.iscoroutinefunction(route.handler) == (route.runs is Runs.BACKGROUND)
    with pytest.raises(TypeError, match="marked LOOP"):
        check_route(Route(lsp.TEXT_DOCUMENT_HOVER, code_actions.code_action_resolve, Runs.LOOP))
    with pytest.raises(TypeError, match="marked BACKGROUND"):
        check_route(Route(lsp.TEXT_DOCUMENT_CODE_ACTION, code_actions.code_action, Runs.BACKGROUND))


# ---------------------------------------------------------------- initialize and settings


def test_initialize_reads_settings_and_the_status_flag(session_and_output):
    session, output = session_and_output
    _initialize(session, {"threshold": 0.3, "statusNotifications": True})
    assert session.settings.threshold == 0.3
    assert session.client_features.status_notifications and session.client_features.code_action_resolve
    assert session.pending_messages == []  # the flag is not mistaken for an unknown setting
    assert output.messages == []  # messages wait for `initialized`


def test_initialize_with_the_whole_tree_and_a_bad_value(session_and_output):
    session, _ = session_and_output
    _initialize(session, {"manyskills": {"threshold": "high", "debounceMs": 10}})
    assert session.settings.debounce_ms == 10 and session.settings.threshold is None
    assert len(session.pending_messages) == 1 and "threshold" in session.pending_messages[0]


async def test_invalid_configuration_change_keeps_the_previous_value(session_and_output):
    session, output = session_and_output
    _initialize(session, {"threshold": 0.2})
    await lifecycle.did_change_configuration(session, lsp.DidChangeConfigurationParams(
        settings={"manyskills": {"threshold": "high", "debounceMs": 75}}))
    assert session.settings.threshold == 0.2  # kept, not reset to the default
    assert session.settings.debounce_ms == 75  # the valid field in the same change applies
    (message,) = output.sent(lsp.WINDOW_SHOW_MESSAGE)
    assert message["type"] == lsp.MessageType.Warning
    assert "'threshold'" in message["message"] and "keeping 0.2" in message["message"]


async def test_configuration_change_without_section_is_the_section(session_and_output):
    session, output = session_and_output
    _initialize(session)
    await lifecycle.did_change_configuration(session, lsp.DidChangeConfigurationParams(settings={"threshold": 0.7}))
    assert session.settings == Settings(threshold=0.7)
    assert output.sent(lsp.WINDOW_SHOW_MESSAGE) == []


# ---------------------------------------------------------------- documents


def test_open_publishes_and_close_clears(session_and_output):
    session, output = session_and_output
    _initialize(session)
    text_sync.did_open(session, lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(
        uri="file:///work/x.cobol", language_id="cobol", version=1, text="IDENTIFICATION DIVISION.")))
    assert session.documents.all() == [] and output.messages == []
    _open_with_findings(session)
    assert output.sent(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS) == [{"uri": URI, "version": 3, "diagnostics": []}]
    assert commands.document_state(session, [URI])["text"] == SOURCE
    text_sync.did_close(session, lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=URI)))
    assert output.sent(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)[-1] == {"uri": URI, "diagnostics": []}
    assert commands.document_state(session, [URI]) is None


# ---------------------------------------------------------------- code actions


def _actions(session, start_line: int, end_line: int):
    return code_actions.code_action(session, lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=URI),
        range=lsp.Range(start=lsp.Position(start_line, 0), end=lsp.Position(end_line, 0)),
        context=lsp.CodeActionContext(diagnostics=[])))


def test_code_actions_only_for_findings_in_the_range(session_and_output):
    session, _ = session_and_output
    _initialize(session)
    _open_with_findings(session)
    actions = _actions(session, 8, 8)  # inside `second` only
    assert [a.title for a in actions] == ["ManySkills: Explain possible defect in `second`",
                                         "ManySkills: Apply suggested fix to line 9", "ManySkills: ignore here"]
    explain, fix, ignore = actions
    assert explain.command is None and fix.command is None and fix.is_preferred  # resolved lazily
    assert fix.data["action"] == "fix" and fix.data["uri"] == URI and fix.data["line"] == 1
    (edit,) = ignore.edit.changes[URI]
    assert edit.new_text == "  # manyskills: ignore[defect]"
    assert edit.range.start == lsp.Position(8, len("    if name is None:"))
    assert len(_actions(session, 0, 9)) == 6  # both functions
    assert _actions(session, 5, 6) is None  # the blank lines between them


def test_code_actions_without_resolve_carry_commands(session_and_output):
    session, _ = session_and_output
    _initialize(session, {"skills": {"review": True}}, resolve_support=False)
    _open_with_findings(session)
    explain, fix, _ignore = _actions(session, 1, 1)
    assert explain.command.command == command_names.SHOW_NOTE and explain.command.arguments == [explain.data]
    assert fix.command.command == command_names.APPLY_FIX and fix.command.arguments == [fix.data]


def test_review_off_leaves_only_the_suppression(session_and_output):
    session, _ = session_and_output
    _initialize(session, {"skills": {"review": False}})
    _open_with_findings(session)
    assert [a.title for a in _actions(session, 1, 1)] == ["ManySkills: ignore here"]


async def test_stale_action_and_commands_say_so(session_and_output):
    session, output = session_and_output
    _initialize(session)
    _open_with_findings(session)
    (_explain, fix, _ignore) = _actions(session, 1, 1)
    session.documents.get(URI).findings = []  # the document changed since the actions were listed
    resolved = await code_actions.code_action_resolve(session, fix)
    assert resolved.edit is None and resolved.command.arguments == [{"message": STALE_MESSAGE}]
    await commands.apply_fix(session, [fix.data])
    await commands.show_note(session, [{"message": "a note"}])
    assert [m["message"] for m in output.sent(lsp.WINDOW_SHOW_MESSAGE)] == [STALE_MESSAGE, "a note"]
    assert output.sent(lsp.WORKSPACE_APPLY_EDIT) == []


# ---------------------------------------------------------------- commands


async def test_commands_without_a_model(session_and_output, monkeypatch):
    from manyskills.lsp import workspace_search

    session, _ = session_and_output
    _initialize(session)
    assert commands.stats(session, [])["state"] == "idle"
    assert await commands.scan_workspace(session, []) == {"files": 0, "functions": 0, "findings": 0}
    # Search needs the model: without one it waits (bounded), then says so; an empty list would read
    # as "no matches" (issue 20).
    monkeypatch.setattr(workspace_search, "MODEL_WAIT_S", 0.2)
    with pytest.raises(workspace_search.ModelNotReady, match="still loading"):
        await commands.search(session, ["anything", 5])
    assert await commands.search(session, ["   ", 5]) == []  # an empty query needs no model
    assert commands.document_state(session, [42]) is None  # a wrong argument type is not a crash


def test_progress_cancel_stops_only_the_scan(session_and_output):
    from manyskills.model.jobs import CancelToken

    session, _ = session_and_output
    session.scan_token = CancelToken()
    commands.progress_cancel(session, lsp.WorkDoneProgressCancelParams(token="manyskills-model-1"))
    assert not session.scan_token.cancelled
    commands.progress_cancel(session, lsp.WorkDoneProgressCancelParams(token="manyskills-scan-abc"))
    assert session.scan_token.cancelled
