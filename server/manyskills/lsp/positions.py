"""Convert between our code-point columns and the negotiated LSP position encoding (UTF-16 default).

Written here rather than borrowed from pygls because its codec mutates the Position it is given.
"""

from __future__ import annotations

from lsprotocol import types as lsp

from manyskills.index.types import Position, Span


def _unit_len(char: str, encoding: str) -> int:
    if encoding == lsp.PositionEncodingKind.Utf8:
        return len(char.encode("utf-8", "surrogatepass"))
    if encoding == lsp.PositionEncodingKind.Utf32:
        return 1
    return 2 if ord(char) > 0xFFFF else 1


def _line_text(lines: list[str], line: int) -> str:
    return lines[line].rstrip("\r\n") if 0 <= line < len(lines) else ""


def to_client(lines: list[str], pos: Position, encoding: str) -> lsp.Position:
    text = _line_text(lines, pos.line)
    prefix = text[: pos.character]
    if encoding == lsp.PositionEncodingKind.Utf32:
        units = len(prefix)
    else:
        units = sum(_unit_len(c, encoding) for c in prefix)
    return lsp.Position(line=max(0, pos.line), character=units)


def from_client(lines: list[str], pos: lsp.Position, encoding: str) -> Position:
    """Clamp out-of-range positions to the document (clients do send them) instead of failing."""
    if pos.line < 0:
        return Position(0, 0)
    if pos.line >= len(lines):  # past the last line: the end of the document (after a trailing "\r" too)
        last = max(0, len(lines) - 1)
        return Position(last, len(lines[last]) if lines else 0)
    text = _line_text(lines, pos.line)
    units = 0
    for index, char in enumerate(text):
        if units >= pos.character:
            return Position(pos.line, index)
        units += _unit_len(char, encoding)
    return Position(pos.line, len(text))


def span_to_range(lines: list[str], span: Span, encoding: str) -> lsp.Range:
    return lsp.Range(start=to_client(lines, span.start, encoding), end=to_client(lines, span.end, encoding))
