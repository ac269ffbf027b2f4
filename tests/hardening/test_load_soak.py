"""Slow suite: a short run of the load and soak benchmarks with their invariants asserted (the
numbers themselves are reported by bench/load.py and bench/soak.py, never asserted as timings)."""

from __future__ import annotations

import sys

import pytest

from harness.raw_lsp import REPO

sys.path.insert(0, str(REPO / "bench"))


@pytest.mark.slow
def test_load_bursts_latest_version_wins_and_queue_stays_bounded(tiny_model_dir, tmp_path):
    from load import run_load

    result = run_load(str(tiny_model_dir), bursts=2, rate=1000, docs=3, functions=15, scan_files=20,
                      log=tmp_path / "server.log")
    print(result)
    assert result["latest_version_mismatches"] == 0
    # Stale runs are cancelled: the queue never holds more than a few jobs per document, and the model
    # saw far fewer functions than (changes x functions) a naive server would analyse.
    assert result["queue"]["max"] <= 3 * result["documents"] + 2
    assert result["functions_analysed_during_load"] < result["changes_sent"] * result["functions_per_document"] / 10
    assert result["scan"]["files"] == 20


@pytest.mark.slow
def test_soak_keeps_caches_bounded(tiny_model_dir, tmp_path):
    from soak import soak

    result = soak(str(tiny_model_dir), minutes=2, cache_size=100, docs=2, functions=20, sample_every=10,
                  log=tmp_path / "server.log")
    print({k: v for k, v in result.items() if k != "samples"})
    assert result["cycles"] >= 2
    assert result["cache_bounded"] and result["cache_entries_max"] <= 100
    assert result["documents_open_at_end"] == 0


@pytest.mark.slow
def test_probe_cycles_leave_no_python_objects_behind(tiny_model_dir):
    """Between two points after warm-up, open/edit/close cycles must not add live Python objects
    (before the fixes: +1,550 per cycle, tree-sitter match lists and pygls notification futures)."""
    from memory_probe import probe

    result = probe(str(tiny_model_dir), warmup=4, cycles=12, cache_size=100, docs=2, functions=10, frames=0, top=10)
    print({k: v for k, v in result.items() if k not in ("rss_curve", "python_growth_by_traceback")})
    grown = result["gc_objects"]["b"] - result["gc_objects"]["a"]
    assert result["cache_entries"] <= 100
    # A snapshot can catch a few hundred objects of work in flight; the leaks were ~560 per cycle here.
    assert grown < 40 * result["cycles"], result["type_growth"]
