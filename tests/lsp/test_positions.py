"""Position conversion at line ends: one "\r" before "\n" is the CRLF break; any other "\r" is text."""

from lsprotocol import types as lsp

from manyskills.index.types import Position
from manyskills.lsp.positions import from_client, to_client

UTF16 = lsp.PositionEncodingKind.Utf16


def test_crlf_break_is_not_a_column():
    lines = "ab\r\ncd".split("\n")
    assert from_client(lines, lsp.Position(0, 9), UTF16) == Position(0, 2)  # clamps before the break
    assert to_client(lines, Position(0, 2), UTF16) == lsp.Position(0, 2)


def test_a_carriage_return_inside_the_line_keeps_its_column():
    lines = "a\r\r\nb\r\rc".split("\n")  # line 0 is "a\r" + CRLF; line 1 holds two bare "\r"
    assert from_client(lines, lsp.Position(0, 2), UTF16) == Position(0, 2)
    assert from_client(lines, lsp.Position(0, 3), UTF16) == Position(0, 2)
    assert from_client(lines, lsp.Position(1, 3), UTF16) == Position(1, 3)
    assert to_client(lines, Position(0, 2), UTF16) == lsp.Position(0, 2)


def test_astral_characters_count_two_utf16_units():
    lines = ["x = '\U0001F600' + y\r"]
    assert to_client(lines, Position(0, 9), UTF16) == lsp.Position(0, 10)
    assert from_client(lines, lsp.Position(0, 10), UTF16) == Position(0, 9)
    assert from_client(lines, lsp.Position(0, 6), UTF16) == Position(0, 6)  # inside the pair: after it
