"""End-to-end: a real `manyskills serve` subprocess driven over stdio by pytest-lsp, with a tiny model."""

from __future__ import annotations

import asyncio
import sys
import time

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

SOURCE = '''import os


def first(xs):
    total = 0
    for i in range(len(xs)):
        total += xs[i]
    return total


def second(name):
    if name is None:
        return ""
    return name.upper()


class Box:
    def get(self, key):
        value = self.items.get(key)
        return value
'''
URI = "file:///tmp/manyskills-e2e/example.py"


async def wait_until(predicate, timeout=60.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(interval)
    raise AssertionError("condition not met in time")


def manyskills_diagnostics(client: LanguageClient, uri: str = URI):
    return [d for d in client.diagnostics.get(uri, []) if d.source == "manyskills"]


async def stats(client: LanguageClient) -> dict:
    return await client.workspace_execute_command_async(lsp.ExecuteCommandParams(command="manyskills.stats"))


def options(tiny_model_dir, **overrides):
    # threshold 0: every function gets a defect finding, so tests do not depend on random weights.
    return {"model": str(tiny_model_dir), "threshold": 0.0, "debounceMs": 50, "skills": {"clone": False},
            **overrides}


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "manyskills", "serve"]))
async def client(lsp_client: LanguageClient, tiny_model_dir):
    capabilities = client_capabilities("visual-studio-code")
    lsp_client.set_configuration(options(tiny_model_dir), section="manyskills")
    await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=capabilities, initialization_options=options(tiny_model_dir)))
    yield
    await lsp_client.shutdown_session()


def open_doc(client: LanguageClient, text: str = SOURCE, uri: str = URI, version: int = 1):
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)))


async def test_diagnostics_on_open(client: LanguageClient):
    open_doc(client)
    await wait_until(lambda: len(manyskills_diagnostics(client)) == 3)
    diags = manyskills_diagnostics(client)
    assert {d.code for d in diags} == {"defect"}
    assert all(d.severity == lsp.DiagnosticSeverity.Warning for d in diags)
    assert {d.data["function"] for d in diags} == {"first", "second", "Box.get"}
    for d in diags:
        assert 0.0 <= d.data["score"] <= 1.0
        assert "Possible defect" in d.message
    lines = SOURCE.split("\n")
    by_fn = {d.data["function"]: d for d in diags}
    assert 3 <= by_fn["first"].range.start.line <= 7  # inside `first`
    line = lines[by_fn["first"].range.start.line]
    assert line[by_fn["first"].range.start.character:by_fn["first"].range.end.character] == line.strip()


async def test_edit_reanalyses_only_the_changed_function(client: LanguageClient):
    open_doc(client)
    await wait_until(lambda: len(manyskills_diagnostics(client)) == 3)
    before = await stats(client)
    assert before["functionsAnalysed"] == 3
    # Insert two lines at the top (shifts everything) and change one line inside `second`.
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=URI, version=2),
        content_changes=[
            lsp.TextDocumentContentChangePartial(
                range=lsp.Range(start=lsp.Position(12, 8), end=lsp.Position(12, 17)), text='return "?"'),
            lsp.TextDocumentContentChangePartial(
                range=lsp.Range(start=lsp.Position(0, 0), end=lsp.Position(0, 0)), text="import sys\n\n"),
        ]))
    await wait_until(lambda: any(d.data["function"] == "first" and d.range.start.line >= 5
                                 for d in manyskills_diagnostics(client)))
    after = await stats(client)
    deadline = time.monotonic() + 60
    while after["functionsAnalysed"] == before["functionsAnalysed"] and time.monotonic() < deadline:
        await asyncio.sleep(0.1)  # the debounced run (slow on a loaded machine)
        after = await stats(client)
    await asyncio.sleep(0.5)
    after = await stats(client)
    assert after["functionsAnalysed"] - before["functionsAnalysed"] == 1
    diags = manyskills_diagnostics(client)
    assert {d.data["function"] for d in diags} == {"first", "second", "Box.get"}
    first = next(d for d in diags if d.data["function"] == "first")
    assert 5 <= first.range.start.line <= 9  # shifted by the two inserted lines


async def test_code_actions_and_resolve(client: LanguageClient):
    open_doc(client)
    await wait_until(lambda: len(manyskills_diagnostics(client)) == 3)
    diag = next(d for d in manyskills_diagnostics(client) if d.data["function"] == "second")
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=URI), range=diag.range,
        context=lsp.CodeActionContext(diagnostics=[diag])))
    titles = [a.title for a in actions]
    assert all(t.startswith("ManySkills: ") for t in titles)
    assert "ManySkills: ignore here" in titles
    explain = next(a for a in actions if a.title.startswith("ManySkills: Explain"))
    fix = next(a for a in actions if a.title.startswith("ManySkills: Apply suggested fix"))
    assert fix.is_preferred and explain.edit is None and explain.command is None  # lazy until resolve
    resolved = await client.code_action_resolve_async(explain)
    assert resolved.command is not None and resolved.command.command == "manyskills.showNote"
    assert "score" in resolved.command.arguments[0]["message"]
    resolved_fix = await client.code_action_resolve_async(fix)
    # Either a repair that rewrites lines of `second` (lines 10-13), or (none passed the check) the note saying so.
    assert (resolved_fix.edit is None) != (resolved_fix.command is None)
    if resolved_fix.edit is not None:
        (edit,) = resolved_fix.edit.changes[URI]
        assert 10 <= edit.range.start.line <= edit.range.end.line <= 13
        lines = SOURCE.split("\n")[edit.range.start.line:edit.range.end.line + 1]
        assert edit.new_text.strip() != "\n".join(lines).strip()
    else:
        assert resolved_fix.command.command == "manyskills.showNote"
        assert "No repair passed the check" in resolved_fix.command.arguments[0]["message"]
    ignore = next(a for a in actions if a.title == "ManySkills: ignore here")
    edit = ignore.edit.changes[URI][0]
    assert edit.new_text == "  # manyskills: ignore[defect]"
    assert edit.range.start.line == diag.range.start.line


async def test_suppression_comment_is_honoured(client: LanguageClient):
    lines = SOURCE.split("\n")
    lines[10] = lines[10] + "  # manyskills: ignore[defect]"  # `def second(name):`
    open_doc(client, "\n".join(lines))
    await wait_until(lambda: len(manyskills_diagnostics(client)) == 2)
    await asyncio.sleep(0.3)
    assert {d.data["function"] for d in manyskills_diagnostics(client)} == {"first", "Box.get"}


async def test_settings_change_applies_live(client: LanguageClient, tiny_model_dir):
    open_doc(client)
    await wait_until(lambda: len(manyskills_diagnostics(client)) == 3)
    analysed = (await stats(client))["functionsAnalysed"]
    client.set_configuration(options(tiny_model_dir, threshold=1.0), section="manyskills")
    client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings=None))
    await wait_until(lambda: len(manyskills_diagnostics(client)) == 0)
    client.set_configuration(options(tiny_model_dir, skills={"defect": False, "clone": False}), section="manyskills")
    client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings=None))
    await asyncio.sleep(0.3)
    assert manyskills_diagnostics(client) == []
    client.set_configuration(options(tiny_model_dir), section="manyskills")
    client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings=None))
    await wait_until(lambda: len(manyskills_diagnostics(client)) == 3)
    # Threshold/skill changes are served from the cache: the model saw nothing new.
    assert (await stats(client))["functionsAnalysed"] == analysed


async def test_invalid_settings_message_and_defaults(client: LanguageClient, tiny_model_dir):
    client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(
        settings={"manyskills": {"threshold": "high", "debounceMs": None, "model": str(tiny_model_dir)}}))
    await wait_until(lambda: any("threshold" in m.message for m in client.messages))
    open_doc(client)
    await wait_until(lambda: len(manyskills_diagnostics(client)) == 3)  # previous valid threshold (0) kept


async def test_pull_diagnostics(client: LanguageClient):
    open_doc(client)
    await wait_until(lambda: len(manyskills_diagnostics(client)) == 3)
    report = await client.text_document_diagnostic_async(lsp.DocumentDiagnosticParams(
        text_document=lsp.TextDocumentIdentifier(uri=URI)))
    assert report.kind == "full"
    assert {d.data["function"] for d in report.items} == {"first", "second", "Box.get"}
    again = await client.text_document_diagnostic_async(lsp.DocumentDiagnosticParams(
        text_document=lsp.TextDocumentIdentifier(uri=URI), previous_result_id=report.result_id))
    assert again.kind == "unchanged"


async def test_hover_shows_note(client: LanguageClient):
    open_doc(client)
    await wait_until(lambda: len(manyskills_diagnostics(client)) == 3)
    diag = manyskills_diagnostics(client)[0]
    hover = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=URI), position=diag.range.start))
    assert hover is not None and "ManySkills" in hover.contents.value and "defect" in hover.contents.value
    # no adapter, so no calibration: the raw score only
    assert f"score {diag.data['score']:.2f}" in hover.contents.value
    assert "probability" not in hover.contents.value


# flat enough that any score the tiny model gives maps well inside (0.01, 0.99)
CALIBRATION = {"kind": "platt", "a": 0.5, "b": -1.5, "base_rate": 0.05}


@pytest.fixture(scope="module")
def calibrated_adapter(tiny_model_dir, tmp_path_factory):
    from manyskills.model.adapter import update_manifest

    from harness.tinymodel import build_tiny_adapter

    directory = build_tiny_adapter(tiny_model_dir, tmp_path_factory.mktemp("calibrated-adapter"))
    update_manifest(directory, calibration={"defect": CALIBRATION})
    return directory


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "manyskills", "serve"]))
async def calibrated_client(lsp_client: LanguageClient, tiny_model_dir, calibrated_adapter):
    settings = options(tiny_model_dir, adapter=str(calibrated_adapter), skills={"clone": False, "review": False})
    lsp_client.set_configuration(settings, section="manyskills")
    await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), initialization_options=settings))
    yield
    await lsp_client.shutdown_session()


async def test_hover_shows_the_probability_with_a_calibrated_adapter(calibrated_client: LanguageClient):
    from manyskills.model.calibration import defect_probability

    client = calibrated_client
    open_doc(client)
    await wait_until(lambda: len(manyskills_diagnostics(client)) == 3, timeout=300)  # loads an adapter too
    for diag in manyskills_diagnostics(client):
        hover = await client.text_document_hover_async(lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=URI), position=diag.range.start))
        score = diag.data["score"]
        probability = defect_probability(score, CALIBRATION)
        assert 0.005 <= probability <= 0.995  # printed with two decimals, not as "< 0.01" / "> 0.99"
        expected = f"estimated probability of a bug: {probability:.2f} (score {score:.2f}, warns at ≥ 0.00)"
        assert expected in hover.contents.value
        assert f"(score {score:.2f}, line confidence" in diag.message  # the diagnostic keeps the raw score


WORKSPACE_FILES = {
    "totals.py": "def add_all(xs):\n    total = 0\n    for x in xs:\n        total += x\n    return total\n",
    "names.py": "def shout(name):\n    return name.upper()\n\n\ndef whisper(name):\n    return name.lower()\n",
    "pkg/util.py": "def clamp(x, lo, hi):\n    return max(lo, min(x, hi))\n",
}


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "manyskills", "serve"]))
async def workspace_client(lsp_client: LanguageClient, tiny_model_dir, tmp_path):
    for name, text in WORKSPACE_FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    lsp_client.set_configuration(options(tiny_model_dir), section="manyskills")
    await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), initialization_options=options(tiny_model_dir),
        root_uri=tmp_path.as_uri(), workspace_folders=[lsp.WorkspaceFolder(uri=tmp_path.as_uri(), name="ws")]))
    yield
    await lsp_client.shutdown_session()


async def test_workspace_scan_and_search(workspace_client: LanguageClient, tmp_path):
    client = workspace_client
    deadline = time.monotonic() + 300
    while (await stats(client))["state"] != "ready":  # before the engine starts a scan finds nothing
        assert time.monotonic() < deadline, "the model did not load"
        await asyncio.sleep(0.1)
    result = await asyncio.wait_for(client.workspace_execute_command_async(lsp.ExecuteCommandParams(
        command="manyskills.scanWorkspace")), 300)
    # threshold 0: one defect finding per function, pushed for files that are not open.
    assert result == {"files": 3, "functions": 4, "findings": 4}
    uris = {(tmp_path / name).resolve().as_uri() for name in WORKSPACE_FILES}
    await wait_until(lambda: all(manyskills_diagnostics(client, uri) for uri in uris))
    assert {d.data["function"] for uri in uris for d in manyskills_diagnostics(client, uri)} == {
        "add_all", "shout", "whisper", "clamp"}
    hits = await asyncio.wait_for(client.workspace_execute_command_async(lsp.ExecuteCommandParams(
        command="manyskills.search", arguments=["sum the items of a list", 3])), 300)
    assert len(hits) == 3  # the limit, out of four indexed functions
    assert {h["uri"] for h in hits} <= uris
    assert {h["name"] for h in hits} <= {"add_all", "shout", "whisper", "clamp"}
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True) and all(-1.0 <= s <= 1.0 for s in scores)
    for h in hits:
        assert h["range"]["start"]["line"] <= h["range"]["end"]["line"]
    empty = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
        command="manyskills.search", arguments=["   "]))
    assert empty == []


async def test_unknown_language_and_binary_are_skipped(client: LanguageClient):
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(
        uri="file:///tmp/x.cobol", language_id="cobol", version=1, text="IDENTIFICATION DIVISION.")))
    open_doc(client, "def f():\n    return 1\x00\x00\n", uri="file:///tmp/bin.py")
    open_doc(client)
    await wait_until(lambda: len(manyskills_diagnostics(client)) == 3)
    assert manyskills_diagnostics(client, "file:///tmp/bin.py") == []
