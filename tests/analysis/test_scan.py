"""The one path from files to findings (analysis/analyzer.py + scan.py) on the real tiny model and
the real engine: deduplication, the result cache, best clone across files, skipped files, and the
JSON/SARIF report `manyskills check` builds from it."""

from __future__ import annotations

import attrs
import pytest
from manyskills.analysis.analyzer import Analyzer
from manyskills.analysis.files import iter_source_files
from manyskills.analysis.scan import scan_files
from manyskills.index.functions import index_functions
from manyskills.model.engine import ModelEngine
from manyskills.settings import Settings, SkillToggles

SHARED = "def accumulate(values):\n    total = 0\n    for value in values:\n        total += value\n    return total\n"
CLONES_ONLY = Settings(threshold=0.5, flaky_threshold=0.5, skills=SkillToggles(defect=False, flaky=False))


@pytest.fixture(scope="module")
def engine(tiny_model_dir):
    from manyskills.model.runtime import LocalRuntime

    engine = ModelEngine(lambda progress: LocalRuntime.load(str(tiny_model_dir), None, "cpu", progress))
    engine.start()
    assert engine.wait_ready(600) and engine.status.state == "ready"
    yield engine
    engine.shutdown(wait=60)


@pytest.fixture
def project(tmp_path):
    (tmp_path / "a.py").write_text(SHARED + "\n\ndef other(x):\n    return x * 3\n")
    (tmp_path / "b.py").write_text("import os\n\n\n" + SHARED)
    (tmp_path / "c.py").write_text("def short(x):\n    return x\n" + "\x00")
    return tmp_path


def test_cached_deduplicates_and_serves_repeats_from_the_cache(engine):
    analyzer = Analyzer(engine, cache_size=100)
    functions = index_functions("python", SHARED + "\n\n" + SHARED + "\n\ndef g(x):\n    return x\n")
    assert len(functions) == 3
    hits, misses = analyzer.cached(functions)
    assert hits == {} and misses == [functions[0], functions[2]]  # the copy goes to the model once
    before = engine.functions_analysed
    results = analyzer.submit(misses).result(timeout=600)
    assert set(results) == {functions[0].content_hash, functions[2].content_hash}
    assert engine.functions_analysed - before == 2
    hits, misses = analyzer.cached(functions)
    assert misses == [] and set(hits) == set(results) and analyzer.cache.hits == 2
    analyzer.cache.resize(1)  # the least recently used result drops out
    hits, misses = analyzer.cached(functions)
    assert len(hits) == 1 and len(misses) == 1


def test_effective_fills_only_the_thresholds_left_to_the_adapter(engine):
    analyzer = Analyzer(engine, cache_size=10)
    calibrated = engine.backend.manifest.thresholds
    filled = analyzer.effective(Settings(threshold=None, flaky_threshold=0.3))
    assert filled.threshold == calibrated.get("defect", 0.5) and filled.flaky_threshold == 0.3
    explicit = Settings(threshold=0.9, flaky_threshold=0.8)
    assert analyzer.effective(explicit) is explicit


def test_a_scan_finds_the_clone_across_files_and_reports_skipped_ones(engine, project):
    analyzer = Analyzer(engine, cache_size=100)
    files = list(iter_source_files([project], ["python"]))
    progress: list[tuple[int, int]] = []
    before = engine.functions_analysed
    results = scan_files(analyzer, files, CLONES_ONLY, on_progress=lambda done, total: progress.append((done, total)))
    assert [r.path.name for r in results] == ["a.py", "b.py", "c.py"]
    assert results[2].skipped == "binary file" and results[2].functions == []
    assert engine.functions_analysed - before == 2  # accumulate (twice) and other
    assert progress[-1] == (3, 3)
    (in_a,), (in_b,) = results[0].findings, results[1].findings
    assert in_a.skill == in_b.skill == "clone" and in_a.score == pytest.approx(1.0, abs=1e-4)
    assert in_a.related[0].path == str(project / "b.py") and in_b.related[0].path == str(project / "a.py")
    assert in_b.span.start.line == 3  # the line that names the function in b.py
    again = scan_files(analyzer, files, CLONES_ONLY)
    assert engine.functions_analysed - before == 2  # everything from the cache
    assert [len(r.findings) for r in again] == [1, 1, 0]
    no_clones = scan_files(analyzer, files, attrs.evolve(CLONES_ONLY, skills=SkillToggles(defect=False, flaky=False,
                                                                                             clone=False)))
    assert all(r.findings == [] for r in no_clones)


def test_the_report_and_sarif_carry_every_finding_and_skip(engine, project):
    from manyskills.cli.check import build_report, to_sarif, to_text

    results = scan_files(Analyzer(engine, 100), list(iter_source_files([project], ["python"])), CLONES_ONLY)
    report = build_report(results, engine.backend.identity, {})
    assert report["files"] == 3 and report["functions"] == 3
    assert report["skipped"] == [{"path": str(project / "c.py"), "reason": "binary file"}]
    first, second = report["findings"]
    assert (first["path"], first["function"], first["skill"], first["severity"]) == (
        str(project / "a.py"), "accumulate", "clone", "information")
    assert first["range"]["start"] == {"line": 0, "character": 0} and first["fix"] is None
    assert first["related"][0]["path"] == str(project / "b.py") and first["related"][0]["function"] == "accumulate"
    assert second["range"]["start"]["line"] == 3
    assert to_text(report).splitlines()[-1] == "Found 2 findings in 3 files (3 functions)."

    sarif = to_sarif(report)
    run = sarif["runs"][0]
    assert sarif["version"] == "2.1.0" and [r["id"] for r in run["tool"]["driver"]["rules"]] == [
        "defect", "flaky", "clone"]
    assert len(run["results"]) == 2
    result = run["results"][1]
    assert result["ruleId"] == "clone" and result["ruleIndex"] == 2 and result["level"] == "note"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == (project / "b.py").as_posix()
    assert location["region"]["startLine"] == 4 and location["region"]["startColumn"] == 1  # 1-based
    assert result["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        project / "a.py").as_posix()
