"""Code actions: cheap to list, expensive parts in `codeAction/resolve`.

Per finding under the cursor/range:
- "ManySkills: Explain …"           review note, generated on resolve (shown via window/showMessage);
- "ManySkills: Apply suggested fix …" repair as a WorkspaceEdit, generated on resolve (isPreferred);
- "ManySkills: ignore here"         inserts the suppression comment (cheap, eager).
Clients without resolve support get commands that do the same work and apply the edit with
`workspace/applyEdit`.
"""

from __future__ import annotations

import logging

from lsprotocol import types as lsp

from manyskills.analysis.findings import Finding
from manyskills.analysis.repair import Repair, line_end, repair_edit
from manyskills.analysis.suppression import suppression_comment
from manyskills.lsp.diagnostics import to_diagnostic
from manyskills.lsp.documents import DocumentState
from manyskills.lsp.positions import from_client, span_to_range, to_client
from manyskills.lsp.review import find_finding, known_without_fix, note_markdown, review_for
from manyskills.lsp.server import ManySkillsServer

log = logging.getLogger(__name__)
TITLE = "ManySkills: "
CMD_SHOW_NOTE = "manyskills.showNote"
CMD_APPLY_FIX = "manyskills.applyFix"


def _action_data(state: DocumentState, finding: Finding, action: str) -> dict:
    return {"uri": state.uri, "version": state.version, "hash": finding.function.content_hash,
            "line": finding.line_in_function, "skill": finding.skill, "action": action}


def _ignore_edit(server: ManySkillsServer, state: DocumentState, finding: Finding) -> lsp.WorkspaceEdit:
    end = to_client(state.lines, line_end(state.lines, finding.span.start.line), server.position_encoding)
    text = suppression_comment(state.comment_prefix, finding.skill)
    return lsp.WorkspaceEdit(changes={state.uri: [lsp.TextEdit(range=lsp.Range(start=end, end=end), new_text=text)]})


def fix_edit(server: ManySkillsServer, state: DocumentState, finding: Finding, repair: Repair) -> lsp.WorkspaceEdit:
    span, new_text = repair_edit(finding.function, state.lines, repair)
    replaced = span_to_range(state.lines, span, server.position_encoding)
    return lsp.WorkspaceEdit(changes={state.uri: [lsp.TextEdit(range=replaced, new_text=new_text)]})


def actions_for(server: ManySkillsServer, state: DocumentState, finding: Finding) -> list[lsp.CodeAction]:
    diagnostic = to_diagnostic(finding, state.lines, server.position_encoding)
    name = finding.function.qualified_name
    actions: list[lsp.CodeAction] = []
    resolve = server.client_features.code_action_resolve
    if finding.skill == "defect" and server.settings.skills.review:
        explain_data = _action_data(state, finding, "explain")
        fix_data = _action_data(state, finding, "fix")
        actions.append(lsp.CodeAction(
            title=f"{TITLE}Explain possible defect in `{name}`",
            kind=lsp.CodeActionKind.QuickFix, diagnostics=[diagnostic], data=explain_data,
            command=None if resolve else lsp.Command(title="Explain", command=CMD_SHOW_NOTE, arguments=[explain_data]),
        ))
        if not known_without_fix(server, finding):  # a fix only where a repair passed the margin
            actions.append(lsp.CodeAction(
                title=f"{TITLE}Apply suggested fix to line {finding.span.start.line + 1}",
                kind=lsp.CodeActionKind.QuickFix, diagnostics=[diagnostic], is_preferred=True, data=fix_data,
                command=None if resolve else lsp.Command(title="Apply fix", command=CMD_APPLY_FIX,
                                                         arguments=[fix_data]),
            ))
    actions.append(lsp.CodeAction(
        title=f"{TITLE}ignore here",
        kind=lsp.CodeActionKind.QuickFix, diagnostics=[diagnostic], edit=_ignore_edit(server, state, finding),
    ))
    return actions


async def resolve_action(server: ManySkillsServer, action: lsp.CodeAction) -> lsp.CodeAction:
    data = action.data if isinstance(action.data, dict) else {}
    state = server.documents.get(data.get("uri", ""))
    finding = find_finding(state, data.get("hash", ""), data.get("line", -1)) if state else None
    if state is None or finding is None:
        action.command = lsp.Command(title="stale", command=CMD_SHOW_NOTE,
                                     arguments=[{"message": "ManySkills: this finding is out of date; try again."}])
        return action
    note = await review_for(server, finding)
    repair = getattr(note, "repair", None)
    if data.get("action") == "fix" and repair is not None:
        action.edit = fix_edit(server, state, finding, repair)
    else:
        message = note_markdown(finding, note)
        if data.get("action") == "fix":
            message += "\n\n(No repair passed the check: no edit is proposed.)"
        action.command = lsp.Command(title="Show note", command=CMD_SHOW_NOTE, arguments=[{"message": message}])
    return action


def register(server: ManySkillsServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION,
                    lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix], resolve_provider=True))
    def code_action(ls: ManySkillsServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction] | None:
        state = ls.documents.get(params.text_document.uri)
        if state is None or not state.findings:
            return None
        lines = state.lines
        start = from_client(lines, params.range.start, ls.position_encoding)
        end = from_client(lines, params.range.end, ls.position_encoding)
        actions: list[lsp.CodeAction] = []
        for finding in state.findings:
            if finding.span.start.line <= end.line and start.line <= finding.span.end.line:
                actions.extend(actions_for(ls, state, finding))
        return actions or None

    @server.feature(lsp.CODE_ACTION_RESOLVE)
    async def code_action_resolve(ls: ManySkillsServer, action: lsp.CodeAction) -> lsp.CodeAction:
        return await resolve_action(ls, action)

    @server.command(CMD_SHOW_NOTE)
    async def show_note(ls: ManySkillsServer, *args) -> None:
        data = args[0] if args else {}
        message = data.get("message") if isinstance(data, dict) else None
        if message is None and isinstance(data, dict):
            resolved = await resolve_action(ls, lsp.CodeAction(title="", data={**data, "action": "explain"}))
            message = resolved.command.arguments[0]["message"] if resolved.command else None
        if message:
            ls.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Info, message=message))

    @server.command(CMD_APPLY_FIX)
    async def apply_fix(ls: ManySkillsServer, *args) -> None:
        data = args[0] if args and isinstance(args[0], dict) else {}
        resolved = await resolve_action(ls, lsp.CodeAction(title="", data={**data, "action": "fix"}))
        if resolved.edit is not None:
            await ls.workspace_apply_edit_async(lsp.ApplyWorkspaceEditParams(edit=resolved.edit,
                                                                             label="ManySkills fix"))
        elif resolved.command is not None:
            ls.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Info,
                                                         message=resolved.command.arguments[0]["message"]))
