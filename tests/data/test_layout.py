"""The data pipeline's shape: one language list (from `manyskills.index.languages`), modules that
share syntax through public names only, and modules of a readable size."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from manyskills.data import extract, flaky, mutations, syntax
from manyskills.index.languages import LANGUAGE_NAMES, family

DATA = Path(syntax.__file__).resolve().parent
MODULES = sorted(DATA.rglob("*.py"))
# the syntax library and the generators built on it
SYNTAX_USERS = sorted([DATA / "syntax.py", DATA / "node_types.py", *DATA.glob("operators/*.py"), DATA / "mutations.py",
                       DATA / "rewrites.py", DATA / "renaming.py", DATA / "clones.py", DATA / "search_pairs.py",
                       DATA / "extract.py", DATA / "flaky.py"])
MAX_LINES = 600


def test_families():
    assert {language: family(language) for language in LANGUAGE_NAMES} == {
        "python": "python", "javascript": "ecma", "typescript": "ecma", "tsx": "ecma", "java": "java",
        "c": "c", "cpp": "c", "go": "go", "rust": "rust"}
    assert family("cobol") == "cobol"


def test_data_uses_the_index_language_list():
    assert mutations.LANGUAGES is LANGUAGE_NAMES
    assert extract.LANGUAGES is LANGUAGE_NAMES


@pytest.mark.parametrize("language", LANGUAGE_NAMES)
def test_flaky_patterns_cover_every_language(language):
    # no pattern matches an empty test, so every per-family table is consulted (KeyError if one lacks it)
    assert flaky.flaky_cause(language, "") == ""


@pytest.mark.parametrize("path", SYNTAX_USERS, ids=lambda p: str(p.relative_to(DATA)))
def test_no_private_names_cross_modules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    private = [f"{node.module}.{alias.name}" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
               and (node.module or "").startswith("manyskills") for alias in node.names
               if alias.name.startswith("_")]
    assert private == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(DATA)))
def test_modules_stay_readable(path):
    assert len(path.read_text(encoding="utf-8").split("\n")) <= MAX_LINES
