"""What a long session leaves behind: nothing per message. pygls 2.1 kept the future of every
notification it ran through a generator or coroutine (every didOpen/didChange/didClose) for good; a
day of typing grew the server without bound. Real server subprocess, tiny model."""

from __future__ import annotations

from harness.raw_lsp import RawServer


def test_notifications_leave_no_handler_state_behind(tiny_model_dir, tmp_path):
    options = {"model": str(tiny_model_dir), "debounceMs": 0, "skills": {"clone": False, "review": False}}
    server = RawServer(stderr_path=tmp_path / "server.log", configuration=options)
    try:
        server.initialize(options)
        assert server.wait_ready()["state"] == "ready", server.stderr_tail()
        before = server.command("manyskills.stats")["handlersInFlight"]
        text = "def f(x):\n    return x\n"
        for doc in range(5):
            uri = f"file:///mem/m{doc}.py"
            server.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python",
                                                                    "version": 1, "text": text}})
            for version in range(2, 42):
                server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                                         "contentChanges": [{"text": text + "#" * version}]})
            server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        server.notify("workspace/didChangeConfiguration", {"settings": None})
        # 211 notifications later, once they are handled, only the request asking is in flight (the
        # configuration change awaits the client's answer for a moment).
        stats = server.wait_for(lambda: (s := server.command("manyskills.stats"))["documents"] == 0
                                and s["handlersInFlight"] <= before and s, 60, 0.2, "handlers to finish")
        assert stats["handlersInFlight"] == before == 1, stats
    finally:
        assert server.close() == 0, server.stderr_tail()
