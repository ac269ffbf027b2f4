"""The languages the function index understands, and the per-language facts it needs.

Everything here is data. The tree-sitter queries that find functions live next door in
`queries/<language>.scm`; this registry holds what queries cannot express well: how a function's
span grows to take in the syntax wrapped around it (decorators, `export`, doc comments) and which
names make a function a constructor.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class LanguageSpec:
    name: str  # our id, also the tree-sitter-languages grammar name and the query file stem
    extensions: tuple[str, ...]  # lower-case, with the dot
    lsp_ids: tuple[str, ...]  # LSP `languageId`s that map to this language
    line_comment: str  # prefix for single-line comments (used for suppression comments)
    # Parent node types that wrap exactly one definition and belong to its span
    # (`@decorator def f`, `export function f`, `template <...> T f()`, `const f = () => 1;`).
    wrapper_types: frozenset[str] = frozenset()
    # Named node types that attach to the *following* definition when directly above it.
    attachment_types: frozenset[str] = frozenset()
    # Comment node types, and the text prefixes that make a comment a doc comment of what follows.
    comment_types: frozenset[str] = frozenset()
    doc_comment_prefixes: tuple[str, ...] = ()
    # Function names that make a function inside a class a constructor (besides "same name as class").
    constructor_names: frozenset[str] = frozenset()
    # Languages of one family share tree-sitter node types, so per-language syntax tables (mutation
    # operators, flaky-test patterns) are keyed by family; "" means the language is its own family.
    family: str = ""


_ECMASCRIPT_COMMON = {
    "line_comment": "//",
    "wrapper_types": frozenset(
        {"export_statement", "expression_statement", "lexical_declaration", "variable_declaration"}
    ),
    "attachment_types": frozenset({"decorator"}),
    "comment_types": frozenset({"comment"}),
    "doc_comment_prefixes": ("/**",),
    "constructor_names": frozenset({"constructor"}),
    "family": "ecma",
}

_C_FAMILY_COMMON = {
    "line_comment": "//",
    "comment_types": frozenset({"comment"}),
    "doc_comment_prefixes": ("/**", "/*!", "//"),
    "family": "c",
}

LANGUAGES: dict[str, LanguageSpec] = {
    spec.name: spec
    for spec in (
        LanguageSpec(
            name="python",
            extensions=(".py", ".pyi"),
            lsp_ids=("python",),
            line_comment="#",
            wrapper_types=frozenset({"decorated_definition", "expression_statement"}),
            constructor_names=frozenset({"__init__"}),
        ),
        LanguageSpec(
            name="javascript",
            extensions=(".js", ".mjs", ".cjs", ".jsx"),
            lsp_ids=("javascript", "javascriptreact"),
            **_ECMASCRIPT_COMMON,
        ),
        LanguageSpec(
            name="typescript",
            extensions=(".ts", ".mts", ".cts"),
            lsp_ids=("typescript",),
            **_ECMASCRIPT_COMMON,
        ),
        LanguageSpec(
            name="tsx",
            extensions=(".tsx",),
            lsp_ids=("typescriptreact",),
            **_ECMASCRIPT_COMMON,
        ),
        LanguageSpec(
            name="java",
            extensions=(".java",),
            lsp_ids=("java",),
            line_comment="//",
            comment_types=frozenset({"block_comment", "line_comment"}),
            doc_comment_prefixes=("/**",),
        ),
        LanguageSpec(
            name="c",
            extensions=(".c", ".h"),
            lsp_ids=("c",),
            **_C_FAMILY_COMMON,
        ),
        LanguageSpec(
            name="cpp",
            extensions=(".cc", ".cpp", ".cxx", ".hpp", ".hh", ".hxx"),
            lsp_ids=("cpp",),
            wrapper_types=frozenset({"template_declaration"}),
            **_C_FAMILY_COMMON,
        ),
        LanguageSpec(
            name="go",
            extensions=(".go",),
            lsp_ids=("go",),
            line_comment="//",
            wrapper_types=frozenset({"var_declaration"}),
            comment_types=frozenset({"comment"}),
            doc_comment_prefixes=("//",),
        ),
        LanguageSpec(
            name="rust",
            extensions=(".rs",),
            lsp_ids=("rust",),
            line_comment="//",
            attachment_types=frozenset({"attribute_item"}),
            comment_types=frozenset({"line_comment", "block_comment"}),
            # `//!` and `/*!` document the enclosing module, not the next item.
            doc_comment_prefixes=("///", "/**"),
        ),
    )
}

# The supported languages in their canonical order (settings, CLI help and data builds list them so).
LANGUAGE_NAMES: tuple[str, ...] = tuple(LANGUAGES)

_BY_EXTENSION = {ext: spec.name for spec in LANGUAGES.values() for ext in spec.extensions}
_BY_LSP_ID = {lsp_id: spec.name for spec in LANGUAGES.values() for lsp_id in spec.lsp_ids}


def language_for_path(path: str | os.PathLike[str]) -> str | None:
    """Language of a file by its extension (case-insensitive), or None when unsupported."""
    extension = os.path.splitext(os.fspath(path))[1].lower()
    return _BY_EXTENSION.get(extension)


def language_for_lsp_id(lsp_id: str) -> str | None:
    """Language for an LSP `languageId` ("typescriptreact" -> "tsx"), or None when unsupported."""
    return _BY_LSP_ID.get(lsp_id)


def family(language: str) -> str:
    """The family whose node types a language shares: "ecma" for JavaScript, TypeScript and TSX, "c"
    for C and C++, otherwise the language itself (also for a language not listed here)."""
    spec = LANGUAGES.get(language)
    return spec.family if spec is not None and spec.family else language
