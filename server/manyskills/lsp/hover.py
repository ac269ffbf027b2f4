"""Hover over a flagged range: the finding and its review note (generated lazily, then cached)."""

from __future__ import annotations

import logging

from lsprotocol import types as lsp

from manyskills.lsp.positions import from_client, span_to_range
from manyskills.lsp.review import note_markdown, review_for
from manyskills.lsp.server import ManySkillsServer

log = logging.getLogger(__name__)


def register(server: ManySkillsServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    async def hover(ls: ManySkillsServer, params: lsp.HoverParams) -> lsp.Hover | None:
        state = ls.documents.get(params.text_document.uri)
        if state is None or not state.findings:
            return None
        lines = state.lines
        pos = from_client(lines, params.position, ls.position_encoding)
        for finding in state.findings:
            if finding.span.start.line <= pos.line <= finding.span.end.line:
                note = None
                if finding.skill == "defect" and ls.settings.skills.review:
                    try:
                        note = await review_for(ls, finding)
                    except Exception as exc:  # noqa: BLE001 - hover still shows the finding itself
                        log.warning("review generation failed: %s", exc)
                return lsp.Hover(
                    contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=note_markdown(finding, note)),
                    range=span_to_range(lines, finding.span, ls.position_encoding),
                )
        return None
