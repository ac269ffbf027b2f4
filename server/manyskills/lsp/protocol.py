"""Cooperative cancellation for requests that are already running.

pygls answers `$/cancelRequest` by cancelling the request's future, which stops only handlers that
have not started (pygls#517); for commands the user handler runs as a separate task and keeps going.
Long handlers here register a CancelToken under their request id; this protocol cancels it, so the
model thread drops the work within one batch.
"""

from __future__ import annotations

import logging

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException, JsonRpcServerNotInitialized
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from manyskills.model.jobs import CancelToken

log = logging.getLogger(__name__)


class ManySkillsProtocol(LanguageServerProtocol):
    _initialize_seen = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.request_tokens: dict = {}  # request id -> CancelToken of a running long request

    def handle_message(self, message):
        """LSP: before `initialize`, answer requests with ServerNotInitialized and drop notifications
        (pygls would run them, and an early `initialized` would start the model with default settings)."""
        if not hasattr(message, "jsonrpc"):  # valid JSON but no JSON-RPC object (`{}`, `[1]`, `"x"`)
            log.warning("ignoring a message that is not a JSON-RPC object: %.80r", message)
            return
        method = getattr(message, "method", None)
        if not self._initialize_seen and method is not None:
            if method == lsp.INITIALIZE:
                self._initialize_seen = True
            elif method != lsp.EXIT:
                if getattr(message, "id", None) is not None:
                    self._send_response(message.id, None, JsonRpcServerNotInitialized().to_response_error())
                else:
                    log.warning("dropping %r received before initialize", method)
                return
        super().handle_message(message)

    def structure_message(self, data):
        """pygls drops a request whose params do not type-check (a negative line, a number for a
        document) with only a log line, so the client waits for an answer forever. Answer it with
        the JSON-RPC error instead (id null when the id itself is unusable)."""
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if isinstance(data, dict) and "id" in data and "method" in data:
                msg_id = data["id"]
                if isinstance(msg_id, bool) or not isinstance(msg_id, (int, str)):
                    msg_id = None
                log.warning("invalid %r request %r answered with error %s", data.get("method"), msg_id, exc.code)
                self._send_response(msg_id, None, exc.to_response_error())
            raise

    # pygls keeps its own copy of each document and calls our handler only if updating it worked;
    # its position codec clamps by *mutating* the change's positions against its own lines (split
    # with str.splitlines, so U+2028, form feed, ... count as line breaks there), which made our
    # handler misapply edits, and it converts columns one Python step per character, so one edit at
    # the end of a 10 MB line took seconds. Nothing reads that copy (DocumentStore is the server's
    # copy), so it is not kept at all: the document notifications go straight to our handlers.
    def _user_handler(self, method: str, params):
        if (handler := self.fm.features.get(method)) is not None:
            yield handler, (params,), None

    @lsp_method(lsp.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: lsp.DidOpenTextDocumentParams):
        yield from self._user_handler(lsp.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: lsp.DidChangeTextDocumentParams):
        yield from self._user_handler(lsp.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: lsp.DidCloseTextDocumentParams):
        yield from self._user_handler(lsp.TEXT_DOCUMENT_DID_CLOSE, params)

    def _execute_handler(self, msg_id, handler, callback, args=None, kwargs=None):
        """pygls 2.1 files the future of every async, threaded or generator handler under its id so a
        `$/cancelRequest` can find it, but only a request's response takes it out again: each
        notification (every didOpen/didChange/didClose goes through a generator here) left a future,
        its lock and its callbacks behind for good, ~1 KB per keystroke. Take it out when it is done."""
        super()._execute_handler(msg_id, handler, callback, args, kwargs)
        future = self._request_futures.get(msg_id)
        if future is not None:
            future.add_done_callback(lambda done: self._forget(msg_id, done))

    def _forget(self, msg_id, future) -> None:
        if self._request_futures.get(msg_id) is future:  # a client may reuse an id once it is answered
            del self._request_futures[msg_id]

    def handlers_in_flight(self) -> int:
        """Handlers started and not finished (requests being answered, notifications being handled)."""
        return len(self._request_futures)

    def track_request(self, token: CancelToken) -> CancelToken:
        """File `token` under the id of the request being handled, for `$/cancelRequest` to find."""
        msg_id = self.msg_id
        if msg_id is not None:
            self.request_tokens[msg_id] = token
        return token

    def release_request(self, token: CancelToken) -> None:
        for msg_id, registered in list(self.request_tokens.items()):
            if registered is token:
                self.request_tokens.pop(msg_id, None)

    def _handle_cancel_notification(self, msg_id):
        super()._handle_cancel_notification(msg_id)
        token = self.request_tokens.pop(msg_id, None)
        if token is not None:
            token.cancel()
