"""`workspace/symbol`: the editors' own search box (Telescope `lsp_workspace_symbols`, VS Code "Go to
Symbol in Workspace", Emacs `xref-find-apropos`) reaches ManySkills search.

A query of SEMANTIC_MIN_WORDS words or more reads as a description ("parse the config file") and gets
semantic search; a shorter one reads as a name and gets name matching, which needs no model and
answers at once (editors send a request per keystroke).
"""

from __future__ import annotations

from lsprotocol import types as lsp

from manyskills.lsp import workspace_search
from manyskills.lsp.session import Session
from manyskills.lsp.workspace_search import FoundFunction

SEMANTIC_MIN_WORDS = 3
SYMBOL_LIMIT = 100
_KINDS = {"method": lsp.SymbolKind.Method, "constructor": lsp.SymbolKind.Constructor}


async def workspace_symbol(session: Session, params: lsp.WorkspaceSymbolParams) -> list[lsp.SymbolInformation]:
    query = params.query
    if len(query.split()) >= SEMANTIC_MIN_WORDS and session.settings.skills.search:
        found = await workspace_search.semantic(session, query, SYMBOL_LIMIT)
    else:
        found = workspace_search.by_name(session, query, SYMBOL_LIMIT)
    return [_symbol(f) for f in found]


def _symbol(found: FoundFunction) -> lsp.SymbolInformation:
    function = found.function
    container, _, _ = function.qualified_name.rpartition(".")
    return lsp.SymbolInformation(
        name=function.name, kind=_KINDS.get(function.kind, lsp.SymbolKind.Function),
        location=lsp.Location(uri=found.uri, range=found.range), container_name=container or None)
