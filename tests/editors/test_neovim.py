"""Real Neovim (headless, 0.7+) as the LSP client, configured with the README's "Neovim 0.7–0.10" snippet.

The Lua side (neovim_client.lua) does what a user does: open a Python file, get diagnostics, list code
actions, resolve "Explain", apply "ignore here"; or search the workspace's symbols. These tests assert
on the JSON it writes.
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
    EditorRun,
    check_symbol_results,
    editor_env,
    readme_snippet,
    run_editor,
    seeded_project,
    settings,
    symbol_queries_env,
)

__all__ = ["seeded_project"]  # fixture

NVIM = shutil.which("nvim")
pytestmark = pytest.mark.skipif(NVIM is None, reason="nvim not installed (apt-get install neovim)")


def nvim_version() -> tuple[int, ...]:
    out = subprocess.run([NVIM, "--version"], check=False, capture_output=True, text=True, timeout=10).stdout
    first = out.split("\n")[0]  # "NVIM v0.7.2"
    return tuple(int(p) for p in first.split("v")[-1].split("-")[0].split(".")[:2])


def run_nvim(project, tmp_path, **extra_env: str) -> tuple[EditorRun, str]:
    """Neovim with the README's snippet on the project's example.py, driven by neovim_client.lua."""
    if nvim_version() < (0, 7):
        pytest.skip(f"the README's snippet needs Neovim >= 0.7, found {nvim_version()}")
    config = tmp_path / "readme_config.lua"
    config.write_text(readme_snippet("Neovim 0.7–0.10", "lua"), encoding="utf-8")
    result_path = tmp_path / "nvim-result.json"
    env = editor_env(tmp_path, MANYSKILLS_RESULT=str(result_path),
                     MANYSKILLS_FILE=str(project / "example.py"), MANYSKILLS_NVIM_CONFIG=str(config),
                     MANYSKILLS_SETTINGS=json.dumps(settings()),
                     MANYSKILLS_TIMEOUT_MS=str(CLIENT_WAIT_MS), MANYSKILLS_EXPECTED_DIAGNOSTICS="2", **extra_env)
    run = run_editor([NVIM, "--headless", "-u", "NONE", "-i", "NONE", "-n",
                      "-c", f"luafile {HERE / 'neovim_client.lua'}"],
                     env=env, cwd=project, result_path=result_path)
    return run, run.explain(tmp_path / "home/.cache/nvim/lsp.log")


@pytest.mark.realmodel
def test_neovim_diagnostics_code_actions_and_ignore(seeded_project, embedded_model, tmp_path):
    second = seeded_project / "other.py"
    second.write_text("def other(a, b):\n    return a - b\n", encoding="utf-8")
    run, why = run_nvim(seeded_project, tmp_path, MANYSKILLS_SECOND_FILE=str(second))
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


@pytest.mark.realmodel
def test_neovim_workspace_symbol(seeded_project, embedded_model, tmp_path):
    """`vim.lsp.buf.workspace_symbol` (the request behind Telescope's lsp_workspace_symbols): a name
    prefix, a description (semantic search) and a prefix in a file never opened, each listed first in
    the quickfix window at its file and line."""
    run, why = run_nvim(seeded_project, tmp_path, MANYSKILLS_SYMBOL_QUERIES=symbol_queries_env())
    result = run.result
    assert result is not None and "error" not in result and run.returncode == 0, why
    check_symbol_results(result["symbols"], seeded_project, why)
    assert result["notifications"] == [], why  # no "No symbols found", no request error
    print(f"neovim workspace/symbol timings (ms): {result['timings_ms']}; total {run.seconds:.1f}s")
