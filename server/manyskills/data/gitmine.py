"""Real bug fixes mined from version-control history (`manyskills data history --repo PATH ...`).

Works on any local git repository, bare or not (every git call names `--git-dir`), and walks the
non-merge history of HEAD, cheapest filters first so that only a few files are ever parsed:

1. one `git log` stream of messages (no diffs): merges are left out by git; reverts, re-applied
   commits, commits that a later commit reverts, and commits whose message does not say they fix
   something are dropped here;
2. one `git diff-tree --stdin` stream of the survivors' changed files (blob ids and line counts):
   a commit is kept when it changes source code in the nine indexed languages outside tests,
   vendored and generated code, in at most `MAX_SOURCE_FILES` files of at most `MAX_FILE_CHURN`
   changed lines each (bigger commits bundle a fix with other work: their labels are noise);
3. one `git cat-file --batch` process serves both versions of each surviving file, and
   `fixdiff.function_fix` keeps a file when its edit is 1–3 significant lines inside one function.

**Fix keywords.** A message counts as a fix when, after phrases that fix something other than code
behaviour are removed ("fix typos in docs", "fix lint", "fix CI", "fix tests", ...), and unless
its subject names a linter, formatter or compiler warnings (those fix no behaviour), it contains one
of `_FIX_WORDS`: the words of Mockus & Votta (2000) and Ray et al. (2014) — fix, bug, error, issue
(here only with a number: "issue #12", "gh-12"), mistake, incorrect, fault, defect, flaw — which
ManySStuBs4J used, plus the failure words of the bug-fix corpora that followed (crash, wrong,
broken, regression, off-by-one, typo, leak, overflow, segfault, NPE, hotfix). Such filters are
94–97 % precise on commits that then pass a one-statement diff filter (see
shared/notes/realbugs-anchors.md); the diff shape does the rest.

**Records.** Each fix becomes two `DefectExample` rows, as `history.jsonl` holds them (buggy side
label 1 with `bug_lines`, fixed side label 0, one `pair_id`; `operator`/`source` "commit-fix"), with
the provenance in extra keys that `DefectExample.from_dict` ignores: repository, commit, parent,
date, path, function, licence and `tag` (the mutation operator that would reproduce the bug,
`fixtags`). `project` is the repository's name without its owner, so the split is the same hash of
the name as every other record of that project (`extract.split_for_project`).

Deny-listed repositories (by owner/name, name or directory) are refused; vendored copies of reserved
projects inside a repository are skipped by path. Duplicates are removed with `fixdedup`, inside a
run and across runs (`manyskills data history-merge`).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from manyskills.data.denylist import is_denied
from manyskills.data.extract import split_for_project
from manyskills.data.fixdedup import FixDeduplicator, merge_files
from manyskills.data.fixdiff import FunctionFix, function_fix
from manyskills.data.history import COPYLEFT
from manyskills.data.records import DefectExample, stable_id, write_jsonl
from manyskills.index.languages import language_for_path

__all__ = [
    "COMMIT_FIX", "MAX_FILE_CHURN", "MAX_SOURCE_FILES", "MineResult", "detect_licence", "fix_rows", "git_dir_of",
    "is_fix_message", "is_test_path", "is_vendored_path", "main", "merge_main", "mine_repository", "repository_name",
]

log = logging.getLogger("manyskills.data.gitmine")

COMMIT_FIX = "commit-fix"  # source and operator of these examples
MAX_SOURCE_FILES = 3
MAX_FILE_CHURN = 40  # added + deleted lines of one source file (comments included: numstat cannot tell)
MAX_FILE_CHARS = 1_000_000

_FIX_WORDS = re.compile(
    r"\b(?:fix(?:e[sd]|ing|up)?|hotfix|bug(?:s|fix(?:es)?|gy)?|errors?|erroneous(?:ly)?|mistakes?|mistaken(?:ly)?"
    r"|incorrect(?:ly)?|fault(?:s|y)?|defects?|flaw(?:s|ed)?|crash(?:es|ed|ing)?|wrong(?:ly)?|broken"
    r"|regressions?|off[- ]by[- ]one|typos?|leak(?:s|ed|ing)?|overflow(?:s|ed|ing)?|segfaults?|npe"
    r"|(?:issue|gh)[- ]?#?\d+)\b",
    re.IGNORECASE,
)
_NOT_CODE = (
    r"(?:docs?|documentation|docstrings?|comments?|readme|changelog|lint(?:ing|er)?|flake8|pylint|eslint|clippy"
    r"|mypy|pyright|typing|type (?:hints?|checks?|checking|errors?)|types|annotations?|format(?:ting)?|style"
    r"|whitespace|indentation|ci|build|tests?|test suite|spelling|grammar|links?|(?:deprecation )?warnings?"
    r"|examples?|wording|copyright|licen[cs]e|version|release|dependencies|deps|imports?)"
)
# "fix the docs", "typo in comment", "fix mypy errors": fixes of something other than behaviour
_NON_CODE_FIX = re.compile(
    r"\b(?:fix(?:e[sd]|ing)?|typos?)\s+(?:(?:a|an|the|some|more|minor|small|several|various|in|of|for|typos?)\s+)*"
    + _NOT_CODE + r"\b(?:\s+(?:errors?|issues?|failures?|warnings?|typos?))?"
    + r"|\b" + _NOT_CODE + r"\s+(?:fix(?:e[sd]|es)?|errors?|typos?|issues?)\b",
    re.IGNORECASE,
)
# a subject naming a linter or formatter: the change satisfies a tool, it fixes no behaviour
_TOOL_SUBJECT = re.compile(
    r"\b(?:clippy|lint(?:s|er|ing)?|rustfmt|gofmt|go vet|golint|staticcheck|prettier|eslint|tslint|flake8|pylint"
    r"|mypy|pyright|isort|ruff|reformat(?:ted|ting)?|code style|coding style|checkstyle"
    r"|(?:compiler|compile|build|eclipse|gcc|clang|msvc|javac|deprecation|unused[- ]\w+) warnings?)\b",
    re.IGNORECASE,
)
_REVERT = re.compile(r"^\s*(?:revert|reapply|re-apply|reland|re-land|unrevert)\b|\bThis reverts commit\b", re.IGNORECASE)
_REVERTED_SHA = re.compile(r"\bThis reverts commit ([0-9a-fA-F]{7,40})")
_MERGE_SUBJECT = re.compile(r"^\s*Merge (?:branch|pull request|remote-tracking|tag|commit)\b")

_TEST_DIRS = frozenset({"test", "tests", "testing", "__tests__", "__test__", "spec", "specs", "testdata", "test_data",
                        "unittest", "unittests", "e2e", "integration_tests", "fixtures", "__mocks__", "benches",
                        "benchmark", "benchmarks"})
_TEST_FILE = re.compile(
    r"^(?:test_.*\.py|.*_test\.py|conftest\.py|.*_tests?\.go|.*\.(?:test|spec)\.[cm]?[jt]sx?|.*Tests?\.java|.*IT\.java"
    r"|.*TestCase\.java|test_.*\.(?:c|cc|cpp|cxx)|.*_(?:unit)?tests?\.(?:c|cc|cpp|cxx|rs|h|hpp))$"
)
_VENDORED_DIRS = frozenset({"vendor", "vendored", "third_party", "third-party", "thirdparty", "3rdparty", "external",
                            "externals", "extern", "deps", "node_modules", "bower_components", "dist", "build",
                            "generated", "gen", "_vendor", "site-packages"})
_GENERATED_FILE = re.compile(r"\.min\.[cm]?js$|[-_.]generated\.|\.pb\.(?:go|cc|h)$|_pb2\.py$|\.d\.ts$")


def is_fix_message(message: str) -> bool:
    """True when a commit message says it fixes code behaviour (see the module docstring)."""
    if _TOOL_SUBJECT.search(message.strip().split("\n", 1)[0]):
        return False
    return bool(_FIX_WORDS.search(_NON_CODE_FIX.sub(" ", message)))


def is_test_path(path: str) -> bool:
    """A test file by the path conventions of the nine languages (test dirs, test_*.py, *_test.go,
    *.spec.ts, FooTest.java, src/test/..., Rust `tests/`)."""
    parts = path.split("/")
    return any(p.lower() in _TEST_DIRS for p in parts[:-1]) or bool(_TEST_FILE.match(parts[-1]))


def is_vendored_path(path: str) -> bool:
    """Code copied from elsewhere or generated: never the repository's own fixes."""
    parts = path.split("/")
    return any(p.lower() in _VENDORED_DIRS for p in parts[:-1]) or bool(_GENERATED_FILE.search(parts[-1]))


# --- git --------------------------------------------------------------------------------------------


def _git(git_dir: str, *args: str, stdin: str | None = None) -> str:
    res = subprocess.run(["git", "--git-dir", git_dir, "-c", "core.quotePath=false", *args], input=stdin,
                         capture_output=True, text=True, encoding="utf-8", errors="replace", check=False)
    if res.returncode != 0:
        raise RuntimeError(f"git {' '.join(args[:2])} failed in {git_dir}: {res.stderr.strip()[-300:]}")
    return res.stdout


def git_dir_of(path: str | Path) -> str:
    """The git directory of a work tree or a bare repository."""
    res = subprocess.run(["git", "-C", str(path), "rev-parse", "--absolute-git-dir"], capture_output=True, text=True,
                         check=False)
    if res.returncode != 0:
        raise ValueError(f"not a git repository: {path}")
    return res.stdout.strip()


def repository_name(path: str | Path, git_dir: str) -> str:
    """owner/name from the origin URL, else from the directory (`owner+name/repo` is how mirrors are
    laid out; a plain directory gives its own name)."""
    try:
        url = _git(git_dir, "config", "--get", "remote.origin.url").strip()
    except RuntimeError:
        url = ""
    m = re.search(r"[/:]([^/:]+)/([^/]+?)(?:\.git)?/?$", url)
    if m:
        return f"{m.group(1)}/{m.group(2)}"
    p = Path(path).resolve()
    if p.name in ("repo", ".git"):
        p = p.parent
    name = p.name.removesuffix(".git")
    return name.replace("+", "/", 1)


_LICENCE_FILE = re.compile(r"^(?:licen[cs]e|copying|unlicense)(?:[-_.].*)?$", re.IGNORECASE)
_LICENCE_TEXTS = (  # (SPDX id, phrases that must all occur), most specific first
    ("AGPL-3.0", ("GNU AFFERO GENERAL PUBLIC LICENSE",)),
    ("LGPL-3.0", ("GNU LESSER GENERAL PUBLIC LICENSE", "Version 3")),
    ("LGPL-2.1", ("GNU LESSER GENERAL PUBLIC LICENSE",)),
    ("GPL-3.0", ("GNU GENERAL PUBLIC LICENSE", "Version 3")),
    ("GPL-2.0", ("GNU GENERAL PUBLIC LICENSE",)),
    ("MPL-2.0", ("Mozilla Public License",)),
    ("EPL-2.0", ("Eclipse Public License",)),
    ("Apache-2.0", ("Apache License", "Version 2.0")),
    ("BSL-1.0", ("Boost Software License",)),
    ("Unlicense", ("This is free and unencumbered software",)),
    ("CC0-1.0", ("CC0 1.0",)),
    ("ISC", ("Permission to use, copy, modify, and/or distribute",)),
    ("ISC", ("Permission to use, copy, modify, and distribute this software for any purpose",)),
    ("MIT", ("Permission is hereby granted, free of charge",)),
    ("BSD-3-Clause", ("Redistribution and use", "Neither the name")),
    ("BSD-3-Clause", ("Redistribution and use", "names of its contributors")),
    ("BSD-2-Clause", ("Redistribution and use",)),
    ("Zlib", ("This software is provided 'as-is'",)),
)


def detect_licence(git_dir: str, rev: str = "HEAD") -> str:
    """SPDX id of the licence files at the top of `rev`, joined by " OR " when several ("" when none
    is recognised)."""
    try:
        names = [n for n in _git(git_dir, "ls-tree", "--name-only", rev).split("\n") if _LICENCE_FILE.match(n)]
    except RuntimeError:
        return ""
    found: list[str] = []
    for name in sorted(names):
        try:
            text = " ".join(_git(git_dir, "show", f"{rev}:{name}").split()).lower()
        except RuntimeError:
            continue
        spdx = next((spdx for spdx, phrases in _LICENCE_TEXTS if all(ph.lower() in text for ph in phrases)), "")
        if spdx and spdx not in found:
            found.append(spdx)
    return " OR ".join(found)  # LICENSE-APACHE + LICENSE-MIT: the usual dual licence


@dataclass
class _Commit:
    sha: str
    parent: str
    date: str
    message: str


@dataclass
class _File:
    path: str
    old_blob: str
    new_blob: str
    churn: int


def _commits(git_dir: str, since: str | None, limit: int | None) -> list[_Commit]:
    args = ["log", "--no-merges", "--format=%H%x1f%P%x1f%cI%x1f%B%x1e"]
    if since:
        args.append(f"--since={since}")
    if limit:
        args.append(f"--max-count={limit}")
    out = []
    for chunk in _git(git_dir, *args, "HEAD").split("\x1e"):
        parts = chunk.strip("\n").split("\x1f")
        if len(parts) == 4 and parts[1]:
            out.append(_Commit(parts[0], parts[1].split()[0], parts[2], parts[3].strip()))
    return out


def _changed_files(git_dir: str, shas: list[str]) -> dict[str, list[_File]]:
    """Per commit: its changed paths with blob ids (raw) and added+deleted lines (numstat). A commit
    git cannot diff (an object missing from a partial mirror) is left out; halving the batch finds it."""
    try:
        text = _git(git_dir, "diff-tree", "--stdin", "-r", "--no-renames", "--raw", "--numstat", "--no-abbrev",
                    stdin="\n".join(shas) + "\n")
    except RuntimeError:
        if len(shas) <= 1:
            return {}
        half = len(shas) // 2
        return {**_changed_files(git_dir, shas[:half]), **_changed_files(git_dir, shas[half:])}
    files: dict[str, dict[str, _File]] = {}
    current: dict[str, _File] | None = None
    for line in text.split("\n"):
        if re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", line):
            current = files.setdefault(line, {})
        elif current is None or not line:
            continue
        elif line.startswith(":"):
            meta, _, path = line.partition("\t")
            fields = meta.split()
            status = fields[4][:1] if len(fields) > 4 else "?"
            current[path] = _File(path, fields[2] if status == "M" else "", fields[3] if status == "M" else "", -1)
        else:
            added, deleted, path = (line.split("\t", 2) + ["", ""])[:3]
            if path in current:
                current[path].churn = int(added) + int(deleted) if added.isdigit() and deleted.isdigit() else -1
    return {sha: list(by_path.values()) for sha, by_path in files.items()}


class _Blobs:
    """One `git cat-file --batch` process serving blobs by id."""

    def __init__(self, git_dir: str):
        self.proc = subprocess.Popen(["git", "--git-dir", git_dir, "cat-file", "--batch"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE)

    def text(self, blob: str) -> str | None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(blob.encode() + b"\n")
        self.proc.stdin.flush()
        header = self.proc.stdout.readline().split()
        if len(header) < 3:
            return None
        data = self.proc.stdout.read(int(header[2]) + 1)[:-1]
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


# --- mining -------------------------------------------------------------------------------------------


@dataclass
class MineResult:
    rows: list[dict] = field(default_factory=list)
    stats: dict = field(default_factory=dict)


def _subject(message: str) -> str:
    first = message.strip().split("\n", 1)[0].strip()
    return re.sub(r"\s*\((?:#|gh-)\d+\)\s*$", "", first)


def fix_rows(repository: str, licence: str, commit: _Commit, path: str, language: str, fix: FunctionFix) -> list[dict]:
    """The buggy and fixed rows of one mined fix (DefectExample fields plus provenance)."""
    project = repository.rsplit("/", 1)[-1]
    split = split_for_project(project)
    pair_id = stable_id(COMMIT_FIX, repository, commit.sha, path, fix.qualified_name)
    meta = {"repository": repository, "commit": commit.sha, "parent": commit.parent, "date": commit.date,
            "path": path, "function": fix.qualified_name, "licence": licence, "tag": fix.tag}
    buggy = DefectExample(id=pair_id + "-b", project=project, language=language, split=split, code=fix.before, label=1,
                          bug_lines=list(fix.bug_lines), fix_line=fix.fix_line, fix_replacement=fix.fix_replacement,
                          operator=COMMIT_FIX, note=_subject(commit.message), pair_id=pair_id, source=COMMIT_FIX)
    fixed = DefectExample(id=pair_id + "-f", project=project, language=language, split=split, code=fix.after, label=0,
                          operator="clean", pair_id=pair_id, source=COMMIT_FIX)
    return [{**buggy.to_dict(), **meta}, {**fixed.to_dict(), **meta}]


def mine_repository(path: str | Path, repository: str | None = None, licence: str | None = None,
                    since: str | None = None, limit_commits: int | None = None,
                    dedup: FixDeduplicator | None = None) -> MineResult:
    """Mine one repository's fixes. Raises PermissionError for a deny-listed repository."""
    t0 = time.time()
    git_dir = git_dir_of(path)
    repository = repository or repository_name(path, git_dir)
    dir_name = Path(path).resolve().name
    if any(is_denied(n) for n in {repository.rsplit("/", 1)[-1], repository.replace("/", "-"), dir_name}):
        raise PermissionError(f"deny-listed repository refused: {repository}")
    licence = licence if licence is not None else detect_licence(git_dir)
    head = _git(git_dir, "rev-parse", "HEAD").strip()
    dedup = dedup if dedup is not None else FixDeduplicator()
    drops: Counter[str] = Counter()
    commits = _commits(git_dir, since, limit_commits)
    reverted = {m.lower() for c in commits for m in _REVERTED_SHA.findall(c.message)}
    fixes = []
    for c in commits:
        if _REVERT.search(c.message):
            drops["revert"] += 1
        elif any(c.sha.startswith(r) for r in reverted):
            drops["reverted-later"] += 1  # its own project judged the fix wrong
        elif _MERGE_SUBJECT.match(c.message):
            drops["merge"] += 1
        elif not is_fix_message(c.message):
            drops["not-a-fix-message"] += 1
        else:
            fixes.append(c)
    by_sha = _changed_files(git_dir, [c.sha for c in fixes]) if fixes else {}
    work: list[tuple[_Commit, _File, str]] = []
    for c in fixes:
        source = [(f, lang) for f in by_sha.get(c.sha, []) if (lang := language_for_path(f.path))
                  and not is_vendored_path(f.path)]
        code = [(f, lang) for f, lang in source if not is_test_path(f.path)]
        if c.sha not in by_sha:
            drops["unreadable"] += 1
        elif not source:
            drops["no-source-change"] += 1
        elif not code:
            drops["test-only"] += 1
        elif len(code) > MAX_SOURCE_FILES or any(f.churn < 0 or f.churn > MAX_FILE_CHURN for f, _ in code):
            drops["large-commit"] += 1
        else:
            work.extend((c, f, lang) for f, lang in code if f.old_blob)
    rows: list[dict] = []
    tags: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    blobs = _Blobs(git_dir)
    try:
        for c, f, lang in work:
            if is_denied(None, f.path):
                drops["deny-listed-path"] += 1
                continue
            before, after = blobs.text(f.old_blob), blobs.text(f.new_blob)
            if before is None or after is None:
                drops["unreadable"] += 1  # missing from the mirror, or not UTF-8
                continue
            if max(len(before), len(after)) > MAX_FILE_CHARS:
                drops["large-file"] += 1  # generated or bundled code; parsing it twice is all cost
                continue
            try:
                fix = function_fix(lang, before, after)
            except Exception as exc:  # noqa: BLE001 - one odd file never stops a repository
                log.warning("%s %s %s: %s", repository, c.sha[:10], f.path, exc)
                drops["error"] += 1
                continue
            if isinstance(fix, str):
                drops[fix] += 1
                continue
            if not dedup.add(lang, fix.before, fix.after):
                drops["duplicate"] += 1
                continue
            rows.extend(fix_rows(repository, licence, c, f.path, lang, fix))
            tags[fix.tag] += 1
            languages[lang] += 1
    finally:
        blobs.close()
    stats = {"repository": repository, "path": str(path), "head": head, "licence": licence,
             "commits": len(commits), "fix_commits": len(fixes), "files_parsed": len(work),
             "pairs": len(rows) // 2, "tags": dict(tags.most_common()), "languages": dict(languages.most_common()),
             "dropped": dict(drops.most_common()), "seconds": round(time.time() - t0, 2)}
    return MineResult(rows, stats)


# --- command line ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """`manyskills data history`: mine fixes from local repositories into one JSONL file (+ .stats.json)."""
    ap = argparse.ArgumentParser(prog="manyskills data history", description=main.__doc__)
    ap.add_argument("--repo", action="append", required=True, help="a git work tree or bare repository (repeatable)")
    ap.add_argument("--out", required=True, help="output JSONL (DefectExample rows with provenance)")
    ap.add_argument("--since", default=None, help="only commits after this date (git --since)")
    ap.add_argument("--limit-commits", type=int, default=None, help="only the newest N commits of each repository")
    ap.add_argument("--licence", default=None, help="SPDX licence to record (default: read from the licence file)")
    ap.add_argument("--repo-name", default=None, help="owner/name to record (one --repo only)")
    ap.add_argument("--allow-copyleft", action="store_true", help="mine repositories under copyleft licences too")
    args = ap.parse_args(argv)
    if args.repo_name and len(args.repo) > 1:
        ap.error("--repo-name needs exactly one --repo")
    dedup = FixDeduplicator()
    rows: list[dict] = []
    all_stats = []
    status = 0
    for repo in args.repo:
        try:
            git_dir = git_dir_of(repo)
            licence = args.licence if args.licence is not None else detect_licence(git_dir)
            if COPYLEFT.search(licence) and not args.allow_copyleft:
                raise PermissionError(f"copyleft licence {licence} refused (--allow-copyleft to mine it): {repo}")
            result = mine_repository(repo, args.repo_name, licence, args.since, args.limit_commits, dedup)
        except (PermissionError, ValueError, RuntimeError) as exc:
            print(f"manyskills data history: {exc}", file=sys.stderr)
            status = 2
            continue
        rows.extend(result.rows)
        all_stats.append(result.stats)
        print(json.dumps(result.stats), file=sys.stderr, flush=True)
    out = Path(args.out)
    write_jsonl(out, rows)
    out.with_suffix(".stats.json").write_text(json.dumps(all_stats, indent=1), encoding="utf-8")
    print(f"{len(rows) // 2} pairs from {len(all_stats)} repositories -> {out}")
    return status


def merge_main(argv: list[str] | None = None) -> int:
    """`manyskills data history-merge`: join per-repository files, removing exact and near duplicates."""
    ap = argparse.ArgumentParser(prog="manyskills data history-merge", description=merge_main.__doc__)
    ap.add_argument("inputs", nargs="+", help="JSONL files written by `manyskills data history`")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    stats = merge_files(args.inputs, args.out)
    print(json.dumps(stats))
    return 0
