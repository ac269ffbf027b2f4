"""Open documents: the text we analyse, its incremental function index, and its latest findings.

pygls keeps its own copy of each document; ours is kept in step by replaying the same content
changes through the tree-sitter index (incremental reparse) and is checked against pygls' copy, so a
misapplied edit is detected and repaired from the client's text instead of silently diverging.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from lsprotocol import types as lsp

from manyskills.analysis.findings import Finding
from manyskills.index.functions import DocumentIndex
from manyskills.index.languages import LANGUAGES
from manyskills.lsp.positions import from_client
from manyskills.model.engine import CancelToken

log = logging.getLogger(__name__)


@dataclass
class DocumentState:
    uri: str
    language: str
    version: int | None
    index: DocumentIndex | None  # None when the document is skipped (too big, binary, ...)
    skip_reason: str | None = None
    findings: list[Finding] = field(default_factory=list)
    findings_version: int | None = None  # document version the findings were computed for
    pending: CancelToken | None = None  # token of the analysis in flight (cancelled when stale)

    @property
    def lines(self) -> list[str]:
        return self.index.text.split("\n") if self.index else []

    @property
    def comment_prefix(self) -> str:
        return LANGUAGES[self.language].line_comment


def skip_reason(text: str, max_bytes: int) -> str | None:
    size = len(text.encode("utf-8", "surrogatepass"))
    if max_bytes and size > max_bytes:
        return f"file is {size:,} bytes, over maxFileBytes ({max_bytes:,})"
    if "\x00" in text[:8192]:
        return "file looks binary (NUL characters)"
    return None


class DocumentStore:
    def __init__(self) -> None:
        self._docs: dict[str, DocumentState] = {}

    def __contains__(self, uri: str) -> bool:
        return uri in self._docs

    def get(self, uri: str) -> DocumentState | None:
        return self._docs.get(uri)

    def all(self) -> list[DocumentState]:
        return list(self._docs.values())

    def open(self, uri: str, language: str, version: int | None, text: str, max_bytes: int) -> DocumentState:
        reason = skip_reason(text, max_bytes)
        state = DocumentState(uri, language, version, None if reason else DocumentIndex(language, text), reason)
        if reason:
            log.info("not analysing %s: %s", uri, reason)
        self._docs[uri] = state
        return state

    def change(self, state: DocumentState, version: int | None, changes: list, encoding: str, client_text: str,
               max_bytes: int) -> None:
        """Apply content changes in order. Falls back to the client's full text when our copy
        disagrees (a stale or malformed change), so the index never drifts from the editor."""
        state.version = version
        reason = skip_reason(client_text, max_bytes)
        if reason or state.index is None:
            state.skip_reason = reason
            state.index = None if reason else DocumentIndex(state.language, client_text)
            return
        index = state.index
        for change in changes:
            if isinstance(change, lsp.TextDocumentContentChangePartial):
                lines = index.text.split("\n")
                start = from_client(lines, change.range.start, encoding)
                end = from_client(lines, change.range.end, encoding)
                if end < start:
                    start, end = end, start
                index.apply_change(start, end, change.text)
            else:
                index.replace_text(change.text)
        if index.text != client_text:
            log.warning("document %s diverged from the client's copy; re-indexing from the client text", state.uri)
            index.replace_text(client_text)

    def close(self, uri: str) -> DocumentState | None:
        state = self._docs.pop(uri, None)
        if state and state.pending:
            state.pending.cancel()
        return state
