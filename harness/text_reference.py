"""An independent reference for what an editor's buffer holds after LSP content changes.

Used as the oracle for "no lost or misapplied edits". Deliberately simple string splicing over
`text.split("\\n")` with UTF-16 (or UTF-8/32) columns; out-of-range positions clamp to the document
like editors do (a line past the end = end of text; a column past the end = end of that line, before
its "\\r\\n"); a position inside a surrogate pair rounds up to after the character; an inverted range
is taken as written from its smaller end.
"""

from __future__ import annotations


def _units(char: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(char.encode("utf-8", "surrogatepass"))
    if encoding == "utf-32":
        return 1
    return 2 if ord(char) > 0xFFFF else 1


def offset(text: str, line: int, character: int, encoding: str = "utf-16") -> int:
    lines = text.split("\n")
    if line >= len(lines):
        return len(text)
    start = sum(len(lines[i]) + 1 for i in range(line))
    content = lines[line][:-1] if lines[line].endswith("\r") else lines[line]
    units = 0
    for index, char in enumerate(content):
        if units >= character:
            return start + index
        units += _units(char, encoding)
    return start + len(content)


def apply_change(text: str, change: dict, encoding: str = "utf-16") -> str:
    if "range" not in change:
        return change["text"]
    rng = change["range"]
    a = offset(text, rng["start"]["line"], rng["start"]["character"], encoding)
    b = offset(text, rng["end"]["line"], rng["end"]["character"], encoding)
    a, b = min(a, b), max(a, b)
    return text[:a] + change["text"] + text[b:]


def utf16_position(text: str, index: int) -> dict:
    """The LSP (UTF-16) position of code point `index`."""
    before = text[:index]
    line = before.count("\n")
    column_text = before[before.rfind("\n") + 1:]
    return {"line": line, "character": sum(2 if ord(c) > 0xFFFF else 1 for c in column_text)}
