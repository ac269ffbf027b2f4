"""What the function index produces. Plain data: no tree-sitter objects escape the index package."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Position:
    """0-based line and column. `character` counts Unicode code points (Python str indices);
    the LSP layer converts to the negotiated position encoding (UTF-16 by default)."""

    line: int
    character: int


@dataclass(frozen=True)
class Span:
    start: Position
    end: Position

    def contains_line(self, line: int) -> bool:
        return self.start.line <= line <= self.end.line


@dataclass(frozen=True)
class FunctionInfo:
    """One function, method, nested function or named lambda/arrow in a document."""

    language: str  # "python", "javascript", "typescript", "tsx", "java", "c", "cpp", "go", "rust"
    name: str  # "method"
    qualified_name: str  # "Outer.Inner.method" (enclosing classes/impls/functions, dot-joined)
    kind: str  # "function" | "method" | "lambda" | "constructor"
    span: Span  # includes decorators / annotations / doc comments attached to the function
    text: str  # exactly the document text covered by `span`
    is_test: bool = False  # recognised as a test function (pytest/unittest/JUnit/Go/Rust/JS test)
    body_start_line: int = field(default=-1)  # first line of the body (after signature), -1 unknown

    @property
    def content_hash(self) -> str:
        return content_hash(self.language, self.text)


def content_hash(language: str, text: str) -> str:
    return hashlib.blake2b(f"{language}\0{text}".encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
