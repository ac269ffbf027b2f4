"""The service's JSON wire format: the backend seam's types (model/types.py) as plain JSON.

Floats travel as JSON numbers (Python writes the shortest text that round-trips exactly), and
embeddings as base64 little-endian float32, so a remote result equals the in-process one bit for bit.
Every response carries the model identity, so a client notices when the service changes model.
"""

from __future__ import annotations

import base64
from dataclasses import asdict
from typing import Any

import numpy as np

from manyskills.model.adapter import Manifest
from manyskills.model.types import FunctionAnalysis, FunctionInput, ModelIdentity, ReviewNote

API_VERSION = 1
ANALYSE_PATH = "/v1/analyse"
EMBED_PATH = "/v1/embed"
REVIEW_PATH = "/v1/review"
LIKELIHOOD_PATH = "/v1/likelihood"
TOKENS_PATH = "/v1/tokens"
HEALTH_PATH = "/healthz"  # the process answers
READY_PATH = "/readyz"  # the model is loaded: identity + manifest


class WireError(ValueError):
    """A request or response does not follow this format; the message says which field."""


def _field(obj: Any, name: str, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(obj, dict) or name not in obj:
        raise WireError(f"missing field {name!r}")
    value = obj[name]
    if not isinstance(value, kind):
        raise WireError(f"field {name!r} has the wrong type ({type(value).__name__})")
    return value


# ---------------------------------------------------------------------- arrays
def encode_array(array: np.ndarray) -> dict:
    data = np.ascontiguousarray(array, dtype="<f4")
    return {"shape": list(data.shape), "f32": base64.b64encode(data.tobytes()).decode("ascii")}


def decode_array(obj: Any) -> np.ndarray:
    shape = _field(obj, "shape", list)
    raw = base64.b64decode(_field(obj, "f32", str))
    array = np.frombuffer(raw, dtype="<f4").astype(np.float32)
    try:
        return array.reshape(shape)
    except ValueError as exc:
        raise WireError(f"array of {array.size} values does not have shape {shape}") from exc


# ---------------------------------------------------------------------- inputs
def encode_input(item: FunctionInput) -> dict:
    return {"language": item.language, "text": item.text, "is_test": item.is_test}


def decode_input(obj: Any) -> FunctionInput:
    return FunctionInput(_field(obj, "language", str), _field(obj, "text", str), bool(obj.get("is_test", False)))


def decode_inputs(obj: Any) -> list[FunctionInput]:
    return [decode_input(item) for item in _field(obj, "items", list)]


# ---------------------------------------------------------------------- results
def encode_analysis(result: FunctionAnalysis) -> dict:
    return {
        "defect_score": result.defect_score,
        "line_scores": list(result.line_scores),
        "bug_line": result.bug_line,
        "flaky_score": result.flaky_score,
        "embedding": encode_array(result.embedding),
        "tokens": result.tokens,
        "truncated": result.truncated,
    }


def decode_analysis(obj: Any) -> FunctionAnalysis:
    flaky = obj.get("flaky_score") if isinstance(obj, dict) else None
    return FunctionAnalysis(
        defect_score=float(_field(obj, "defect_score", (int, float))),
        line_scores=tuple(float(x) for x in _field(obj, "line_scores", list)),
        bug_line=int(_field(obj, "bug_line", int)),
        flaky_score=float(flaky) if flaky is not None else None,
        embedding=decode_array(_field(obj, "embedding", dict)),
        tokens=int(obj.get("tokens", 0)),
        truncated=bool(obj.get("truncated", False)),
    )


def encode_note(note: ReviewNote) -> dict:
    return {"note": note.note, "fixed_line": note.fixed_line, "raw": note.raw}


def decode_note(obj: Any) -> ReviewNote:
    fixed = obj.get("fixed_line") if isinstance(obj, dict) else None
    return ReviewNote(_field(obj, "note", str), fixed if isinstance(fixed, str) else None, _field(obj, "raw", str))


# ---------------------------------------------------------------------- identity
def encode_identity(identity: ModelIdentity) -> dict:
    return asdict(identity)


def decode_identity(obj: Any) -> ModelIdentity:
    if not isinstance(obj, dict):
        raise WireError("missing model identity")
    try:
        return ModelIdentity(**{name: obj[name] for name in ModelIdentity.__dataclass_fields__})
    except KeyError as exc:
        raise WireError(f"model identity lacks {exc.args[0]!r}") from exc


def decode_manifest(obj: Any) -> Manifest:
    if not isinstance(obj, dict):
        raise WireError("missing adapter manifest")
    known = Manifest.__dataclass_fields__
    try:
        return Manifest(**{k: v for k, v in obj.items() if k in known})
    except TypeError as exc:
        raise WireError(f"invalid adapter manifest: {exc}") from exc


def envelope(identity: ModelIdentity, **payload: Any) -> dict:
    """Every response: API version and model identity beside the payload."""
    return {"api": API_VERSION, "identity": encode_identity(identity), **payload}
