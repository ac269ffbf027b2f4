"""`workspace/symbol` end to end (a real `manyskills serve` subprocess): descriptions get semantic
search, names get name matching, and a search while the model loads waits with progress, then fails
with a message instead of answering `[]`."""

from __future__ import annotations

import asyncio
import socket
import sys
import time

import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from harness.raw_lsp import RawServer, server_env

FILES = {
    "totals.py": "def add_all(xs):\n    total = 0\n    for x in xs:\n        total += x\n    return total\n",
    "names.py": ("def shout(name):\n    return name.upper()\n\n\ndef whisper(name):\n    return name.lower()\n\n\n"
                 "class Greeter:\n    def greet_user(self, user):\n        return 'hi ' + user\n"),
}
ALL_NAMES = {"add_all", "shout", "whisper", "greet_user"}


def options(tiny_model_dir, **overrides):
    return {"model": str(tiny_model_dir), "threshold": 0.0, "debounceMs": 50, "skills": {"clone": False},
            **overrides}


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "manyskills", "serve"]))
async def client(lsp_client: LanguageClient, tiny_model_dir, tmp_path):
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
    lsp_client.set_configuration(options(tiny_model_dir), section="manyskills")
    result = await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), initialization_options=options(tiny_model_dir),
        root_uri=tmp_path.as_uri(), workspace_folders=[lsp.WorkspaceFolder(uri=tmp_path.as_uri(), name="ws")]))
    assert result.capabilities.workspace_symbol_provider
    yield
    await lsp_client.shutdown_session()


async def symbols(client: LanguageClient, query: str) -> list[lsp.SymbolInformation]:
    return await asyncio.wait_for(client.workspace_symbol_async(lsp.WorkspaceSymbolParams(query=query)), 300)


async def test_long_query_is_semantic_and_short_query_matches_names(client: LanguageClient, tmp_path):
    # A description: semantic search (scans the workspace first: nothing is open), every function ranked.
    found = await symbols(client, "sum the items of a list")
    uris = {(tmp_path / name).resolve().as_uri() for name in FILES}
    assert {s.name for s in found} == ALL_NAMES
    assert {s.location.uri for s in found} <= uris
    by_name = {s.name: s for s in found}
    add_all = by_name["add_all"]
    assert add_all.kind == lsp.SymbolKind.Function
    assert (add_all.location.range.start.line, add_all.location.range.end.line) == (0, 4)  # the whole function
    assert by_name["greet_user"].kind == lsp.SymbolKind.Method and by_name["greet_user"].container_name == "Greeter"
    # The same ranking as manyskills.search: one home for search.
    command = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
        command="manyskills.search", arguments=["sum the items of a list", 100]))
    assert [h["name"].rpartition(".")[2] for h in command] == [s.name for s in found]

    # A name (fewer than three words): name matching over the indexed functions, best match first.
    assert [s.name for s in await symbols(client, "whisper")] == ["whisper"]
    assert [s.name for s in await symbols(client, "GREET")] == ["greet_user"]  # case-insensitive
    assert [s.name for s in await symbols(client, "adal")] == ["add_all"]  # a subsequence
    assert [s.name for s in await symbols(client, "zzz")] == []
    shout = (await symbols(client, "shout"))[0]
    assert shout.location.uri == (tmp_path / "names.py").resolve().as_uri()
    assert (shout.location.range.start.line, shout.location.range.end.line) == (0, 1)


async def test_a_description_searches_the_unopened_files_too(client: LanguageClient, tmp_path):
    """In an editor a file is always open (its functions already indexed): the first description must
    still scan the rest of the workspace, or an editor's symbol search only ever sees the open files."""
    uri = (tmp_path / "names.py").resolve().as_uri()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(
        uri=uri, language_id="python", version=1, text=FILES["names.py"])))
    deadline = time.monotonic() + 120
    while not client.diagnostics.get(uri) and time.monotonic() < deadline:  # names.py analysed
        await asyncio.sleep(0.1)
    assert client.diagnostics.get(uri)
    found = await symbols(client, "sum the items of a list")
    assert {s.name for s in found} == ALL_NAMES
    add_all = next(s for s in found if s.name == "add_all")
    assert add_all.location.uri == (tmp_path / "totals.py").resolve().as_uri()
    assert add_all.location.range.start.line == 0
    # The scan indexed totals.py: names now match there too.
    assert [(s.name, s.location.uri) for s in await symbols(client, "add_al")] == [("add_all", add_all.location.uri)]


def _silent_service() -> socket.socket:
    """A model service that accepts connections and never answers: the model stays "loading"."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    return listener


def test_search_while_the_model_loads_waits_with_progress_then_says_so(tmp_path):
    listener = _silent_service()
    port = listener.getsockname()[1]
    config = {"engine": f"http://127.0.0.1:{port}", "engineTimeout": 120, "debounceMs": 50}
    server = RawServer(stderr_path=tmp_path / "server.log", configuration=config,
                       env=server_env(MANYSKILLS_SEARCH_MODEL_WAIT_S="2", MANYSKILLS_CACHE_DIR=str(tmp_path / "c")))
    try:
        server.initialize(config, capabilities={"workspace": {"configuration": True},
                                                "window": {"workDoneProgress": True}})
        server.wait_for(lambda: server.command("manyskills.stats")["state"] == "loading", 60, what="loading")
        uri = (tmp_path / "names.py").as_uri()
        server.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": FILES["names.py"]}})

        # A name needs no model: answered at once, while the model is still loading.
        started = time.monotonic()
        named = server.request("workspace/symbol", {"query": "shout"}, timeout=30)
        assert time.monotonic() - started < 1.5
        assert [(s["name"], s["location"]["uri"]) for s in named] == [("shout", uri)]

        # A description needs the model: it waits (with progress), then fails with a message, never `[]`.
        for method, params in (("workspace/symbol", {"query": "sum the items of a list"}),
                               ("workspace/executeCommand", {"command": "manyskills.search",
                                                             "arguments": ["sum the items of a list"]})):
            started = time.monotonic()
            response = server.wait_response(server.request_async(method, params), timeout=60)
            assert 2.0 <= time.monotonic() - started < 30
            assert "result" not in response, response
            assert response["error"]["code"] == lsp.LSPErrorCodes.RequestFailed.value
            assert "still loading" in response["error"]["message"]
        waits = [n["params"] for n in server.notifications if n["method"] == "$/progress"
                 and str(n["params"]["token"]).startswith("manyskills-search-wait")]
        assert [w["value"]["kind"] for w in waits] == ["begin", "end"] * 2
        assert "waiting for the model" in waits[0]["value"]["title"]
        assert sum(r["method"] == "window/workDoneProgress/create" and
                   str(r["params"]["token"]).startswith("manyskills-search-wait") for r in server.server_requests) == 2
        assert server.command("manyskills.stats")["state"] == "loading"  # the server stays up meanwhile
    finally:
        server.close()
        listener.close()
