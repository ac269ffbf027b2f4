"""Review notes and repairs, generated on demand (resolve, hover, command) and cached.

Generation is the one expensive path (seconds on a CPU), so it never runs during analysis: only when
the user looks at a finding. A repair is offered only if it changes the line and does not break the
parse of the function.
"""

from __future__ import annotations

import asyncio

from manyskills.analysis.findings import Finding
from manyskills.analysis.repair import repair_is_valid
from manyskills.lsp.documents import DocumentState
from manyskills.lsp.protocol import release, request_token
from manyskills.lsp.server import ManySkillsServer
from manyskills.model.types import FunctionInput, ReviewNote


def find_finding(state: DocumentState, content_hash: str, line_in_function: int, skill: str = "defect") -> Finding | None:
    for finding in state.findings:
        if (finding.function.content_hash == content_hash and finding.line_in_function == line_in_function
                and finding.skill == skill):
            return finding
    return None


async def review_for(server: ManySkillsServer, finding: Finding) -> ReviewNote:
    backend = server.engine.backend if server.engine else None
    key = (finding.function.content_hash, finding.line_in_function, backend.identity.cache_key if backend else "")
    cached = server.reviews.get(key)
    if cached is not None:
        return cached
    function = finding.function
    token = request_token(server)  # a cancelled hover/resolve drops its generation if not yet started
    try:
        note = await asyncio.wrap_future(server.engine.review(
            FunctionInput(function.language, function.text, function.is_test), finding.line_in_function, token))
    finally:
        release(server, token)
    note = ReviewNote(note.note, note.fixed_line if repair_is_valid(finding, note.fixed_line) else None, note.raw)
    server.reviews.put(key, note)
    return note


def note_markdown(finding: Finding, note: ReviewNote | None) -> str:
    parts = [f"**ManySkills** · `{finding.skill}` · score {finding.score:.2f}", "", finding.message]
    if note is not None:
        parts += ["", note.note]
        if note.fixed_line:
            parts += ["", "Suggested line:", "```", note.fixed_line.strip(), "```"]
    return "\n".join(parts)
