"""Protocol fuzzing against a real `manyskills serve` subprocess.

Each example sends one hostile message (bad framing, wrong types, unknown methods, odd ids,
out-of-range positions, unopened documents, stale/odd edits, garbage settings, cancels), then one
ordinary edit of the target document, then asks the server for the document (`manyskills.documentState`):
the server must still be alive, answer, and hold exactly the reference text and version. Requests among
the hostile messages that carry a plain id must be answered too (result or error).

The model is not needed here (documents are tracked whether or not analysis runs), so the server runs
with a model directory that does not exist: analysis is disabled, which also keeps the run fast on a
busy machine. Counts go to stdout and, with MANYSKILLS_FUZZ_REPORT=path, to a JSON file.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter, deque
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from fuzz_messages import FUZZ_MODEL, TARGET, UNICODE_TEXT, Hostile, hostile
from harness.text_reference import apply_change, utf16_position
from harness.raw_lsp import RawServer

BASELINE = {"model": FUZZ_MODEL, "debounceMs": 20, "skills": {"clone": False}}
INITIAL = 'import os\r\n\r\ndef first(xs):\n    return [x for x in xs]  # 😀\n\n\nclass Box:\n    def get(self, k):\n        return k\n'
FAST_EXAMPLES = int(os.environ.get("MANYSKILLS_FUZZ_FAST", "120"))
SLOW_EXAMPLES = int(os.environ.get("MANYSKILLS_FUZZ_SLOW", "1100"))


class FuzzSession:
    def __init__(self, server: RawServer):
        self.server = server
        self.text = INITIAL
        self.version = 1
        self.counts: Counter = Counter()
        self.kinds: Counter = Counter()
        self.error_codes: Counter = Counter()
        self.started = time.monotonic()
        self.history: deque = deque(maxlen=6)  # recent messages, for the failure report
        self.failures: list[str] = []  # first-hand reports (hypothesis' final replay runs on a changed state)
        self.crashed = False

    def open_target(self) -> None:
        self.server.notify("textDocument/didOpen", {"textDocument": {
            "uri": TARGET, "languageId": "python", "version": self.version, "text": self.text}})

    def send_hostile(self, message: Hostile) -> None:
        self.server.send_raw(message.data)
        self.history.append(message.data[:300])
        self.counts["hostile_messages"] += 1
        self.counts["hostile_bytes"] += len(message.data)
        self.kinds[message.kind.split(":")[0]] += 1
        self.text = message.apply(self.text)
        if message.version is not None:
            self.version = message.version
        if message.resets_settings:
            self.server.notify("workspace/didChangeConfiguration", {"settings": {"manyskills": BASELINE}})

    def valid_edit(self, data) -> None:
        # Draws must not depend on the session's state (hypothesis replays prefixes): scale instead.
        a = data.draw(st.integers(0, 10**6), label="edit start") % (len(self.text) + 1)
        b = min(len(self.text), a + data.draw(st.integers(0, 20), label="edit length"))
        new = data.draw(UNICODE_TEXT, label="edit text")
        change = {"range": {"start": utf16_position(self.text, a), "end": utf16_position(self.text, b)}, "text": new}
        self.version += 1
        self.server.notify("textDocument/didChange", {"textDocument": {"uri": TARGET, "version": self.version},
                                                      "contentChanges": [change]})
        self.text = apply_change(self.text, change)
        self.history.append(("valid edit", change))
        self.counts["valid_edits"] += 1

    def verify(self, message: Hostile) -> None:
        if self.server.proc.poll() is not None:
            self.crashed = True
            self.failures.append(f"server exited after {message.kind}{self.server.stderr_tail()}")
            raise AssertionError(self.failures[0])
        state = self.server.command("manyskills.documentState", TARGET, timeout=120)
        self.counts["verifications"] += 1
        if state is None or state["text"] != self.text or state["version"] != self.version:
            self.counts["lost_or_misapplied_edits"] += 1
            self.failures.append(f"after {message.kind}: server holds {state!r}, reference "
                                 f"{(self.version, self.text)!r}\nrecent: {list(self.history)!r}"
                                 f"{self.server.stderr_tail()}")
            raise AssertionError(self.failures[0])
        if message.answer_id is not None:
            response = self.server.wait_response(message.answer_id, timeout=120)
            self.counts["hostile_requests_answered"] += 1
            if "error" in response:
                self.error_codes[response["error"]["code"]] += 1
        assert not self.server.client_errors, self.server.client_errors
        if os.environ.get("MANYSKILLS_FUZZ_REPORT") and self.counts["verifications"] % 25 == 0:
            Path(os.environ["MANYSKILLS_FUZZ_REPORT"]).write_text(json.dumps(self.report(), indent=2))

    def report(self) -> dict:
        return {"hostile_messages": self.counts["hostile_messages"], "valid_edits": self.counts["valid_edits"],
                "verifications": self.counts["verifications"],
                "hostile_requests_answered": self.counts["hostile_requests_answered"],
                "crashes": int(self.crashed),
                "lost_or_misapplied_edits": self.counts["lost_or_misapplied_edits"],
                "by_category": dict(self.kinds), "error_codes": {str(k): v for k, v in self.error_codes.items()},
                "final_text_chars": len(self.text), "seconds": round(time.monotonic() - self.started, 1)}


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    log = tmp_path_factory.mktemp("fuzz") / "server.log"
    server = RawServer(stderr_path=log, configuration=BASELINE)
    server.initialize(BASELINE)
    fuzz = FuzzSession(server)
    fuzz.open_target()
    yield fuzz
    rc = server.close()
    report = fuzz.report()
    report["exit_code"] = rc
    print("\nfuzz report:", json.dumps(report))
    if os.environ.get("MANYSKILLS_FUZZ_REPORT"):
        Path(os.environ["MANYSKILLS_FUZZ_REPORT"]).write_text(json.dumps(report, indent=2))
    assert rc == 0, f"server did not exit cleanly after the fuzzing (exit {rc}){server.stderr_tail()}"


def _run(session: FuzzSession, examples: int) -> None:
    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def one_message(data):
        message = data.draw(hostile(session.version), label="hostile message")
        session.send_hostile(message)
        session.valid_edit(data)
        session.verify(message)

    before = session.counts["verifications"]
    try:
        one_message()
    except Exception:
        if session.failures:  # the first failure, as it happened
            raise AssertionError(session.failures[0]) from None
        raise
    # Examples hypothesis abandons mid-draw still sent their hostile message (checked by the next one).
    assert session.counts["verifications"] - before == examples


def test_edits_pygls_would_misplace(session):
    """Regressions found by the fuzzer: pygls clamped (and mutated) positions against its own line
    split, which breaks at U+2028/form feed and is one short on the last line."""
    for change in [
        {"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "a\u2028b\x0cc = 1\n"},
        {"range": {"start": {"line": 0, "character": 4}, "end": {"line": 0, "character": 5}}, "text": "2"},
        {"range": {"start": {"line": 10**5, "character": 0}, "end": {"line": 10**5, "character": 0}}, "text": "end"},
        {"range": {"start": {"line": 10, "character": 99}, "end": {"line": 10, "character": 99}}, "text": "!"},
    ]:
        session.version += 1
        session.server.notify("textDocument/didChange", {"textDocument": {"uri": TARGET, "version": session.version},
                                                         "contentChanges": [change]})
        session.text = apply_change(session.text, change)
        state = session.server.command("manyskills.documentState", TARGET)
        assert state["text"] == session.text, (change, state["text"], session.text)
    assert session.text.startswith("a\u2028b\x0c2 = 1\n") and session.text.endswith("end!")


def test_fuzz_protocol(session):
    _run(session, FAST_EXAMPLES)


@pytest.mark.slow
def test_fuzz_protocol_thousand_messages(session):
    _run(session, SLOW_EXAMPLES)
    assert session.counts["hostile_messages"] >= 1000


def test_messages_before_initialize(tmp_path):
    """Before `initialize`: requests get ServerNotInitialized, notifications are dropped (an early
    `initialized` must not start the model with default settings); the session then works normally."""
    server = RawServer(stderr_path=tmp_path / "server.log", configuration=BASELINE)
    try:
        server.notify("textDocument/didOpen", {"textDocument": {"uri": TARGET, "languageId": "python",
                                                                "version": 1, "text": INITIAL}})
        server.notify("textDocument/didChange", {"textDocument": {"uri": TARGET, "version": 2},
                                                 "contentChanges": [{"text": "x = 1\n"}]})
        server.notify("workspace/didChangeConfiguration", {"settings": {"manyskills": {"threshold": "x"}}})
        server.notify("initialized", {})
        server.notify("$/cancelRequest", {"id": 99})
        early = server.request_async("textDocument/hover", {"textDocument": {"uri": TARGET},
                                                            "position": {"line": 0, "character": 0}})
        response = server.wait_response(early, timeout=120)  # answered, never left hanging
        assert response["error"]["code"] == -32002  # ServerNotInitialized
        server.initialize(BASELINE)
        assert server.command("manyskills.documentState", TARGET) is None  # the early didOpen was dropped
        server.notify("textDocument/didOpen", {"textDocument": {"uri": TARGET, "languageId": "python",
                                                                "version": 3, "text": INITIAL}})
        state = server.command("manyskills.documentState", TARGET)
        assert state["text"] == INITIAL and state["version"] == 3
        stats = server.command("manyskills.stats")
        assert stats["documents"] == 1
    finally:
        assert server.close() == 0, server.stderr_tail()
