"""A small git repository with a handful of one-line fix commits in Python, for `manyskills adapt`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

# (function name, buggy body line, fixed body line); each becomes one "fix ..." commit
FIXES = [
    ("clamp", "    return max(lo, min(value, lo))", "    return max(lo, min(value, hi))"),
    ("last_item", "    return items[len(items)]", "    return items[len(items) - 1]"),
    ("is_even", "    return number % 2 == 1", "    return number % 2 == 0"),
    ("average", "    return sum(values) / (len(values) + 1)", "    return sum(values) / len(values)"),
    ("count_upper", "    return sum(1 for c in text if c.islower())", "    return sum(1 for c in text if c.isupper())"),
    ("first_word", "    return text.split()[1]", "    return text.split()[0]"),
    ("in_range", "    return lo < value < hi", "    return lo <= value <= hi"),
    ("repeat", "    return text * (times - 1)", "    return text * times"),
]
SIGNATURES = {
    "clamp": "def clamp(value, lo, hi):", "last_item": "def last_item(items):", "is_even": "def is_even(number):",
    "average": "def average(values):", "count_upper": "def count_upper(text):", "first_word": "def first_word(text):",
    "in_range": "def in_range(value, lo, hi):", "repeat": "def repeat(text, times):",
}
HELPERS = '''

def greet(name):
    """Say hello."""
    message = "Hello, " + name
    return message


def total(prices, tax):
    subtotal = sum(prices)
    return subtotal + subtotal * tax
'''


def _source(fixed: set[str]) -> str:
    parts = []
    for name, buggy, good in FIXES:
        doc = f'    """{name.replace("_", " ")} of the input."""'
        parts.append("\n".join([SIGNATURES[name], doc, "    checked = True", good if name in fixed else buggy]))
    return "\n\n\n".join(parts) + "\n" + HELPERS


def _git(repo: Path, *args: str, date: str | None = None) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com"}
    if date:
        env |= {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def build_repo(repo: Path) -> Path:
    """Initial commit with every bug, then one dated fix commit per function (oldest first)."""
    repo.mkdir(parents=True, exist_ok=True)
    _git(repo, "init", "-q", "-b", "main")
    (repo / "LICENSE").write_text("MIT License\n")
    fixed: set[str] = set()
    (repo / "util.py").write_text(_source(fixed))
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "Add utilities", date="2024-01-01T10:00:00+00:00")
    for day, (name, _b, _g) in enumerate(FIXES, start=2):
        fixed.add(name)
        (repo / "util.py").write_text(_source(fixed))
        _git(repo, "commit", "-q", "-am", f"Fix wrong result in {name}", date=f"2024-01-{day:02d}T10:00:00+00:00")
    return repo
