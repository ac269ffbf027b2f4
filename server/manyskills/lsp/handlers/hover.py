"""Hover over a flagged range: the finding, its score (as a probability when the adapter is calibrated)
and its review note (generated lazily, then cached)."""

from __future__ import annotations

import logging

from lsprotocol import types as lsp

from manyskills.lsp.positions import from_client, span_to_range
from manyskills.lsp.review import defect_scale, note_markdown, review_for
from manyskills.lsp.session import Session

log = logging.getLogger(__name__)


async def hover(session: Session, params: lsp.HoverParams) -> lsp.Hover | None:
    state = session.documents.get(params.text_document.uri)
    if state is None or not state.findings:
        return None
    lines = state.lines
    pos = from_client(lines, params.position, session.position_encoding)
    for finding in state.findings:
        if finding.span.start.line <= pos.line <= finding.span.end.line:
            note = None
            if finding.skill == "defect" and session.settings.skills.review:
                try:
                    note = await review_for(session, finding)
                except Exception as exc:  # noqa: BLE001 - hover still shows the finding itself
                    log.warning("review generation failed: %s", exc)
            calibration, threshold = defect_scale(session)
            return lsp.Hover(
                contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown,
                                           value=note_markdown(finding, note, calibration, threshold)),
                range=span_to_range(lines, finding.span, session.position_encoding),
            )
    return None
