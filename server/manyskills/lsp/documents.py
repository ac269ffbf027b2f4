"""Open documents: the text we analyse, its incremental function index, and its latest findings.

Our copy is the ground truth for analysis: every content change is applied twice, as a plain string
splice (`apply_changes`, LSP line model: "\n" ends a line, a trailing "\r" belongs to the line break)
and through the tree-sitter index (incremental reparse); if they disagree the index is rebuilt from the
splice. pygls keeps no copy (see protocol.py); its line model would be wrong anyway: it splits lines with `str.splitlines`, which also breaks at
U+2028, form feeds and other characters that are not line breaks in LSP, so edits after such a
character land on the wrong line there. Skipped documents (too big, binary) keep their text too, so
they can be analysed again when a setting or an edit makes them eligible.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from lsprotocol import types as lsp

from manyskills.analysis.files import text_skip_reason
from manyskills.analysis.findings import Finding
from manyskills.index.functions import DocumentIndex
from manyskills.index.languages import LANGUAGES
from manyskills.index.types import Position
from manyskills.lsp.positions import from_client
from manyskills.model.jobs import CancelToken

log = logging.getLogger(__name__)


@dataclass
class DocumentState:
    uri: str
    language: str
    version: int | None
    text: str  # the client's text, whether analysed or skipped
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
        reason = text_skip_reason(text, max_bytes)
        state = DocumentState(uri, language, version, text, None if reason else DocumentIndex(language, text), reason)
        if reason:
            log.info("not analysing %s: %s", uri, reason)
        self._docs[uri] = state
        return state

    def change(self, state: DocumentState, version: int | None, changes: list, encoding: str,
               max_bytes: int) -> None:
        """Apply content changes in order (the version is only a label: a stale one is applied too,
        since the client's buffer already holds the edit)."""
        state.version = version
        text = apply_changes(state.text, changes, encoding)
        state.text = text
        reason = text_skip_reason(text, max_bytes)
        if reason or state.index is None:
            if reason and reason != state.skip_reason:
                log.info("not analysing %s: %s", state.uri, reason)
            state.skip_reason = reason
            state.index = None if reason else DocumentIndex(state.language, text)
            return
        index = state.index
        for change in changes:
            if isinstance(change, lsp.TextDocumentContentChangePartial):
                lines = index.text.split("\n")
                start, end = _ordered(from_client(lines, change.range.start, encoding),
                                      from_client(lines, change.range.end, encoding))
                index.apply_change(start, end, change.text)
            else:
                index.replace_text(change.text)
        if index.text != text:
            log.warning("document %s: the incremental index diverged from the text; re-indexing", state.uri)
            index.replace_text(text)

    def revalidate(self, max_bytes: int) -> None:
        """Re-apply the size/binary rule after `maxFileBytes` changed."""
        for state in self._docs.values():
            reason = text_skip_reason(state.text, max_bytes)
            if reason != state.skip_reason or (reason is None) != (state.index is not None):
                state.skip_reason = reason
                state.index = None if reason else DocumentIndex(state.language, state.text)
                if reason:
                    log.info("not analysing %s: %s", state.uri, reason)

    def close(self, uri: str) -> DocumentState | None:
        state = self._docs.pop(uri, None)
        if state and state.pending:
            state.pending.cancel()
        return state


def _ordered(a: Position, b: Position) -> tuple[Position, Position]:
    return (b, a) if b < a else (a, b)


def apply_changes(text: str, changes: list, encoding: str) -> str:
    """The text after LSP content changes, by plain splicing (out-of-range positions clamp)."""
    for change in changes:
        if not isinstance(change, lsp.TextDocumentContentChangePartial):
            text = change.text
            continue
        lines = text.split("\n")
        start, end = _ordered(from_client(lines, change.range.start, encoding),
                              from_client(lines, change.range.end, encoding))
        text = text[:_offset(lines, start)] + change.text + text[_offset(lines, end):]
    return text


def _offset(lines: list[str], pos: Position) -> int:
    return sum(len(line) + 1 for line in lines[:pos.line]) + pos.character
