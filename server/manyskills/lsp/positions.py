"""Convert between our code-point columns and the negotiated LSP position encoding (UTF-16 default).

Written here rather than borrowed from pygls because its codec mutates the Position it is given.
"""

from __future__ import annotations

import re

from lsprotocol import types as lsp

from manyskills.index.types import Position, Span

# Characters wider than one unit: the only ones a conversion has to visit, so a 10 MB ASCII line
# converts at C speed instead of one Python step per character.
_WIDE = {
    lsp.PositionEncodingKind.Utf16: re.compile("[\U00010000-\U0010FFFF]"),
    lsp.PositionEncodingKind.Utf8: re.compile("[^\x00-\x7f]"),
}


def _unit_len(char: str, encoding: str) -> int:
    if encoding == lsp.PositionEncodingKind.Utf8:
        return len(char.encode("utf-8", "surrogatepass"))
    if encoding == lsp.PositionEncodingKind.Utf32:
        return 1
    return 2 if ord(char) > 0xFFFF else 1


def _line_text(lines: list[str], line: int) -> str:
    """A line without its break: lines are split at "\n", and one "\r" before it is part of a CRLF
    break; any other "\r" is content and keeps its column."""
    if not 0 <= line < len(lines):
        return ""
    text = lines[line]
    return text[:-1] if text.endswith("\r") else text


def to_client(lines: list[str], pos: Position, encoding: str) -> lsp.Position:
    prefix = _line_text(lines, pos.line)[: pos.character]
    units = len(prefix)
    if (wide := _WIDE.get(encoding)) is not None:
        units += sum(_unit_len(m.group(), encoding) - 1 for m in wide.finditer(prefix))
    return lsp.Position(line=max(0, pos.line), character=units)


def from_client(lines: list[str], pos: lsp.Position, encoding: str) -> Position:
    """Clamp out-of-range positions to the document (clients do send them) instead of failing."""
    if pos.line < 0:
        return Position(0, 0)
    if pos.line >= len(lines):  # past the last line: the end of the document (after a trailing "\r" too)
        last = max(0, len(lines) - 1)
        return Position(last, len(lines[last]) if lines else 0)
    text = _line_text(lines, pos.line)
    return Position(pos.line, _index_of_unit(text, pos.character, encoding))


def _index_of_unit(text: str, units: int, encoding: str) -> int:
    """The code-point index where `units` units into `text` fall; inside a wide character rounds up
    to after it; past the end clamps to the end."""
    extra = 0  # units beyond one per character, over the wide characters before the current one
    if (wide := _WIDE.get(encoding)) is not None:
        for match in wide.finditer(text):
            at = match.start()
            if at + extra >= units:
                break
            width = _unit_len(match.group(), encoding)
            if units < at + extra + width:
                return at + 1
            extra += width - 1
    return max(0, min(units - extra, len(text)))


def span_to_range(lines: list[str], span: Span, encoding: str) -> lsp.Range:
    return lsp.Range(start=to_client(lines, span.start, encoding), end=to_client(lines, span.end, encoding))
