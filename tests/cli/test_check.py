"""`manyskills check`: golden text / JSON / SARIF output (scores redacted) and exit codes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "check"
GOLDEN = Path(__file__).resolve().parent / "golden"


def run_check(*args: str, cwd: Path = FIXTURES) -> subprocess.CompletedProcess:
    # fp32 so the tiny model's choices do not depend on whether this CPU has native bf16.
    env = {**os.environ, "MANYSKILLS_DTYPE": "float32"}
    return subprocess.run([sys.executable, "-m", "manyskills", "check", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env=env)


def redact(text: str) -> str:
    text = re.sub(r"\d\.\d{2,4}", "<score>", text)
    return re.sub(r'"(path|adapter|model_path)": "[^"]*"', r'"\1": "<path>"', text)


def redact_json(report: dict) -> dict:
    report = json.loads(json.dumps(report))
    report["model"] = {k: "<redacted>" for k in report["model"]}
    for f in report["findings"]:
        assert 0.0 <= f["score"] <= 1.0
        f["score"] = "<score>"
        f["message"] = redact(f["message"])
    return report


UPDATE_GOLDEN = os.environ.get("MANYSKILLS_UPDATE_GOLDEN") == "1"


def check_golden(name: str, actual: str) -> None:
    """Compare with tests/cli/golden/NAME. A missing or different file fails; with
    MANYSKILLS_UPDATE_GOLDEN=1 the file is (re)written instead: review the diff before committing."""
    path = GOLDEN / name
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual)
    assert path.exists(), f"golden file {path} is missing; create it with MANYSKILLS_UPDATE_GOLDEN=1 and review it"
    assert actual == path.read_text()


def fixture_function_count() -> int:
    """How many functions `check` analyses in FIXTURES (indexing only, no model)."""
    from manyskills.analysis.files import iter_source_files
    from manyskills.analysis.scan import index_files
    from manyskills.settings import Settings

    settings = Settings()
    return sum(len(r.functions) for r in index_files(list(iter_source_files([FIXTURES], settings.languages)),
                                                     settings))


@pytest.fixture(scope="module")
def model_args(tiny_model_dir) -> list[str]:
    return ["--model", str(tiny_model_dir), "--device", "cpu"]


def test_json_shape_is_stable(model_args):
    done = run_check(".", "--format", "json", "--threshold", "0", "--skills", "defect", *model_args)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert set(report) == {"tool", "model", "files", "functions", "skipped", "findings"}
    assert report["tool"]["name"] == "manyskills"
    assert set(report["model"]) >= {"base", "adapter", "device"}
    assert report["files"] == 2
    # --threshold 0: one defect finding per analysed function.
    assert len(report["findings"]) == report["functions"]
    for f in report["findings"]:
        assert set(f) == {"path", "language", "function", "skill", "severity", "score", "message", "range",
                          "function_range", "fix"}
        assert f["skill"] == "defect" and f["severity"] == "warning"
        fr, r = f["function_range"], f["range"]
        assert fr["start"]["line"] <= r["start"]["line"] <= fr["end"]["line"]
    check_golden("check.json", json.dumps(redact_json(report), indent=2, sort_keys=True) + "\n")


def test_text_output(model_args):
    done = run_check(".", "--threshold", "0", "--skills", "defect", *model_args)
    assert done.returncode == 1
    lines = done.stdout.strip().split("\n")
    assert re.match(r"^\S+:\d+:\d+: defect Possible defect in `\S+` on this line .*\(\d\.\d\d\)$", lines[0])
    assert lines[-1].startswith("Found ") and "functions" in lines[-1]
    check_golden("check.txt", redact(done.stdout))


def test_sarif_output(model_args):
    done = run_check(".", "--format", "sarif", "--threshold", "0", "--skills", "defect", *model_args)
    assert done.returncode == 1, done.stderr
    sarif = json.loads(done.stdout)
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    run = sarif["runs"][0]
    assert run["tool"]["driver"]["name"] == "ManySkills"
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    # --threshold 0: a defect result for every function of the fixtures.
    assert len(run["results"]) == fixture_function_count() > 0
    assert {r["ruleId"] for r in run["results"]} == {"defect"}
    for result in run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
        assert not Path(result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]).is_absolute()


def test_no_findings_exit_zero(model_args):
    done = run_check("inventory.py", "--threshold", "1", "--skills", "defect", *model_args)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("Found 0 findings")


@pytest.mark.parametrize("args", [["--threshold", "2"], ["--skills", "telepathy"], ["missing.py"],
                                  ["--languages", "cobol"]])
def test_usage_errors_exit_two(args, model_args):
    done = run_check(*(args if args == ["missing.py"] else [".", *args]), *model_args)
    assert done.returncode == 2
    assert "manyskills check:" in done.stderr or "usage:" in done.stderr


def test_suppression_honoured_like_the_server(model_args, tmp_path):
    source = (FIXTURES / "inventory.py").read_text().replace(
        "def average_price(items):", "def average_price(items):  # manyskills: ignore[defect]")
    (tmp_path / "inventory.py").write_text(source)
    done = run_check(".", "--format", "json", "--threshold", "0", "--skills", "defect", *model_args, cwd=tmp_path)
    functions = {f["function"] for f in json.loads(done.stdout)["findings"]}
    assert "average_price" not in functions and "find_item" in functions


def test_bad_files_are_skipped_with_a_reason(model_args, tmp_path):
    (tmp_path / "binary.py").write_bytes(b"\x00\x01\x02def f(): pass")
    (tmp_path / "latin1.py").write_bytes("x = 'caf\xe9'\n".encode("latin-1"))
    (tmp_path / "ok.py").write_text("def f(x):\n    return x + 1\n")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "dep.js").write_text("function f() { return 1; }\n")
    done = run_check(".", "--format", "json", "--threshold", "0", *model_args, cwd=tmp_path)
    report = json.loads(done.stdout)
    skipped = {Path(s["path"]).name: s["reason"] for s in report["skipped"]}
    assert skipped == {"binary.py": "binary file", "latin1.py": skipped["latin1.py"]}
    assert "UTF-8" in skipped["latin1.py"]
    assert {f["path"] for f in report["findings"]} == {"ok.py"}


def test_text_output_shows_the_review_and_a_fix_only_when_there_is_one():
    """`check --review` in text: the note under its finding; a fix line only for a repair that passed."""
    from manyskills.cli.check import to_text

    def finding(line, note, fix):
        return {"path": "a.py", "skill": "defect", "message": "Possible defect in `f` on this line", "score": 0.9,
                "range": {"start": {"line": line, "character": 4}}, "note": note, "fix": fix}

    fix = {"range": {"start": {"line": 3, "character": 0}}, "new_text": "    return a + b",
           "description": "`-` → `+`"}
    report = {"files": 1, "functions": 2, "findings": [finding(3, "`-` here probably should be `+`.", fix),
                                                       finding(9, "No edit passed.", None)]}
    assert to_text(report).split("\n") == [
        "a.py:4:5: defect Possible defect in `f` on this line (0.90)",
        "    note: `-` here probably should be `+`.",
        "    fix (`-` → `+`), line 4: return a + b",
        "a.py:10:5: defect Possible defect in `f` on this line (0.90)",
        "    note: No edit passed.",
        "Found 2 findings in 1 files (2 functions).",
    ]
