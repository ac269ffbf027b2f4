"""Code actions for a finding: cheap to list, the expensive parts generated when resolved.

Per finding under the cursor/range:
- "ManySkills: Explain …"           review note, generated on resolve (shown via window/showMessage);
- "ManySkills: Apply suggested fix …" repair as a WorkspaceEdit, generated on resolve (isPreferred);
- "ManySkills: ignore here"         inserts the suppression comment (cheap, eager).
Clients without resolve support get commands (`manyskills.showNote`, `manyskills.applyFix`) that do
the same work through `resolve_action` and apply the edit with `workspace/applyEdit`.
"""

from __future__ import annotations

from lsprotocol import types as lsp

from manyskills.analysis.findings import Finding
from manyskills.analysis.repair import Repair, line_end, repair_edit
from manyskills.analysis.suppression import suppression_comment
from manyskills.lsp import command_names
from manyskills.lsp.diagnostics import to_diagnostic
from manyskills.lsp.documents import DocumentState
from manyskills.lsp.positions import span_to_range, to_client
from manyskills.lsp.review import find_finding, known_without_fix, note_markdown, review_for
from manyskills.lsp.session import Session

TITLE = "ManySkills: "
STALE_MESSAGE = "ManySkills: this finding is out of date; try again."
NO_REPAIR = "\n\n(No repair passed the check: no edit is proposed.)"


def _action_data(state: DocumentState, finding: Finding, action: str) -> dict:
    return {"uri": state.uri, "version": state.version, "hash": finding.function.content_hash,
            "line": finding.line_in_function, "skill": finding.skill, "action": action}


def _ignore_edit(session: Session, state: DocumentState, finding: Finding) -> lsp.WorkspaceEdit:
    end = to_client(state.lines, line_end(state.lines, finding.span.start.line), session.position_encoding)
    text = suppression_comment(state.comment_prefix, finding.skill)
    return lsp.WorkspaceEdit(changes={state.uri: [lsp.TextEdit(range=lsp.Range(start=end, end=end), new_text=text)]})


def fix_edit(session: Session, state: DocumentState, finding: Finding, repair: Repair) -> lsp.WorkspaceEdit:
    span, new_text = repair_edit(finding.function, state.lines, repair)
    replaced = span_to_range(state.lines, span, session.position_encoding)
    return lsp.WorkspaceEdit(changes={state.uri: [lsp.TextEdit(range=replaced, new_text=new_text)]})


def actions_for(session: Session, state: DocumentState, finding: Finding) -> list[lsp.CodeAction]:
    diagnostic = to_diagnostic(finding, state.lines, session.position_encoding)
    name = finding.function.qualified_name
    actions: list[lsp.CodeAction] = []
    resolve = session.client_features.code_action_resolve
    if finding.skill == "defect" and session.settings.skills.review:
        explain_data = _action_data(state, finding, "explain")
        fix_data = _action_data(state, finding, "fix")
        actions.append(lsp.CodeAction(
            title=f"{TITLE}Explain possible defect in `{name}`",
            kind=lsp.CodeActionKind.QuickFix, diagnostics=[diagnostic], data=explain_data,
            command=None if resolve else lsp.Command(title="Explain", command=command_names.SHOW_NOTE,
                                                     arguments=[explain_data]),
        ))
        if not known_without_fix(session, finding):  # a fix only where a repair passed the margin
            actions.append(lsp.CodeAction(
                title=f"{TITLE}Apply suggested fix to line {finding.span.start.line + 1}",
                kind=lsp.CodeActionKind.QuickFix, diagnostics=[diagnostic], is_preferred=True, data=fix_data,
                command=None if resolve else lsp.Command(title="Apply fix", command=command_names.APPLY_FIX,
                                                         arguments=[fix_data]),
            ))
    actions.append(lsp.CodeAction(
        title=f"{TITLE}ignore here",
        kind=lsp.CodeActionKind.QuickFix, diagnostics=[diagnostic], edit=_ignore_edit(session, state, finding),
    ))
    return actions


async def resolve_action(session: Session, action: lsp.CodeAction) -> lsp.CodeAction:
    """Fill in a listed action: the repair edit for "fix" (when a repair passed the check), else a
    showNote command carrying the review note (computed with the model, then cached)."""
    data = action.data if isinstance(action.data, dict) else {}
    state = session.documents.get(data.get("uri", ""))
    finding = find_finding(state, data.get("hash", ""), data.get("line", -1)) if state else None
    if state is None or finding is None:
        action.command = lsp.Command(title="stale", command=command_names.SHOW_NOTE,
                                     arguments=[{"message": STALE_MESSAGE}])
        return action
    note = await review_for(session, finding)
    repair = getattr(note, "repair", None)
    if data.get("action") == "fix" and repair is not None:
        action.edit = fix_edit(session, state, finding, repair)
    else:
        message = note_markdown(finding, note)
        if data.get("action") == "fix":
            message += NO_REPAIR
        action.command = lsp.Command(title="Show note", command=command_names.SHOW_NOTE,
                                     arguments=[{"message": message}])
    return action
