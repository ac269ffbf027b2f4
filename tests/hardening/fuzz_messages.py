"""Hypothesis strategies for hostile JSON-RPC input, and the oracle for each message's effect.

Every strategy yields a `Hostile`: the bytes to send, how the target document's text must change
(most messages must not change it at all), and the id of a request the server must still answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

from hypothesis import strategies as st

from harness.text_reference import apply_change
from harness.raw_lsp import frame

TARGET = "file:///fuzz/target.py"
FUZZ_MODEL = "/nonexistent/manyskills-fuzz-model"  # analysis disabled: the fuzz is about the protocol
OTHER_URIS = ["file:///fuzz/never-opened.py", "file:///fuzz/other.rs", "untitled:Untitled-1", "", "not a uri",
              "file:///fuzz/%ZZ%00.py", "file:///" + "a/" * 300 + "deep.py"]
ANSWERED_IDS = st.integers(10**9, 2**31 - 1)  # plain ids the server must answer (never clash with the client's)
UNICODE_TEXT = st.lists(st.sampled_from(list("ab_ (){}:=\n\t") + ["\r\n", "é", "😀", "𝄞", "中", "\u2028",
                                                                   "\u0301", "\ufeff", "\x0c"]),
                        max_size=12).map("".join)


@dataclass
class Hostile:
    kind: str
    data: bytes
    apply: Callable[[str], str] = lambda text: text  # effect on the target document's text
    answer_id: int | None = None  # a request the server must answer (result or error)
    version: int | None = None  # the target's version after this message, when it changes
    resets_settings: bool = False
    notes: dict[str, Any] = field(default_factory=dict)


def _message(method: str, params: Any = None, msg_id: Any = ..., drop_params: bool = False) -> dict:
    msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if msg_id is not ...:
        msg["id"] = msg_id
    if not drop_params:
        msg["params"] = params
    return msg


def _send(msg: Any) -> bytes:
    return frame(json.dumps(msg))


json_leaf = (st.none() | st.booleans() | st.integers(-2**80, 2**80)
             | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12))
json_value = st.recursive(json_leaf, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c,
                                                                                        max_size=3), max_leaves=8)
big_int = st.integers(-2**64, 2**64)
odd_id = (st.integers(-2**100, 2**100).filter(lambda i: not 0 <= i < 10**7) | st.text(max_size=40)
          | st.floats(allow_nan=False, allow_infinity=False) | st.none() | st.booleans()
          | st.lists(st.integers(), max_size=2) | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
any_position = st.fixed_dictionaries({"line": big_int, "character": big_int})
far_position = st.fixed_dictionaries({"line": st.integers(0, 2**31 - 1), "character": st.integers(0, 2**31 - 1)})

REQUESTS = ["textDocument/hover", "textDocument/codeAction", "codeAction/resolve", "textDocument/diagnostic",
            "workspace/executeCommand", "textDocument/completion", "textDocument/definition", "workspace/symbol"]
NOTIFICATIONS = ["textDocument/didOpen", "textDocument/didChange", "textDocument/didClose", "textDocument/didSave",
                 "$/cancelRequest", "$/setTrace", "window/workDoneProgress/cancel", "workspace/didChangeWatchedFiles",
                 "workspace/didChangeWorkspaceFolders", "initialized"]


def _range(start: dict, end: dict) -> dict:
    return {"start": start, "end": end}


# ---------------------------------------------------------------- framing
@st.composite
def bad_framing(draw) -> Hostile:
    body = json.dumps(_message("workspace/executeCommand", {"command": "manyskills.stats"}, 1))
    choice = draw(st.sampled_from(["garbage", "no-header", "bad-length", "short", "huge-length", "not-json",
                                   "bad-utf8", "deep-json", "non-object", "lowercase", "extra-headers", "lf-only",
                                   "zero-length", "nan"]))
    if choice == "garbage":
        data = draw(st.binary(min_size=1, max_size=80)).replace(b"ontent-", b"ontent_")
    elif choice == "no-header":
        data = body.encode()
    elif choice == "bad-length":
        value = draw(st.sampled_from([b"abc", b"-5", b"", b"1e3", b"0x10", b"\xff"]))
        data = b"Content-Length: " + value + b"\r\n\r\n" + body.encode()
    elif choice == "short":
        data = frame(body, draw(st.integers(1, len(body) - 1)))
    elif choice == "huge-length":
        data = b"Content-Length: " + str(draw(st.integers(2**27, 10**12 - 1))).encode() + b"\r\n\r\n" + body.encode()
    elif choice == "not-json":
        data = frame(draw(st.text(max_size=40)).replace("\x00", "") + "{")
    elif choice == "bad-utf8":
        data = frame(b'{"jsonrpc": "2.0", "method": "\xff\xfe\xc3", "params": {}}')
    elif choice == "deep-json":
        depth = draw(st.integers(1000, 100_000))
        data = frame("[" * depth + "]" * depth)
    elif choice == "non-object":
        data = frame(json.dumps(draw(st.none() | st.integers() | st.text(max_size=10) | st.lists(json_leaf))))
    elif choice == "lowercase":
        data = b"content-length: 2\r\n\r\n{}"
    elif choice == "extra-headers":
        data = b"X-Junk: 1\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: 2\r\n\r\n{}"
    elif choice == "lf-only":
        data = b"Content-Length: 2\n\n{}"
    elif choice == "zero-length":
        data = b"Content-Length: 0\r\n\r\n"
    else:
        data = frame('{"jsonrpc": "2.0", "id": NaN, "method": "shutdown"}')
    return Hostile(f"framing:{choice}", data)


# ---------------------------------------------------------------- wrong types / unknown methods / odd ids
@st.composite
def wrong_types(draw) -> Hostile:
    method = draw(st.sampled_from(REQUESTS + NOTIFICATIONS))
    params = draw(json_value)
    if method in REQUESTS:
        msg_id = draw(ANSWERED_IDS)
        return Hostile(f"wrong-types:{method}", _send(_message(method, params, msg_id)), answer_id=msg_id)
    return Hostile(f"wrong-types:{method}", _send(_message(method, params)))


@st.composite
def wrong_field(draw) -> Hostile:
    """A well-formed message with one field of the wrong type (never a valid edit of the target)."""
    uri = draw(st.sampled_from(OTHER_URIS))
    bad = draw(json_value)
    kind = draw(st.sampled_from(["open-version", "open-text", "change-changes", "change-version-target",
                                 "change-range-target", "hover-position", "close-doc", "code-action-context"]))
    if kind == "open-version":
        msg = _message("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python",
                                                                 "version": bad, "text": "def f(): pass\n"}})
    elif kind == "open-text":
        msg = _message("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": bad, "version": 1,
                                                                 "text": bad}})
    elif kind == "change-changes":
        msg = _message("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2}, "contentChanges": bad})
    elif kind == "change-version-target":
        # version must be an integer: words, lists, objects and null are refused (the edit is dropped);
        # "12" or true would be coerced to an int by the converter, so they are not generated here
        version = draw(st.text(alphabet="abcxyz", max_size=5) | st.none() | st.lists(st.integers(), max_size=2)
                       | st.dictionaries(st.text(max_size=2), st.integers(), max_size=1))
        msg = _message("textDocument/didChange", {"textDocument": {"uri": TARGET, "version": version},
                                                  "contentChanges": [{"text": "LOST"}]})
    elif kind == "change-range-target":
        # negative positions are not LSP uintegers: the message is invalid and must change nothing
        start = {"line": draw(st.integers(-2**40, -1)), "character": draw(st.integers(0, 5))}
        msg = _message("textDocument/didChange", {"textDocument": {"uri": TARGET, "version": 10**6},
                                                  "contentChanges": [{"range": _range(start, start), "text": "X"}]})
    elif kind == "hover-position":
        msg_id = draw(ANSWERED_IDS)
        msg = _message("textDocument/hover", {"textDocument": {"uri": TARGET}, "position": draw(any_position)}, msg_id)
        return Hostile(f"wrong-field:{kind}", _send(msg), answer_id=msg_id)
    elif kind == "close-doc":
        msg = _message("textDocument/didClose", {"textDocument": {"uri": bad}})
    else:
        msg_id = draw(ANSWERED_IDS)
        msg = _message("textDocument/codeAction", {"textDocument": {"uri": TARGET},
                                                   "range": _range(draw(any_position), draw(any_position)),
                                                   "context": {"diagnostics": bad}}, msg_id)
        return Hostile(f"wrong-field:{kind}", _send(msg), answer_id=msg_id)
    return Hostile(f"wrong-field:{kind}", _send(msg))


@st.composite
def unknown_method(draw) -> Hostile:
    name = draw(st.text(min_size=0, max_size=30) | st.sampled_from(["$/unknown", "$/progress", "textDocument/foo",
                                                                    "manyskills/status", "rpc.call"]))
    params = draw(json_value)
    if draw(st.booleans()):
        msg_id = draw(ANSWERED_IDS)
        return Hostile("unknown-method:request", _send(_message(name, params, msg_id)), answer_id=msg_id)
    return Hostile("unknown-method:notification", _send(_message(name, params)))


@st.composite
def odd_ids(draw) -> Hostile:
    msg_id = draw(odd_id)
    method = draw(st.sampled_from(["workspace/executeCommand", "textDocument/hover", "shutdown-like"]))
    if method == "shutdown-like":  # a response-shaped message the server never asked for
        return Hostile("odd-id:unsolicited-response", _send({"jsonrpc": "2.0", "id": msg_id, "result": None}))
    params = {"command": "manyskills.stats"} if method == "workspace/executeCommand" else {
        "textDocument": {"uri": TARGET}, "position": {"line": 0, "character": 0}}
    return Hostile(f"odd-id:{type(msg_id).__name__}", _send(_message(method, params, msg_id)))


# ---------------------------------------------------------------- positions / unopened documents
@st.composite
def out_of_range_requests(draw) -> Hostile:
    msg_id = draw(ANSWERED_IDS)
    start, end = draw(far_position), draw(far_position)
    method = draw(st.sampled_from(["textDocument/hover", "textDocument/codeAction", "textDocument/diagnostic"]))
    params: dict[str, Any] = {"textDocument": {"uri": TARGET}}
    if method == "textDocument/hover":
        params["position"] = start
    elif method == "textDocument/codeAction":
        diag = {"range": _range(start, end), "message": "m", "source": "manyskills", "code": "defect",
                "data": {"skill": "defect", "score": 0.9, "function": "nope", "hash": "0" * 16, "line": 10**6}}
        params.update(range=_range(start, end), context={"diagnostics": draw(st.sampled_from([[], [diag]]))})
    return Hostile(f"out-of-range:{method}", _send(_message(method, params, msg_id)), answer_id=msg_id)


@st.composite
def unopened(draw) -> Hostile:
    uri = draw(st.sampled_from(OTHER_URIS))
    kind = draw(st.sampled_from(["change", "close", "hover", "diagnostic", "code-action", "document-state"]))
    pos = {"line": 0, "character": 0}
    if kind == "change":
        msg = _message("textDocument/didChange", {"textDocument": {"uri": uri, "version": 7},
                                                  "contentChanges": [{"range": _range(pos, pos), "text": "x"}]})
    elif kind == "close":
        msg = _message("textDocument/didClose", {"textDocument": {"uri": uri}})
    else:
        msg_id = draw(ANSWERED_IDS)
        method, params = {
            "hover": ("textDocument/hover", {"textDocument": {"uri": uri}, "position": pos}),
            "diagnostic": ("textDocument/diagnostic", {"textDocument": {"uri": uri}}),
            "code-action": ("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": _range(pos, pos),
                                                         "context": {"diagnostics": []}}),
            "document-state": ("workspace/executeCommand", {"command": "manyskills.documentState",
                                                            "arguments": [uri]}),
        }[kind]
        return Hostile(f"unopened:{kind}", _send(_message(method, params, msg_id)), answer_id=msg_id)
    return Hostile(f"unopened:{kind}", _send(msg))


# ---------------------------------------------------------------- edits of the target with odd properties
@st.composite
def odd_edits(draw, version_now: int) -> Hostile:
    """Valid LSP messages that do change the target: the reference applies them too."""
    kind = draw(st.sampled_from(["stale-version", "past-the-end", "inverted", "unicode", "mid-surrogate", "full"]))
    text_in = draw(UNICODE_TEXT)
    near = st.integers(0, 40)
    start = {"line": draw(near), "character": draw(near)}
    end = {"line": draw(near), "character": draw(near)}
    version = version_now + 1
    if kind == "stale-version":
        version = version_now - draw(st.integers(1, 10**6))  # LSP: apply anyway, in order (may go negative)
        end = start
    elif kind == "past-the-end":
        start = {"line": draw(st.integers(0, 10**6)), "character": draw(st.integers(0, 2**31 - 1))}
        end = {"line": start["line"] + draw(st.integers(0, 3)), "character": draw(st.integers(0, 2**31 - 1))}
    elif kind == "inverted":
        start, end = end, start
    elif kind == "mid-surrogate":
        end = start = {"line": draw(st.integers(0, 3)), "character": draw(st.integers(0, 12))}
    change: dict[str, Any] = {"text": text_in} if kind == "full" else {"range": _range(start, end), "text": text_in}
    msg = _message("textDocument/didChange", {"textDocument": {"uri": TARGET, "version": version},
                                              "contentChanges": [change]})
    return Hostile(f"edit:{kind}", _send(msg), apply=lambda text: apply_change(text, change), version=version)


@st.composite
def settings_garbage(draw) -> Hostile:
    keys = ["threshold", "flakyThreshold", "cloneThreshold", "skills", "debounceMs", "maxFileBytes", "languages",
            "cacheSize", "unknownKey"]  # model/adapter/device excluded: a reload per example would dominate
    # A settings object is a whole snapshot (absent keys take defaults): keep the fuzz model setting in it.
    settings = {**draw(st.dictionaries(st.sampled_from(keys), json_value, max_size=4)), "model": FUZZ_MODEL}
    wrapped = draw(st.sampled_from(["section", "bare", "null", "garbage"]))
    params = {"settings": {"section": {"manyskills": settings}, "bare": settings, "null": None,
                           "garbage": draw(json_value)}[wrapped]}
    return Hostile(f"settings:{wrapped}", _send(_message("workspace/didChangeConfiguration", params)),
                   resets_settings=True)


@st.composite
def cancels(draw) -> Hostile:
    if draw(st.booleans()):
        return Hostile("cancel:request", _send(_message("$/cancelRequest", {"id": draw(odd_id | ANSWERED_IDS)})))
    return Hostile("cancel:progress", _send(_message("window/workDoneProgress/cancel", {"token": draw(json_value)})))


def hostile(version_now: int):
    return st.one_of(bad_framing(), wrong_types(), wrong_field(), unknown_method(), odd_ids(),
                     out_of_range_requests(), unopened(), odd_edits(version_now), settings_garbage(), cancels())
