"""Review notes and repairs, computed on demand (resolve, hover, command) and cached.

A repair costs one batched pass over the candidate edits (and generation as a fallback), seconds on a
CPU, so it never runs during analysis: only when the user looks at a finding. What to propose, and
whether to propose an edit at all, is decided in `analysis.repair`.
"""

from __future__ import annotations

import asyncio

from manyskills.analysis.findings import Finding
from manyskills.analysis.repair import Review, review_finding
from manyskills.lsp.documents import DocumentState
from manyskills.lsp.session import Session
from manyskills.model.calibration import defect_probability
from manyskills.model.types import ReviewNote


def find_finding(state: DocumentState, content_hash: str, line_in_function: int, skill: str = "defect") -> Finding | None:
    for finding in state.findings:
        if (finding.function.content_hash == content_hash and finding.line_in_function == line_in_function
                and finding.skill == skill):
            return finding
    return None


def _key(session: Session, finding: Finding) -> tuple:
    backend = session.engine.backend if session.engine else None
    return finding.function.content_hash, finding.line_in_function, backend.identity.cache_key if backend else ""


def known_without_fix(session: Session, finding: Finding) -> bool:
    """The finding's review is already known and proposes no edit (so no quick fix is listed)."""
    cached = session.reviews.get(_key(session, finding))
    return cached is not None and getattr(cached, "repair", None) is None


async def review_for(session: Session, finding: Finding) -> ReviewNote:
    key = _key(session, finding)
    cached = session.reviews.get(key)
    if cached is not None:
        return cached
    function = finding.function
    analysis = None
    if session.analyzer is not None:
        hits, _ = session.analyzer.cached([function])
        analysis = hits.get(function.content_hash)
    token = session.request_token()  # a cancelled hover/resolve drops its queued model work
    try:
        review = await asyncio.to_thread(review_finding, session.engine, finding, analysis, token)
    finally:
        session.release(token)
    session.reviews.put(key, review)
    return review


def defect_scale(session: Session) -> tuple[dict | None, float | None]:
    """The loaded adapter's defect calibration (None without one) and the threshold warnings use now
    (the user's `threshold`, else the adapter's)."""
    backend = session.engine.backend if session.engine else None
    if backend is None:
        return None, None
    calibrations = getattr(backend.manifest, "calibration", None)  # a hand-edited manifest may hold anything
    calibration = calibrations.get("defect") if isinstance(calibrations, dict) else None
    threshold = session.analyzer.effective(session.settings).threshold if session.analyzer else None
    return calibration, threshold


def _probability(p: float) -> str:
    # two decimals, but never a rounded 0.00 or 1.00: the map is an estimate, not a certainty
    return "< 0.01" if p < 0.005 else "> 0.99" if p > 0.995 else f"{p:.2f}"


def score_text(finding: Finding, calibration: dict | None = None, threshold: float | None = None) -> str:
    """"score 0.81", or with a defect calibration "estimated probability of a bug: 0.37 (score 0.81,
    warns at ≥ 0.74)": the probability reads the score, the threshold stays a raw-score threshold."""
    probability = defect_probability(finding.score, calibration) if finding.skill == "defect" else None
    if probability is None:
        return f"score {finding.score:.2f}"
    warns = f", warns at ≥ {threshold:.2f}" if threshold is not None else ""
    return f"estimated probability of a bug: {_probability(probability)} (score {finding.score:.2f}{warns})"


def note_markdown(finding: Finding, note: ReviewNote | None, calibration: dict | None = None,
                  threshold: float | None = None) -> str:
    parts = [f"**ManySkills** · `{finding.skill}` · {score_text(finding, calibration, threshold)}", "",
             finding.message]
    if note is not None:
        parts += ["", note.note]
        repair = note.repair if isinstance(note, Review) else None
        if repair is not None:
            line = finding.function.span.start.line + repair.line_in_function + 1
            natural = f"; {repair.gain:+.1f} nats to the language model" if repair.gain is not None else ""
            heading = (f"Suggested line {line} (defect score {repair.score_before:.2f} → {repair.score_after:.2f}"
                       f"{natural}):")
            parts += ["", heading,
                      "```", repair.fixed_line.strip(), "```"]
    return "\n".join(parts)
