"""Bad files through the language server (real subprocess, tiny model) and through `manyskills check`:
binary, invalid UTF-8 / lone surrogates, a 10 MB single line, 20,000 functions, deep nesting, mixed
CRLF/LF, emoji and astral characters. Each is handled in bounded time, with correct UTF-16 positions,
and anything skipped says why (server log / `skipped` in the JSON report)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from harness.raw_lsp import RawServer, frame, server_env
from harness.text_reference import utf16_position

# Only Python is analysed (threshold 0: every function gets a finding, so positions are checkable);
# the big generated files are other languages, so they are indexed (the part that must stay bounded)
# without sending 20,000 functions through the model on a shared 2-core machine.
OPTIONS = {"threshold": 0.0, "debounceMs": 0, "skills": {"clone": False, "review": False}, "languages": ["python"]}

ASTRAL = ('s = "😀😀"\r\ndef 𝒻(x):  # 𝄞\r\n    return "😀" + x\n\n'
          'class Ünï:\r\n    def méthode(self): return "𝄞😀"\n    def après(self):\r\n        return 1\n')
TWENTY_THOUSAND = "".join(f"function f{i}(x) {{ return x + {i}; }}\n" for i in range(20_000))
DEEP_BLOCKS = "int f(void) {" + "{" * 20_000 + "}" * 20_000 + "}\n"  # tree-sitter depth; our walks are iterative
DEEP_DEFS = "".join("    " * i + f"def level{i}(x):\n" for i in range(60)) + "    " * 60 + "return x\n"
DEEP_EXPR = "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n\ndef after():\n    return x\n"


def _open(server: RawServer, uri: str, text: str, language: str = "python", version: int = 1) -> None:
    server.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": language,
                                                            "version": version, "text": text}})


@pytest.fixture(scope="module")
def server(tiny_model_dir, tmp_path_factory):
    options = {**OPTIONS, "model": str(tiny_model_dir)}
    srv = RawServer(stderr_path=tmp_path_factory.mktemp("badfiles") / "server.log", configuration=options)
    srv.initialize(options)
    assert srv.wait_ready()["state"] == "ready", srv.stderr_tail()
    yield srv
    assert srv.close() == 0, srv.stderr_tail()


def _state(server: RawServer, uri: str) -> dict:
    return server.wait_for(lambda: server.command("manyskills.documentState", uri), 120, 0.1, f"{uri} open")


def test_binary_and_oversized_documents_are_skipped_with_a_reason(server):
    _open(server, "file:///bad/bin.py", "def f():\n    return 1\x00\x00\x01\n")
    _open(server, "file:///bad/huge.py", "x = '" + "a" * (10 * 1024 * 1024) + "'")  # 10 MB, one line
    assert "binary" in _state(server, "file:///bad/bin.py")["skipped"]
    huge = _state(server, "file:///bad/huge.py")
    assert "maxFileBytes" in huge["skipped"]
    log = server.wait_for(lambda: "huge.py" in server.stderr_text() and server.stderr_text(), 60, 0.2, "log")
    assert "not analysing file:///bad/huge.py" in log and "not analysing file:///bad/bin.py: binary file" in log
    # Edits to a skipped 10 MB line are still tracked (and stay fast): insert before its closing quote
    # (column 5 + 10 MiB; each later insert lands before the previous one).
    started = time.monotonic()
    for version in range(2, 22):
        server.notify("textDocument/didChange", {"textDocument": {"uri": "file:///bad/huge.py", "version": version},
                                                 "contentChanges": [{"range": {
                                                     "start": {"line": 0, "character": 10 * 1024 * 1024 + 5},
                                                     "end": {"line": 0, "character": 10 * 1024 * 1024 + 5}},
                                                     "text": "b"}]})
    state = server.command("manyskills.documentState", "file:///bad/huge.py")
    print(f"20 edits of a 10 MB line: {time.monotonic() - started:.2f}s")
    assert state["version"] == 21 and state["text"].endswith("a" + "b" * 20 + "'")
    assert server.diagnostics("file:///bad/bin.py")["diagnostics"] == []


def test_lone_surrogates_and_control_characters(server):
    text = 'def f(x):\n    return "\ud800\udfff\ud83d" + x  # \x0c\u2028\x85\n\ndef g():\n    pass\n'
    _open(server, "file:///bad/surrogates.py", text)
    state = _state(server, "file:///bad/surrogates.py")
    assert state["functions"] == 2 and state["skipped"] is None
    diags = server.wait_for(lambda: (d := server.diagnostics("file:///bad/surrogates.py")) and
                            len(d["diagnostics"]) == 2 and d["diagnostics"], 300, 0.2, "diagnostics")
    # Each finding sits on a line of its own function (the flagged line is the model's argmax, so
    # either line of each): U+2028, form feed and NEL are not line breaks in LSP, so g starts at line 4.
    # The range covers that line's code without surrounding whitespace (Python's str.strip, as
    # analysis/findings.py does: form feed, U+2028 and NEL count) in UTF-16 units (a lone surrogate is one).
    lines = text.split("\n")
    by_function = {d["data"]["function"]: d["range"] for d in diags}
    assert set(by_function) == {"f", "g"}
    for name, first_line in (("f", 0), ("g", 4)):
        rng = by_function[name]
        assert first_line <= rng["start"]["line"] == rng["end"]["line"] <= first_line + 1, name
        line = lines[rng["start"]["line"]]
        assert rng["start"]["character"] == len(line) - len(line.lstrip()), name
        assert rng["end"]["character"] == sum(2 if ord(c) > 0xFFFF else 1 for c in line.rstrip()), name


def test_large_and_deep_documents_are_indexed_in_bounded_time(server):
    timings = {}
    for name, text, language, functions in [
        ("twenty-thousand.js", TWENTY_THOUSAND, "javascript", 20_000),
        ("deep-blocks.c", DEEP_BLOCKS, "c", 1),
        ("deep-defs.py", DEEP_DEFS, "python", 60),
        ("deep-expr.py", DEEP_EXPR, "python", 1),
    ]:
        uri = f"file:///bad/{name}"
        started = time.monotonic()
        _open(server, uri, text, language)
        state = _state(server, uri)
        timings[name] = round(time.monotonic() - started, 2)
        assert state["skipped"] is None and state["text"] == text
        assert state["functions"] == functions, name
        # An edit in the middle re-indexes incrementally and the server stays responsive.
        server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [
            {"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "\n"}]})
        assert server.command("manyskills.documentState", uri)["functions"] == functions
    print("index timings (s, busy machine):", timings)
    assert server.command("manyskills.stats")["documents"] >= 4


def test_astral_characters_and_mixed_line_endings_give_utf16_positions(server):
    uri = "file:///bad/astral.py"
    _open(server, uri, ASTRAL)
    diags = server.wait_for(lambda: (d := server.diagnostics(uri)) and len(d["diagnostics"]) == 3
                            and d["diagnostics"], 300, 0.2, "diagnostics")
    lines = ASTRAL.split("\n")
    by_function = {d["data"]["function"]: d for d in diags}
    assert set(by_function) == {"𝒻", "Ünï.méthode", "Ünï.après"}
    for name, diag in by_function.items():
        rng = diag["range"]
        line = lines[rng["start"]["line"]].rstrip("\r")
        # The range covers the flagged line's code exactly, in UTF-16 units (astral = 2 units).
        stripped_start = len(line) - len(line.lstrip())
        assert rng["start"] == utf16_position(ASTRAL, ASTRAL.index(line) + stripped_start), name
        assert rng["end"] == utf16_position(ASTRAL, ASTRAL.index(line) + len(line)), name
    # Editing after an astral character on a CRLF line lands where the client meant it.
    line2 = lines[2]
    at = utf16_position(ASTRAL, ASTRAL.index(line2) + line2.index("+"))
    server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [
        {"range": {"start": at, "end": {"line": at["line"], "character": at["character"] + 1}}, "text": "-"}]})
    expected = ASTRAL.replace('"😀" + x', '"😀" - x')
    assert server.command("manyskills.documentState", uri)["text"] == expected


def test_check_cli_reports_skipped_files_and_positions(tiny_model_dir, tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "astral.py").write_text(ASTRAL, newline="")
    (folder / "binary.py").write_bytes(b"def f():\n    return 1\x00\x00\n")
    (folder / "latin1.py").write_bytes("def f():\n    return 'é'\n".encode("latin-1"))
    (folder / "huge.py").write_text("x = '" + "a" * (10 * 1024 * 1024) + "'")
    (folder / "deep.c").write_text(DEEP_BLOCKS)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "manyskills", "check", str(folder), "--format", "json",
                           "--model", str(tiny_model_dir), "--threshold", "0", "--skills", "defect"],
                          capture_output=True, text=True, env=server_env(), timeout=1200)
    print(f"check over bad files: {time.monotonic() - started:.1f}s")
    assert done.returncode == 1, done.stderr[-3000:]
    report = json.loads(done.stdout)
    skipped = {entry["path"].rsplit("/", 1)[-1]: entry["reason"] for entry in report["skipped"]}
    assert "binary" in skipped["binary.py"]
    assert "UTF-8" in skipped["latin1.py"]
    assert "maxFileBytes" in skipped["huge.py"]
    astral = [f for f in report["findings"] if f["path"].endswith("astral.py")]
    assert {f["function"] for f in astral} == {"𝒻", "Ünï.méthode", "Ünï.après"}
    lines = ASTRAL.split("\n")
    for finding in astral:  # JSON output counts code points (documented); check they hit the code
        start = finding["range"]["start"]
        line = lines[start["line"]].rstrip("\r")
        assert start["character"] == len(line) - len(line.lstrip())
        assert finding["range"]["end"]["character"] == len(line)
    assert any(f["path"].endswith("deep.c") for f in report["findings"])


def test_large_document_publishes_as_it_goes_and_does_not_hold_up_others(server):
    """A 200-function file is analysed in chunks: its diagnostics grow chunk by chunk (never shrink),
    and a small file opened right after it gets its diagnostics before the large one is finished."""
    from manyskills.lsp.scheduler import CHUNK_FUNCTIONS

    big_uri, small_uri = "file:///bad/large_progressive.py", "file:///bad/small_after_large.py"
    big = "".join(f"def chunked_{i}(rows, k={i}):\n    return [r * k for r in rows]\n\n\n" for i in range(200))
    small = "def small_one(x):\n    return x - 1\n"
    server.send_raw(b"".join(  # one write: the server reads both before either analysis starts
        frame(json.dumps({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": text}}}))
        for uri, text in ((big_uri, big), (small_uri, small))))
    server.wait_for(lambda: (d := server.diagnostics(big_uri)) and len(d["diagnostics"]) == 200, 300, 0.1, "all")
    with server._cv:
        published = [(n["params"]["uri"], len(n["params"]["diagnostics"])) for n in server.notifications
                     if n["method"] == "textDocument/publishDiagnostics"
                     and n["params"]["uri"] in (big_uri, small_uri)]
    big_counts = [count for uri, count in published if uri == big_uri]
    assert big_counts == sorted(big_counts)  # partial results only ever grow
    assert CHUNK_FUNCTIONS in big_counts and 2 * CHUNK_FUNCTIONS in big_counts, big_counts
    big_done = published.index((big_uri, 200))
    assert (small_uri, 1) in published[:big_done], published  # not queued behind the whole large file
