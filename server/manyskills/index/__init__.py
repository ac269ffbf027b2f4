"""The function index: which functions a document holds, where, and what they are.

- `index.types`: the plain data produced (`FunctionInfo`, `Span`, `Position`).
- `index.languages`: the supported languages, by file extension and LSP languageId.
- `index.functions`: `index_functions(language, text)` and `DocumentIndex` (incremental).
- `index.treesitter`: the only module that touches tree-sitter; also a small syntax-tree API.

Kept import-free so that importing `index.types` does not load the tree-sitter grammars.
"""
