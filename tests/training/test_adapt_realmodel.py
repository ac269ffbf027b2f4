"""`manyskills adapt --evaluate` end to end on a git repository built here, with the real embedded base,
then the project adapter picked up (and refused when broken) the way `check` and the server load it."""

from __future__ import annotations

import json
import subprocess

import pytest
from manyskills.cli.main import main
from manyskills.model.paths import shipped_adapter_dir
from manyskills.training.adapt import decide

from harness.adapt_repo import FIXES, build_repo


@pytest.mark.realmodel
def test_adapt_evaluate_end_to_end_and_pick_up(tmp_path, capsys, embedded_model):
    repo = build_repo(tmp_path / "shop")
    rc = main(["adapt", str(repo), "--evaluate", "--minutes", "0.4"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "mined 8 fix pairs" in err and "training on" in err  # progress on stderr
    assert "pairwise buggy>fixed" in out and "project adapter written" in out

    adapter = repo / ".manyskills" / "adapter"
    manifest = json.loads((adapter / "manyskills.json").read_text())
    shipped = json.loads((shipped_adapter_dir() / "manyskills.json").read_text())
    project = manifest["training"]["project"]
    assert manifest["base_sha256"] == shipped["base_sha256"] == embedded_model.sha256
    assert project["extends"]["path"] == str(shipped_adapter_dir())
    # time split: 8 fix commits, the 2 most recent held out, training only on the 6 older ones
    assert project["counts"]["fix_pairs"] == len(FIXES) == 8
    assert (project["counts"]["train_pairs"], project["counts"]["heldout_pairs"]) == (6, 2)
    assert project["commit_range"]["last_date"] < project["heldout_range"]["first_date"]
    assert project["heldout_range"]["last_date"].startswith("2024-01-09")
    assert project["steps"] >= 1
    evaluation = project["evaluation"]
    for side in ("shipped", "project"):
        assert evaluation[side]["heldout_pairs"] == 2
        assert 0.0 <= evaluation[side]["pairwise"] <= 1.0 and 0.0 <= evaluation[side]["auroc"] <= 1.0
    assert evaluation["shipped"]["threshold"] == shipped["thresholds"]["defect"]
    assert (project["active"], project["reason"]) == decide(evaluation["shipped"], evaluation["project"])
    assert (repo / ".manyskills" / ".gitignore").read_text() == "*\n"
    status = subprocess.run(["git", "status", "--porcelain"], check=True, cwd=repo, capture_output=True,
                            text=True).stdout
    assert status == ""  # nothing of .manyskills/ shows up to be committed

    # pick-up: an active project adapter is loaded for the project ...
    from manyskills.service.backends import backend_loader
    from manyskills.settings import Settings

    manifest["training"]["project"]["active"] = True
    (adapter / "manyskills.json").write_text(json.dumps(manifest))
    messages: list[str] = []
    load = backend_loader(Settings(device="cpu"), lambda level, m: messages.append(m), lambda: repo)
    runtime = load(lambda *a: None)
    assert runtime.identity.adapter_path == str(adapter) and messages == []
    # ... and a broken one falls back to the shipped adapter, saying why
    (adapter / "adapter_model.safetensors").write_bytes(b"not safetensors")
    runtime = load(lambda *a: None)
    assert runtime.identity.adapter_path == str(shipped_adapter_dir())
    assert len(messages) == 1 and "cannot be used" in messages[0] and "falling back" in messages[0]
