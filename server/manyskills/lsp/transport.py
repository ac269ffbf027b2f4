"""Stdio framing that survives a broken message.

pygls reads a header line only if it is exactly `Content-Length: N\\r\\n`. After one malformed
message (a body shorter than its Content-Length, a bare body, a non-numeric length) the leftover
bytes have no line break, so they get glued to the next header line, that header never matches
again, and the server goes deaf for the rest of the session while looking alive. This reader
normalises header lines before pygls sees them: a Content-Length header is recognised wherever the
line holds it (case-insensitive, after leftover junk, with `\\n` only), so the stream resynchronises
at the next well-formed message and only the malformed one is lost (logged).
"""

from __future__ import annotations

import logging
import re
from typing import BinaryIO

log = logging.getLogger(__name__)
_CONTENT_LENGTH = re.compile(rb"content-length[ \t]*:[ \t]*(\d+)[ \t]*\r?\n?$", re.IGNORECASE)
# A larger Content-Length is treated as malformed: obeying it would swallow every later message
# (the read never completes) and could allocate that much memory.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024


class ResyncingReader:
    """Wraps the server's stdin; pygls calls `readline()` for headers and `read(n)` for bodies."""

    def __init__(self, raw: BinaryIO):
        self._raw = raw

    def readline(self) -> bytes:
        line = self._raw.readline()
        if not line or line in (b"\r\n", b"\n"):
            return line
        match = _CONTENT_LENGTH.search(line)
        if match is None:
            if not line.lower().startswith(b"content-type"):
                log.warning("ignoring malformed header line %r", line[:80])
            return line
        if len(match.group(1)) > 12 or int(match.group(1)) > MAX_MESSAGE_BYTES:
            log.warning("ignoring a Content-Length of %s bytes (limit %d)", match.group(1)[:20].decode(), MAX_MESSAGE_BYTES)
            return b"X-Ignored: oversized Content-Length\r\n"
        if match.start() > 0:
            log.warning("discarded %d bytes of malformed input before a header", match.start())
        return b"Content-Length: " + match.group(1) + b"\r\n"

    def read(self, n: int) -> bytes:
        return self._raw.read(n)
