"""Cooperative cancellation for requests that are already running.

pygls answers `$/cancelRequest` by cancelling the request's future, which stops only handlers that
have not started (pygls#517); for commands the user handler runs as a separate task and keeps going.
Long handlers here register a CancelToken under their request id; this protocol cancels it, so the
model thread drops the work within one batch.
"""

from __future__ import annotations

import logging

from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol

from manyskills.model.engine import CancelToken

log = logging.getLogger(__name__)


class ManySkillsProtocol(LanguageServerProtocol):
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

    def _handle_cancel_notification(self, msg_id):
        super()._handle_cancel_notification(msg_id)
        token = self._server.request_tokens.pop(msg_id, None)
        if token is not None:
            token.cancel()


def request_token(server) -> CancelToken:
    """A token cancelled by `$/cancelRequest` for the request being handled (if any)."""
    token = CancelToken()
    msg_id = server.protocol.msg_id
    if msg_id is not None:
        server.request_tokens[msg_id] = token
    return token


def release(server, token: CancelToken) -> None:
    for msg_id, registered in list(server.request_tokens.items()):
        if registered is token:
            server.request_tokens.pop(msg_id, None)
