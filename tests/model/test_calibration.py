"""The defect score read as a probability (model/calibration.py) and the manifest that carries the map."""

from __future__ import annotations

import json
import math

import pytest
from manyskills.model.adapter import AdapterError, Manifest, update_manifest
from manyskills.model.calibration import defect_probability, logit, sigmoid
from manyskills.model.paths import MANIFEST_FILE

PLATT = {"kind": "platt", "a": 2.0, "b": -3.0, "base_rate": 0.05}


def test_probability_is_the_platt_map_of_the_score():
    for score in (0.01, 0.3, 0.5, 0.81, 0.99):
        expected = 1 / (1 + math.exp(-(2.0 * math.log(score / (1 - score)) - 3.0)))
        assert defect_probability(score, PLATT) == pytest.approx(expected, rel=1e-12)
    # identity parameters give the score back; the map is increasing for a > 0
    assert defect_probability(0.37, {"kind": "platt", "a": 1, "b": 0}) == pytest.approx(0.37)
    values = [defect_probability(s / 100, PLATT) for s in range(1, 100)]
    assert values == sorted(values) and len(set(values)) == len(values)


def test_scores_at_the_ends_stay_finite():
    assert 0.0 < defect_probability(0.0, PLATT) < defect_probability(1e-3, PLATT)
    assert defect_probability(1e-3, PLATT) < defect_probability(1.0, PLATT) < 1.0
    assert logit(1.0) == pytest.approx(-logit(0.0)) and math.isfinite(logit(1.0))
    assert sigmoid(-800.0) == 0.0 and sigmoid(800.0) == 1.0  # no overflow either way


@pytest.mark.parametrize("calibration", [
    None, {}, [], "platt", {"kind": "isotonic", "a": 1.0, "b": 0.0}, {"kind": "platt", "a": 1.0},
    {"kind": "platt", "a": "1", "b": 0.0}, {"kind": "platt", "a": True, "b": 0.0},
    {"kind": "platt", "a": float("nan"), "b": 0.0}, {"kind": "platt", "a": 1.0, "b": float("inf")},
])
def test_no_usable_calibration_means_no_probability(calibration):
    assert defect_probability(0.8, calibration) is None


def test_a_non_finite_score_has_no_probability():
    assert defect_probability(float("nan"), PLATT) is None


def _write_manifest(directory, **extra) -> None:
    manifest = Manifest(base_name="tiny", base_sha256="f" * 64)
    raw = json.loads(manifest.to_json())
    raw.update(extra)
    (directory / MANIFEST_FILE).write_text(json.dumps(raw))


def test_manifest_round_trips_the_calibration(tmp_path):
    manifest = Manifest(base_name="tiny", base_sha256="f" * 64, calibration={"defect": PLATT})
    (tmp_path / MANIFEST_FILE).write_text(manifest.to_json())
    loaded = Manifest.load(tmp_path)
    assert loaded.calibration == {"defect": PLATT} and loaded == manifest


def test_a_manifest_without_calibration_still_loads(tmp_path):
    _write_manifest(tmp_path)
    raw = json.loads((tmp_path / MANIFEST_FILE).read_text())
    del raw["calibration"]  # written before the field existed
    (tmp_path / MANIFEST_FILE).write_text(json.dumps(raw))
    loaded = Manifest.load(tmp_path)
    assert loaded.calibration == {} and defect_probability(0.9, loaded.calibration.get("defect")) is None


def test_update_manifest_sets_fields_and_keeps_unknown_keys(tmp_path):
    _write_manifest(tmp_path, from_a_newer_version={"kept": True})
    updated = update_manifest(tmp_path, thresholds={"defect": 0.83, "flaky": 0.5, "clone": 0.95},
                              calibration={"defect": PLATT})
    raw = json.loads((tmp_path / MANIFEST_FILE).read_text())
    assert raw["from_a_newer_version"] == {"kept": True}
    assert raw["thresholds"]["defect"] == 0.83 and raw["calibration"] == {"defect": PLATT}
    assert Manifest.load(tmp_path) == updated and updated.thresholds["defect"] == 0.83
    assert not list(tmp_path.glob("*.tmp"))


def test_update_manifest_refuses_unknown_fields_and_unreadable_manifests(tmp_path):
    _write_manifest(tmp_path)
    before = (tmp_path / MANIFEST_FILE).read_text()
    with pytest.raises(AdapterError, match="not manifest fields"):
        update_manifest(tmp_path, thresold={"defect": 0.5})
    assert (tmp_path / MANIFEST_FILE).read_text() == before
    with pytest.raises(AdapterError, match="not a ManySkills adapter"):
        update_manifest(tmp_path / "missing", calibration={})
