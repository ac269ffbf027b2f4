"""Readers for public data-set formats, so that users with real data can train on it.

Each reader yields our records (see `records.py`); projects on the evaluation deny-list are
skipped unless `deny=False`.

* `read_codexglue_defect` – CodeXGLUE defect detection (Devign) JSONL: `func`, `target`, `project`,
  `commit_id`, `idx` → DefectExample (function-level label, no line labels).
* `read_bigclonebench`    – CodeXGLUE BigCloneBench: `data.jsonl` (`idx`, `func`) + a pair file with
  lines `idx1<TAB>idx2<TAB>label` → ClonePair.
* `read_codesearchnet`    – CodeSearchNet / AdvTest JSONL: `docstring_tokens` or `doc`/`docstring`,
  `code` or `function`, `repo` or `url` → SearchExample (with AdvTest normalisation).
* `read_codereviewer`     – CodeReviewer JSONL: `patch` or `oldf`, `msg`, `y` → DefectExample whose
  note is the reviewer's message and whose bug lines are the added lines of the hunk.
* `read_flakeflagger`     – FlakeFlagger-style CSV: `test_name`/`testCase`, `flaky`/`label`, and
  optionally the test source → FlakyExample.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

from manyskills.data.denylist import is_denied
from manyskills.data.records import ClonePair, DefectExample, FlakyExample, SearchExample, stable_id
from manyskills.data.search_pairs import normalize_code

__all__ = [
    "READERS",
    "read_bigclonebench",
    "read_codereviewer",
    "read_codesearchnet",
    "read_codexglue_defect",
    "read_flakeflagger",
]

PathLike = str | os.PathLike[str]

_LANG_ALIASES = {
    "py": "python", "python": "python", "js": "javascript", "javascript": "javascript", "ts": "typescript",
    "typescript": "typescript", "tsx": "tsx", "java": "java", "go": "go", "golang": "go", "rs": "rust",
    "rust": "rust", "c": "c", "h": "c", "cpp": "cpp", "c++": "cpp", "cc": "cpp", "cxx": "cpp", "hpp": "cpp",
    "cs": "csharp", "c#": "csharp", "csharp": "csharp", "rb": "ruby", "ruby": "ruby", "php": "php",
}


def _lang(value: str | None, default: str) -> str:
    if not value:
        return default
    v = str(value).strip().lower().lstrip(".")
    return _LANG_ALIASES.get(v, v)


def _split_from_path(path: PathLike, default: str = "train") -> str:
    stem = Path(path).name.lower()
    for name, split in (("train", "train"), ("valid", "valid"), ("dev", "valid"), ("val", "valid"), ("test", "test")):
        if re.search(rf"(^|[^a-z]){name}([^a-z]|$)", stem):
            return split
    return default


def _jsonl(path: PathLike) -> Iterator[dict]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line:
                yield json.loads(line)


def _repo_from_url(url: str) -> str:
    m = re.search(r"github\.com/([^/]+/[^/]+)", url or "")
    return m.group(1) if m else ""


def _denied(project: str, path: str | None = None) -> bool:
    name = project.split("/")[-1] if project else ""
    return is_denied(project, path) or (bool(name) and is_denied(name))


# --- defect detection ---------------------------------------------------------------------------


def read_codexglue_defect(path: PathLike, *, split: str | None = None, language: str = "c",
                          deny: bool = True) -> Iterator[DefectExample]:
    split = split or _split_from_path(path)
    for i, row in enumerate(_jsonl(path)):
        project = str(row.get("project") or "codexglue")
        if deny and _denied(project):
            continue
        label = int(row.get("target", row.get("label", 0)))
        idx = row.get("idx", i)
        yield DefectExample(
            id=f"codexglue-defect-{idx}", project=project, language=language, split=split,
            code=row["func"], label=1 if label else 0, bug_lines=[], fix_line=None, fix_replacement=None,
            operator="real-change" if label else "clean",
            note=f"commit {row['commit_id']}" if row.get("commit_id") and label else "",
            pair_id="", source="reader:codexglue-defect",
        )


# --- clones -----------------------------------------------------------------------------------------


def read_bigclonebench(data_jsonl: PathLike, pairs_txt: PathLike, *, split: str | None = None,
                       language: str = "java", project: str = "bigclonebench") -> Iterator[ClonePair]:
    split = split or _split_from_path(pairs_txt)
    funcs = {str(row["idx"]): row["func"] for row in _jsonl(data_jsonl)}
    with open(pairs_txt, encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) < 3:
                continue
            a, b, label = parts[0], parts[1], parts[2]
            if a not in funcs or b not in funcs:
                continue
            yield ClonePair(
                id=f"bcb-{a}-{b}", project=project, language=language, split=split,
                code_a=funcs[a], code_b=funcs[b], label=1 if int(label) else 0, rewrite="reader:bigclonebench",
            )


# --- code search ------------------------------------------------------------------------------------


def read_codesearchnet(path: PathLike, *, split: str | None = None, language: str | None = None,
                       normalize: bool = True, deny: bool = True) -> Iterator[SearchExample]:
    default_split = split or _split_from_path(path)
    for i, row in enumerate(_jsonl(path)):
        if row.get("docstring_tokens"):
            query = " ".join(row["docstring_tokens"])
        else:
            query = str(row.get("doc") or row.get("docstring") or "").strip().split("\n")[0]
        code = row.get("code") if row.get("code") is not None else row.get("function")
        if not query or not code:
            continue
        if isinstance(code, list):
            code = " ".join(code)
        project = str(row.get("repo") or _repo_from_url(str(row.get("url", ""))) or "codesearchnet")
        if deny and _denied(project, row.get("path")):
            continue
        lang = _lang(row.get("language") or language, language or "python")
        row_split = {"train": "train", "valid": "valid", "test": "test"}.get(str(row.get("partition", "")), default_split)
        yield SearchExample(
            id=f"csn-{row.get('idx', stable_id(project, row.get('url', ''), i))}", project=project, language=lang,
            split=split or row_split, query=query, code=code,
            code_normalized=normalize_code(lang, code) if normalize else "",
        )


# --- code review --------------------------------------------------------------------------------------


def _patch_new_side(patch: str) -> tuple[str, list[int]]:
    """(new-side text of a diff hunk, 0-based indices of its added lines)."""
    lines, added = [], []
    for ln in patch.split("\n"):
        if ln.startswith(("@@", "+++", "---", "\\")):
            continue
        if ln.startswith("+"):
            added.append(len(lines))
            lines.append(ln[1:])
        elif ln.startswith("-"):
            continue
        else:
            lines.append(ln.removeprefix(" "))
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines), [a for a in added if a < len(lines)]


def read_codereviewer(path: PathLike, *, split: str | None = None, language: str = "unknown",
                      deny: bool = True) -> Iterator[DefectExample]:
    split = split or _split_from_path(path)
    for i, row in enumerate(_jsonl(path)):
        project = str(row.get("proj") or row.get("repo") or "codereviewer")
        if deny and _denied(project):
            continue
        msg = str(row.get("msg") or "").strip()
        if row.get("patch"):
            code, added = _patch_new_side(row["patch"])
        else:
            code, added = str(row.get("oldf") or ""), []
        if not code.strip():
            continue
        label = int(row["y"]) if row.get("y") is not None else (1 if msg else 0)
        lang = _lang(row.get("lang") or row.get("language"), language)
        yield DefectExample(
            id=f"codereviewer-{row.get('id', i)}", project=project, language=lang, split=split, code=code,
            label=1 if label else 0, bug_lines=added if label else [], fix_line=None, fix_replacement=None,
            operator="review" if label else "clean", note=msg if label else "", pair_id="",
            source="reader:codereviewer",
        )


# --- flaky tests ----------------------------------------------------------------------------------------

_TRUE = {"1", "true", "yes", "y", "flaky", "t"}


def _col(row: dict, *names: str) -> str | None:
    lower = {k.strip().lower(): v for k, v in row.items() if k}
    for n in names:
        v = lower.get(n.lower())
        if v not in (None, ""):
            return v
    return None


def read_flakeflagger(path: PathLike, *, split: str | None = None, language: str = "java",
                      project: str | None = None, deny: bool = True) -> Iterator[FlakyExample]:
    split = split or _split_from_path(path)
    with open(path, encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            name = _col(row, "test_name", "testCase", "test", "test_case", "testname")
            flag = _col(row, "flaky", "label", "is_flaky", "isflaky", "flaky_label")
            if name is None or flag is None:
                continue
            proj = _col(row, "project", "project_name", "projectName", "repo") or project or "flakeflagger"
            if deny and _denied(proj):
                continue
            source = _col(row, "test_source", "code", "source", "body", "test_code", "testSource")
            is_flaky = flag.strip().lower() in _TRUE
            cause = _col(row, "cause", "category", "root_cause") or ""
            yield FlakyExample(
                id=f"flakeflagger-{stable_id(proj, name, i)}", project=proj,
                language=_lang(_col(row, "language", "lang"), language), split=split,
                code=source if source is not None else name, label=1 if is_flaky else 0,
                cause=(cause or "reported") if is_flaky else "",
            )


READERS = {
    "codexglue-defect": read_codexglue_defect,
    "bigclonebench": read_bigclonebench,
    "codesearchnet": read_codesearchnet,
    "advtest": read_codesearchnet,
    "codereviewer": read_codereviewer,
    "flakeflagger": read_flakeflagger,
}
