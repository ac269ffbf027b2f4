"""The defect score as a probability, from the calibration an adapter's manifest carries.

The defect head's score ranks functions; it is not a probability anyone can act on (it was trained
on balanced buggy/clean pairs, so it says nothing about how often code is buggy). `manyskills
calibrate` (training/operating_point.py) fits a Platt map on validation data and stores it in the
manifest as `calibration["defect"]`:

    {"kind": "platt", "a": ..., "b": ..., "base_rate": ..., ...}

    P(the function has a bug | score) = sigmoid(a * logit(score) + b)

under `base_rate`, the share of functions assumed to contain a bug before the model is asked. An
adapter without that entry (or with one this version cannot read) has no probability: callers then
show the raw score only. The threshold that decides warnings (`thresholds["defect"]`) stays a raw-score
threshold; the map is monotonic, so it never changes which functions are warned about.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

PLATT = "platt"
SCORE_EPSILON = 1e-7  # scores are clipped into [eps, 1 - eps] before the logit (a bf16 score can be exactly 1.0)


def logit(p: float) -> float:
    """log(p / (1 - p)) of a score clipped away from 0 and 1; the one definition the fit and its use share."""
    p = min(max(p, SCORE_EPSILON), 1 - SCORE_EPSILON)
    return math.log(p / (1 - p))


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def platt_parameters(calibration: Any) -> tuple[float, float] | None:
    """(a, b) of a Platt calibration entry, or None when the entry is absent or not one this version reads."""
    if not isinstance(calibration, Mapping) or calibration.get("kind") != PLATT:
        return None
    a, b = calibration.get("a"), calibration.get("b")
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return None
    if not (math.isfinite(a) and math.isfinite(b)):
        return None
    return float(a), float(b)


def defect_probability(score: float, calibration: Any) -> float | None:
    """P(this function has a bug | its defect score) under the calibration's base rate, or None when
    there is no usable calibration (an adapter calibrated before this existed, a newer kind)."""
    params = platt_parameters(calibration)
    if params is None or not isinstance(score, (int, float)) or not math.isfinite(score):
        return None
    a, b = params
    return sigmoid(a * logit(float(score)) + b)
