"""textDocument/codeAction (cheap: lists actions for findings in the range) and codeAction/resolve
(generates the review note or repair; see actions.py)."""

from __future__ import annotations

from lsprotocol import types as lsp

from manyskills.lsp.actions import actions_for, resolve_action
from manyskills.lsp.positions import from_client
from manyskills.lsp.session import Session


def code_action(session: Session, params: lsp.CodeActionParams) -> list[lsp.CodeAction] | None:
    state = session.documents.get(params.text_document.uri)
    if state is None or not state.findings:
        return None
    lines = state.lines
    start = from_client(lines, params.range.start, session.position_encoding)
    end = from_client(lines, params.range.end, session.position_encoding)
    actions: list[lsp.CodeAction] = []
    for finding in state.findings:
        if finding.span.start.line <= end.line and start.line <= finding.span.end.line:
            actions.extend(actions_for(session, state, finding))
    return actions or None


async def code_action_resolve(session: Session, action: lsp.CodeAction) -> lsp.CodeAction:
    return await resolve_action(session, action)
