"""Real Emacs (batch) + eglot as the LSP client, configured with the README's "Emacs (eglot)" snippet.

The Elisp side (eglot_client.el) opens a Python file, waits for flymake diagnostics, lists code actions
and runs "Explain" and "ignore here" through eglot's code-action menu; or searches the workspace with
`xref-find-apropos` (workspace/symbol). These tests assert on its JSON.
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

EMACS = shutil.which("emacs")


def eglot_available() -> bool:
    if EMACS is None:
        return False
    probe = ('(progn (dolist (d (file-expand-wildcards "/usr/share/emacs/site-lisp/elpa/*"))'
             ' (add-to-list (quote load-path) d)) (require (quote eglot)))')
    try:
        return subprocess.run([EMACS, "--batch", "-Q", "--eval", probe], check=False, capture_output=True,
                              timeout=30).returncode == 0
    except subprocess.TimeoutExpired:
        return False


pytestmark = pytest.mark.skipif(
    not eglot_available(), reason="emacs with eglot not installed (apt-get install emacs-nox elpa-eglot)")


def run_emacs(project, tmp_path, **extra_env: str) -> tuple[EditorRun, str]:
    """Emacs with the README's snippet on the project's example.py, driven by eglot_client.el."""
    config = tmp_path / "readme_config.el"
    config.write_text(readme_snippet("Emacs (eglot)", "elisp"), encoding="utf-8")
    result_path = tmp_path / "eglot-result.json"
    env = editor_env(tmp_path, MANYSKILLS_RESULT=str(result_path),
                     MANYSKILLS_FILE=str(project / "example.py"), MANYSKILLS_EMACS_CONFIG=str(config),
                     MANYSKILLS_SETTINGS=json.dumps(settings()),
                     MANYSKILLS_TIMEOUT_MS=str(CLIENT_WAIT_MS), MANYSKILLS_EXPECTED_DIAGNOSTICS="2", **extra_env)
    run = run_editor([EMACS, "--batch", "-Q", "-l", str(HERE / "eglot_client.el")],
                     env=env, cwd=project, result_path=result_path)
    return run, run.explain()


@pytest.mark.realmodel
def test_eglot_diagnostics_code_actions_and_ignore(seeded_project, embedded_model, tmp_path):
    run, why = run_emacs(seeded_project, tmp_path)
    result = run.result
    assert result is not None and "error" not in result and run.returncode == 0, why

    assert result["server_command"] == ["manyskills", "serve"], why  # the README's command, found on PATH
    assert result["readme_has_manyskills_section"] is True, why
    assert result["major_mode"] == "python-mode"
    diags = result["diagnostics"]
    assert len(diags) == len(SEEDED_FUNCTIONS), why
    for d, name in zip(diags, ["average", "greet"]):  # sorted by line
        # eglot's flymake text is "SOURCE [CODE]: MESSAGE"
        prefix = f"manyskills [defect]: Possible defect in `{name}` on this line (score "
        assert d["text"].startswith(prefix), why

    line = result["flagged_line"]
    assert result["action_titles"] == ["ManySkills: Explain possible defect in `average`",
                                       f"ManySkills: Apply suggested fix to line {line + 1}",
                                       "ManySkills: ignore here"], why
    # eglot 1.9 advertises no codeAction resolveSupport: the lazy actions carry commands instead.
    assert result["action_commands"] == ["manyskills.showNote", "manyskills.applyFix", ""], why
    explain = result["explain_messages"]
    assert len(explain) == 1 and "Possible defect in `average`" in explain[0] and "score" in explain[0], why

    assert result["final_line"] == result["flagged_text"] + "  # manyskills: ignore[defect]", why
    assert result["unflagged"] is True, why
    assert all(d["line"] != line for d in result["diagnostics_after"]) and result["diagnostics_after"], why
    assert result["messages"] == explain, why  # no settings warnings, no model-load errors
    timings = {k: v for k, v in result.items() if k.endswith("_ms")}
    print(f"eglot timings (ms): {timings}; total {run.seconds:.1f}s")


@pytest.mark.realmodel
def test_eglot_workspace_symbol(seeded_project, embedded_model, tmp_path):
    """`xref-find-apropos` (C-M-.), which eglot answers with workspace/symbol: a name prefix, a
    description (semantic search) and a prefix in a file never opened, each matched first at its file
    and line."""
    run, why = run_emacs(seeded_project, tmp_path, MANYSKILLS_SYMBOL_QUERIES=symbol_queries_env())
    result = run.result
    assert result is not None and "error" not in result and run.returncode == 0, why
    check_symbol_results(result["symbols"], seeded_project, why)
    assert result["messages"] == [], why  # no settings warnings, no model-load errors
    timings = {k: v for k, v in result.items() if k.endswith("_ms")}
    print(f"eglot workspace/symbol timings (ms): {timings}; total {run.seconds:.1f}s")
