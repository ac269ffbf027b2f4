"""Shared pieces of the real-editor tests (Neovim, Emacs/eglot): seeded file, README snippets, runs."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from manyskills.model.paths import cache_root

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

# `average` reads one element past the end (range(len(xs) + 1)). With threshold 0 both functions are
# flagged whatever the (random, tiny) model thinks, so the tests do not depend on model quality.
SEEDED_SOURCE = '''def average(xs):
    total = 0
    for i in range(len(xs) + 1):
        total += xs[i]
    return total / len(xs)


def greet(name):
    if name is None:
        return "hello"
    return "hello " + name.upper()
'''
SEEDED_FUNCTIONS = {"average", "greet"}
# A file of the same project that the editor never opens: workspace/symbol must find its functions
# (the first description scans the workspace). Distinctive names, so each query has one right answer.
UNOPENED_FILE = "ledger.py"
UNOPENED_SOURCE = '''import json


def load_ledger_entries(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def settle_invoice_balance(invoice, payments):
    paid = sum(payment["amount"] for payment in payments)
    return invoice["total"] - paid
'''
# workspace/symbol queries as a user types them, with the function each must put first and its line
# (1-based, as editors show it): a name prefix in the open file, a description (three or more words:
# semantic search) of a function in the unopened file, then a name prefix there.
SYMBOL_QUERIES = {
    "gre": ("greet", "example.py", 8),
    "remaining balance of an invoice after payments": ("settle_invoice_balance", UNOPENED_FILE, 9),
    "settle_inv": ("settle_invoice_balance", UNOPENED_FILE, 9),
}
# A loaded machine (a training run beside the suite) can take minutes to load the model:
# MANYSKILLS_EDITOR_TIMEOUT_SCALE stretches every wait.
_TIMEOUT_SCALE = float(os.environ.get("MANYSKILLS_EDITOR_TIMEOUT_SCALE", "1"))
EDITOR_TIMEOUT_S = 150 * _TIMEOUT_SCALE  # hard limit per editor process (killed with its process group after this)
CLIENT_WAIT_MS = int(40_000 * _TIMEOUT_SCALE)  # each wait inside the editor script


def settings() -> dict:
    """The real default model (embedded base + shipped adapter); threshold 0 flags every function."""
    return {"threshold": 0.0, "debounceMs": 50, "skills": {"clone": False}}


def readme_snippet(heading: str, language: str) -> str:
    """The first ```language block under the README heading `### heading`."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    pattern = rf"^### {re.escape(heading)}\s*$.*?^```{language}\n(.*?)^```"
    match = re.search(pattern, text, re.MULTILINE | re.DOTALL)
    assert match, f"README has no ```{language} block under '### {heading}'"
    return match.group(1)


@pytest.fixture
def seeded_project(tmp_path) -> Path:
    """A tiny project (with a .git marker, like a real checkout): the seeded file, and one never opened."""
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    (project / "example.py").write_text(SEEDED_SOURCE, encoding="utf-8")
    (project / UNOPENED_FILE).write_text(UNOPENED_SOURCE, encoding="utf-8")
    return project


def symbol_queries_env() -> str:
    """The queries for the editor script, in order (a JSON list)."""
    return json.dumps(list(SYMBOL_QUERIES))


def check_symbol_results(found: dict, project: Path, why: str) -> None:
    """Each query's first result is its expected function, at the right file and line."""
    assert set(found) == set(SYMBOL_QUERIES), why
    for query, (name, file, line) in SYMBOL_QUERIES.items():
        results = found[query]
        assert results, f"no results for {query!r}\n{why}"
        first = results[0]
        assert (first["name"], Path(first["file"]).resolve(), first["line"]) == \
            (name, (project / file).resolve(), line), f"{query!r}: {results}\n{why}"


def editor_env(tmp_path: Path, **extra: str) -> dict:
    """Isolated HOME/XDG dirs, and the venv's bin first on PATH so the README's `manyskills serve` runs."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
           "XDG_CACHE_HOME": str(home / ".cache"), "XDG_DATA_HOME": str(home / ".local/share"),
           "XDG_STATE_HOME": str(home / ".local/state"), "HF_HUB_OFFLINE": "1",
           # The editor gets a fresh HOME, but the converted base model stays where the suite keeps it.
           "MANYSKILLS_CACHE_DIR": str(cache_root()),
           "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")}
    env.update(extra)
    return env


@dataclass
class EditorRun:
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    result: dict | None

    def explain(self, *logs: Path) -> str:
        parts = [f"rc={self.returncode} after {self.seconds:.1f}s", f"stdout:\n{self.stdout[-3000:]}",
                 f"stderr:\n{self.stderr[-3000:]}", f"result: {json.dumps(self.result, indent=1)}"]
        for log in logs:
            if log.exists():
                parts.append(f"{log.name}:\n{log.read_text(errors='replace')[-4000:]}")
        return "\n".join(parts)


def run_editor(argv: list[str], env: dict, cwd: Path, result_path: Path,
               timeout: float = EDITOR_TIMEOUT_S) -> EditorRun:
    """Run an editor in its own process group; on timeout kill the group (editor and server)."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        stderr += f"\n[killed after {timeout}s]"
    finally:
        try:  # a server the editor failed to stop must not outlive the test
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    result = json.loads(result_path.read_text()) if result_path.exists() else None
    return EditorRun(proc.returncode, stdout, stderr, time.monotonic() - start, result)
