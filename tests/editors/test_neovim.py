"""Real Neovim (headless, 0.7+) as the LSP client, configured with the README's "Neovim 0.7–0.10" snippet.

The Lua side (neovim_client.lua) does what a user does: open a Python file, get diagnostics, list code
actions, resolve "Explain", apply "ignore here"; this test asserts on the JSON it writes.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from editor_support import (
    CLIENT_WAIT_MS,
    HERE,
    SEEDED_FUNCTIONS,
    editor_env,
    readme_snippet,
    run_editor,
    seeded_project,
    settings,
)

__all__ = ["seeded_project"]  # fixture

NVIM = shutil.which("nvim")
pytestmark = pytest.mark.skipif(NVIM is None, reason="nvim not installed (apt-get install neovim)")


def nvim_version() -> tuple[int, ...]:
    out = subprocess.run([NVIM, "--version"], check=False, capture_output=True, text=True, timeout=10).stdout
    first = out.split("\n")[0]  # "NVIM v0.7.2"
    return tuple(int(p) for p in first.split("v")[-1].split("-")[0].split(".")[:2])


@pytest.mark.realmodel
def test_neovim_diagnostics_code_actions_and_ignore(seeded_project, embedded_model, tmp_path):
    if nvim_version() < (0, 7):
        pytest.skip(f"the README's snippet needs Neovim >= 0.7, found {nvim_version()}")
    config = tmp_path / "readme_config.lua"
    config.write_text(readme_snippet("Neovim 0.7–0.10", "lua"), encoding="utf-8")
    result_path = tmp_path / "nvim-result.json"
    second = seeded_project / "other.py"
    second.write_text("def other(a, b):\n    return a - b\n", encoding="utf-8")
    env = editor_env(tmp_path, MANYSKILLS_RESULT=str(result_path),
                     MANYSKILLS_FILE=str(seeded_project / "example.py"), MANYSKILLS_NVIM_CONFIG=str(config),
                     MANYSKILLS_SETTINGS=json.dumps(settings()),
                     MANYSKILLS_TIMEOUT_MS=str(CLIENT_WAIT_MS), MANYSKILLS_EXPECTED_DIAGNOSTICS="2",
                     MANYSKILLS_SECOND_FILE=str(second))
    run = run_editor([NVIM, "--headless", "-u", "NONE", "-i", "NONE", "-n",
                      "-c", f"luafile {HERE / 'neovim_client.lua'}"],
                     env=env, cwd=seeded_project, result_path=result_path)
    lsp_log = tmp_path / "home/.cache/nvim/lsp.log"
    why = run.explain(lsp_log)
    result = run.result
    assert result is not None and "error" not in result and run.returncode == 0, why

    assert result["cmd"] == ["manyskills", "serve"], why  # the README's command, found on PATH
    # Neovim 0.7 does not advertise workspace/configuration nor send `settings`: the snippet must pass
    # init_options too, or the server silently runs with defaults (and loads the embedded model).
    assert result.get("passes_init_options"), why
    assert result["filetype"] == "python"
    diags = result["diagnostics"]
    assert {d["function"] for d in diags} == SEEDED_FUNCTIONS, why
    for d in diags:
        assert d["code"] == "defect", why
        assert d["message"].startswith(f"Possible defect in `{d['function']}` on this line"), why
        assert "score" in d["message"]

    titles = result["action_titles"]
    flagged = next(d for d in diags if d["lnum"] == result["flagged_line"])
    assert titles == [f"ManySkills: Explain possible defect in `{flagged['function']}`",
                      f"ManySkills: Apply suggested fix to line {result['flagged_line'] + 1}",
                      "ManySkills: ignore here"], why

    assert result["explain_lazy"], why  # Neovim advertises resolveSupport: no command until resolved
    assert result["resolved"]["command"] == "manyskills.showNote", why
    assert "score" in result["resolved"]["message"], why

    assert result["changed"], why
    assert result["final_line"] == result["flagged_text"] + "  # manyskills: ignore[defect]", why
    assert result["unflagged"], why  # a publish for the edited version no longer flags the line
    assert all(d["lnum"] != result["flagged_line"] for d in result["diagnostics_after"]), why
    # The second file is served by the same server process (the snippet must not start one per buffer).
    assert result["second_file"] == {"start_client_calls": 1, "same_client": True, "active_clients": 1,
                                     "diagnostics": 1}, why
    assert not [m for m in result["messages"] if "settings" in m or "could not be loaded" in m], why
    print(f"neovim timings (ms): {result['timings_ms']}; total {run.seconds:.1f}s")
