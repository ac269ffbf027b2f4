"""Mine REAL code changes as defect / repair supervision (`changes.jsonl`).

Two sources, both noisy and marked `source="real-change"`:

(a) consecutive releases of the same PyPI package (sources with a `previous` version in
    `sources.json`): functions with the same qualified name in the same file path are compared;
    small edits (1–3 changed lines in one hunk, both versions parse without errors, whitespace- or
    comment-only edits ignored) give a pair: the earlier function is the buggy candidate (label 1, `bug_lines`
    = its changed lines), the later one the clean counterpart (label 0). The note is the
    changelog line of that release that names the function, else a
    generic "This line was changed in a later release of {project}".

(b) Debian `debian/patches/*` with DEP-3 headers: a patch whose Description/Subject mentions
    fix/bug/crash/overflow/leak/wrong/incorrect is applied hunk by hunk to the upstream file; each
    function it touches gives a pre-patch (buggy) / post-patch (fixed) pair, note = the first line
    of the description (or its first line naming the fix when the first one does not). Patches are
    applied in `series` order, each to the result of the earlier ones.

Only behavioural edits are kept: for Python, an edit that changes nothing but type annotations,
docstrings, comments, layout or the text of string literals (messages) cannot be a bug fix and is
dropped (`is_behavioural_change`, on the AST). The same function mines patch releases at scale in
`history.py`.

`fix_line` / `fix_replacement` describe the repair when it is one line replaced by zero or more
lines (or lines inserted after one line); otherwise both are None.
"""

from __future__ import annotations

import ast
import difflib
import logging
import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from manyskills.data.corpus import DEFAULT_CACHE, read_manifest
from manyskills.data.denylist import is_denied
from manyskills.data.extract import file_functions, keep_function, normalize_whitespace, split_for_project
from manyskills.data.records import DefectExample, stable_id
from manyskills.index.languages import language_for_path
from manyskills.index.treesitter import parse

__all__ = [
    "GENERIC_CHANGE_NOTE",
    "FunctionChange",
    "apply_hunks",
    "behaviour_key",
    "changelog_section",
    "changes_between_trees",
    "debian_patch_changes",
    "diff_functions",
    "function_changes",
    "is_behavioural_change",
    "mine_changes",
    "note_for",
    "pair_examples",
    "parse_dep3",
    "parse_patch",
]

log = logging.getLogger("manyskills.data.changes")

MAX_CHANGED_LINES = 3
GENERIC_CHANGE_NOTE = "This line was changed in a later release of"  # the note when no changelog line names the function
_FIX_WORDS = re.compile(r"\b(fix\w*|bugs?|crash\w*|overflow\w*|leak\w*|wrong|incorrect\w*)\b", re.IGNORECASE)
_CHANGELOG_FILE = re.compile(r"^(changes|changelog|news|history|release[-_ ]?notes?)(\.[a-z]+)?$", re.IGNORECASE)


@dataclass
class FunctionChange:
    project: str
    language: str
    path: str
    qualified_name: str
    before: str
    after: str
    bug_lines: list[int]  # 0-based lines of `before` that changed
    fix_line: int | None
    fix_replacement: str | None
    note: str = ""
    origin: str = ""  # "release:<old>-><new>" or "debian-patch:<name>"


_COMMENT_LINE = re.compile(r"^\s*(#|//|/\*|\*|\*/|--)|^\s*$")


def _is_comment_line(line: str) -> bool:
    return bool(_COMMENT_LINE.match(line))


def _note_line(desc: str) -> str:
    """First line of a DEP-3 description, or its first line that says what was fixed when the
    first one does not (e.g. "Cherry-pick upstream commit …")."""
    lines = [re.sub(r"^\[PATCH[^\]]*\]\s*", "", ln).strip() for ln in desc.strip().split("\n")]
    lines = [ln for ln in lines if ln]
    if not lines:
        return ""
    if not _FIX_WORDS.search(lines[0]):
        for ln in lines[1:]:
            if _FIX_WORDS.search(ln):
                return ln
    return lines[0]


def diff_functions(before: str, after: str, max_changed: int = MAX_CHANGED_LINES) -> tuple[list[int], int | None, str | None] | None:
    """(bug_lines, fix_line, fix_replacement) for a small single-hunk edit, else None."""
    if before == after or normalize_whitespace(before) == normalize_whitespace(after):
        return None
    a = before.split("\n")
    b = after.split("\n")
    ops = [op for op in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes() if op[0] != "equal"]
    if len(ops) != 1:
        return None
    tag, i1, i2, j1, j2 = ops[0]
    removed, added = i2 - i1, j2 - j1
    if max(removed, added) == 0 or max(removed, added) > max_changed:
        return None
    if removed == added and all(normalize_whitespace(x) == normalize_whitespace(y) for x, y in zip(a[i1:i2], b[j1:j2])):
        return None  # re-indentation only
    if all(_is_comment_line(x) for x in a[i1:i2] + b[j1:j2]):
        return None  # comments only
    new = "\n".join(b[j1:j2])
    if tag == "insert":
        anchor = i1 - 1 if i1 > 0 else 0
        if i1 > 0:
            return [anchor], anchor, a[anchor] + "\n" + new
        return [0], 0, new + "\n" + a[0]
    bug_lines = list(range(i1, i2))
    if removed == 1:
        return bug_lines, i1, new  # "" when the line is deleted
    return bug_lines, None, None


# --- behaviour ---------------------------------------------------------------------------------------


class _Erase(ast.NodeTransformer):
    """Drops what cannot change behaviour (docstrings, type annotations) and, with `strings`, the
    text of string literals (messages)."""

    def __init__(self, strings: bool):
        self.strings = strings

    def _body(self, node):
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
        return node

    def visit_FunctionDef(self, node):
        node.returns = None
        node.type_params = []
        return self._body(self.generic_visit(node))

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        return self._body(self.generic_visit(node))

    def visit_arg(self, node):
        node.annotation = None
        return node

    def visit_AnnAssign(self, node):
        if node.value is None:
            return None
        return ast.Assign(targets=[self.visit(node.target)], value=self.visit(node.value), lineno=node.lineno)

    def visit_Constant(self, node):
        if self.strings and isinstance(node.value, (str, bytes)):
            return ast.Constant(value="")
        return node

    def visit_JoinedStr(self, node):
        return ast.Constant(value="") if self.strings else self.generic_visit(node)


def _python_ast(code: str) -> ast.Module | None:
    text = textwrap.dedent(code)
    for candidate in (text, "class _:\n" + textwrap.indent(text, "    ")):
        try:
            return ast.parse(candidate)
        except (SyntaxError, ValueError):
            continue
    return None


def behaviour_key(language: str, code: str, strings: bool = False) -> str | None:
    """What a function does, as a comparable string: for Python its AST without docstrings, type
    annotations and comments (and, with `strings`, without the text of string literals). None when
    not known (another language, or unparseable)."""
    if language != "python":
        return None
    tree = _python_ast(code)
    if tree is None:
        return None
    tree = _Erase(strings).visit(tree)
    return ast.dump(tree, annotate_fields=False)


def is_behavioural_change(language: str, before: str, after: str) -> bool:
    """False when the edit cannot be a bug fix: only annotations, docstrings, comments or layout
    changed, or only the text of string literals (messages, log lines). True when unknown."""
    a, b = behaviour_key(language, before), behaviour_key(language, after)
    if a is None or b is None:
        return True
    if a == b:
        return False
    return behaviour_key(language, before, strings=True) != behaviour_key(language, after, strings=True)


def _parses(language: str, code: str) -> bool:
    try:
        return not parse(language, code).has_errors
    except Exception:  # noqa: BLE001
        return False


def _unique_functions(language: str, text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    dup: set[str] = set()
    for fn, code in file_functions(language, text):
        if fn.is_test:
            continue
        if fn.qualified_name in out:
            dup.add(fn.qualified_name)
        out[fn.qualified_name] = code
    for d in dup:
        out.pop(d, None)
    return out


def function_changes(project: str, path: str, before_text: str, after_text: str, origin: str = "") -> list[FunctionChange]:
    """Small function-level edits between two versions of one file."""
    language = language_for_path(path)
    if language is None or before_text == after_text:
        return []
    old = _unique_functions(language, before_text)
    new = _unique_functions(language, after_text)
    out = []
    for qname, code_a in old.items():
        code_b = new.get(qname)
        if code_b is None or code_a == code_b:
            continue
        if not (keep_function(code_a) and keep_function(code_b)):
            continue
        d = diff_functions(code_a, code_b)
        if d is None:
            continue
        if not (_parses(language, code_a) and _parses(language, code_b)):
            continue
        if not is_behavioural_change(language, code_a, code_b):
            continue
        bug_lines, fix_line, fix_replacement = d
        out.append(FunctionChange(project, language, path, qname, code_a, code_b, bug_lines, fix_line,
                                  fix_replacement, origin=origin))
    return out


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _source_files(root: Path) -> Iterator[str]:
    for p in sorted(root.rglob("*")):
        if p.is_file() and language_for_path(p.name) is not None:
            rel = p.relative_to(root).as_posix()
            if not rel.startswith("debian/"):
                yield rel


# --- changelogs ----------------------------------------------------------------------------------


def changelog_section(text: str, new_version: str, old_version: str | None = None) -> list[str]:
    """Lines of a changelog between the heading of `new_version` and that of `old_version` (or the
    next version-looking heading)."""
    lines = text.split("\n")
    ver_re = re.compile(r"(?<![\w.])v?" + re.escape(new_version) + r"(?![\w.]|\.\d)")
    start = next((i for i, ln in enumerate(lines) if ver_re.search(ln)), None)
    if start is None:
        return []
    end = len(lines)
    old_re = re.compile(r"(?<![\w.])v?" + re.escape(old_version) + r"(?![\w.]|\.\d)") if old_version else None
    any_ver = re.compile(r"^\s*(?:#+\s*|[Vv]ersion\s+|Release\s+|v)?\d+\.\d+(?:\.\d+)*\b")
    for i in range(start + 1, len(lines)):
        if (old_re and old_re.search(lines[i])) or (any_ver.match(lines[i]) and i > start + 1):
            end = i
            break
    return [ln for ln in lines[start + 1:end] if ln.strip() and not set(ln.strip()) <= set("-=~^*#")]


def _clean_note(line: str) -> str:
    line = line.strip()
    line = re.sub(r"^[-*+•]\s+", "", line)
    line = re.sub(r":(?:issue|pr|user|ghsa|cve|bpo|gh|commit):`[^`]*`", "", line)
    line = re.sub(r":[a-z:]+:`~?([^`<]*)(?:<[^>]*>)?`", r"\1", line)
    line = line.replace("``", "").replace("`", "")
    line = re.sub(r"\s*\((?:\s*[#,]?\s*)*\)\s*", " ", line)
    return re.sub(r"\s+", " ", line).strip()


def note_for(project: str, qualified_name: str, section: list[str]) -> str:
    """The changelog line naming the function (preferring one that says "fix"), else a generic
    note. (A release's other "fix" lines are not used: they rarely concern the function at hand.)"""
    name = re.split(r"[.:]", qualified_name)[-1]
    named = [ln for ln in section if len(name) > 2 and re.search(r"(?<![\w])" + re.escape(name) + r"(?![\w])", ln)]
    if named:
        fixes = [ln for ln in named if _FIX_WORDS.search(ln)]
        return _clean_note((fixes or named)[0])
    return f"{GENERIC_CHANGE_NOTE} {project}."


def _changelog_text(root: Path) -> str:
    texts = []
    for p in sorted(root.iterdir()) if root.exists() else []:
        if p.is_file() and _CHANGELOG_FILE.match(p.name):
            t = _read(p)
            if t:
                texts.append(t)
    for sub in ("docs", "doc"):
        d = root / sub
        if d.is_dir():
            for p in sorted(d.iterdir()):
                if p.is_file() and _CHANGELOG_FILE.match(p.name):
                    t = _read(p)
                    if t:
                        texts.append(t)
    return "\n".join(texts)


def changes_between_trees(project: str, old_root: Path, new_root: Path, old_version: str, new_version: str) -> list[FunctionChange]:
    """Function-level edits between two unpacked releases of a project."""
    section = changelog_section(_changelog_text(new_root), new_version, old_version)
    out = []
    old_files = set(_source_files(old_root))
    for rel in _source_files(new_root):
        if rel not in old_files or is_denied(project, rel):
            continue
        a, b = _read(old_root / rel), _read(new_root / rel)
        if a is None or b is None or a == b:
            continue
        for ch in function_changes(project, rel, a, b, origin=f"release:{old_version}->{new_version}"):
            ch.note = note_for(project, ch.qualified_name, section)
            out.append(ch)
    return out


# --- Debian patches --------------------------------------------------------------------------------


def parse_dep3(text: str) -> dict[str, str]:
    """DEP-3 header fields (lower-case keys; continuation lines joined with newlines)."""
    fields: dict[str, str] = {}
    key = None
    for line in text.split("\n"):
        if line.startswith(("---", "diff ", "Index:", "===", "@@")):
            break
        m = re.match(r"^([A-Za-z][\w-]*):\s?(.*)$", line)
        if m:
            key = m.group(1).lower()
            fields[key] = (fields.get(key, "") + "\n" + m.group(2)).strip() if key in fields else m.group(2).strip()
        elif key and line.startswith((" ", "\t")):
            fields[key] += "\n" + (line.strip() if line.strip() != "." else "")
        elif not line.strip():
            key = None
    return fields


@dataclass
class Hunk:
    old_start: int  # 1-based
    old_lines: list[str]
    new_lines: list[str]


def parse_patch(text: str) -> dict[str, list[Hunk]]:
    """Unified diff → {path (first component stripped, like `patch -p1`): hunks}."""
    files: dict[str, list[Hunk]] = {}
    lines = text.split("\n")
    i = 0
    current: str | None = None
    while i < len(lines):
        line = lines[i]
        if line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            path = lines[i + 1][4:].split("\t")[0].strip()
            if path == "/dev/null":
                current = None
            else:
                parts = path.split("/", 1)
                current = parts[1] if len(parts) == 2 else parts[0]
                files.setdefault(current, [])
            i += 2
            continue
        m = re.match(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@", line)
        if m and current is not None:
            old_n = int(m.group(2)) if m.group(2) is not None else 1
            new_n = int(m.group(4)) if m.group(4) is not None else 1
            old, new = [], []
            i += 1
            while i < len(lines) and (len(old) < old_n or len(new) < new_n):
                ln = lines[i]
                if ln.startswith("\\"):
                    i += 1
                    continue
                tag, body = (ln[:1], ln[1:]) if ln else (" ", "")
                if tag == " ":
                    old.append(body)
                    new.append(body)
                elif tag == "-":
                    old.append(body)
                elif tag == "+":
                    new.append(body)
                else:
                    break
                i += 1
            files[current].append(Hunk(int(m.group(1)), old, new))
            continue
        i += 1
    return {k: v for k, v in files.items() if v}


def apply_hunks(text: str, hunks: list[Hunk], fuzz: int = 200) -> str | None:
    """Apply hunks to a text (searching ±`fuzz` lines around the stated position); None if any
    hunk does not match."""
    lines = text.split("\n")
    offset = 0
    for h in hunks:
        n = len(h.old_lines)
        want = h.old_start - 1 + offset if n else h.old_start + offset
        found = None
        for delta in range(fuzz + 1):
            for pos in ((want + delta,) if delta == 0 else (want + delta, want - delta)):
                if 0 <= pos <= len(lines) - n and lines[pos:pos + n] == h.old_lines:
                    found = pos
                    break
            if found is not None:
                break
        if found is None:
            return None
        lines[found:found + n] = h.new_lines
        offset += len(h.new_lines) - n + (found - want)
    return "\n".join(lines)


def _series(root: Path) -> list[str]:
    series = root / "debian" / "patches" / "series"
    if series.exists():
        names = []
        for ln in series.read_text(errors="replace").split("\n"):
            ln = ln.split("#", 1)[0].strip()
            if ln:
                names.append(ln.split()[0])
        return names
    pdir = root / "debian" / "patches"
    return sorted(p.name for p in pdir.iterdir() if p.is_file()) if pdir.is_dir() else []


def debian_patch_changes(project: str, root: Path) -> list[FunctionChange]:
    """Function-level bug-fix edits from a Debian source tree's `debian/patches`."""
    out = []
    state: dict[str, str] = {}  # file → text with the earlier patches of the series applied
    for name in _series(root):
        ppath = root / "debian" / "patches" / name
        text = _read(ppath)
        if text is None:
            continue
        header = parse_dep3(text)
        desc = header.get("description") or header.get("subject") or ""
        is_fix = bool(_FIX_WORDS.search(desc))
        note = _note_line(desc)
        for rel, hunks in parse_patch(text).items():
            target = root / rel
            if language_for_path(rel) is None or not target.is_file() or is_denied(project, rel):
                continue
            before = state.get(rel)
            if before is None:
                before = _read(target)
            if before is None:
                continue
            after = apply_hunks(before, hunks)
            if after is None and rel in state:  # fall back to the pristine upstream file
                original = _read(target)
                after = apply_hunks(original, hunks) if original is not None else None
                before = original if after is not None else before
            if after is None:
                log.info("patch %s does not apply to %s/%s", name, project, rel)
                continue
            state[rel] = after
            if not is_fix:
                continue
            for ch in function_changes(project, rel, before, after, origin=f"debian-patch:{name}"):
                ch.note = note or f"Fixed by the Debian patch {name}."
                out.append(ch)
    return out


# --- records -----------------------------------------------------------------------------------------


def pair_examples(change: FunctionChange, source: str = "real-change") -> list[DefectExample]:
    """The buggy (before) and fixed (after) examples of one change, sharing a pair_id; `source` is
    also the buggy side's operator (what kind of real edit it is)."""
    split = split_for_project(change.project)
    pair_id = stable_id("change", change.project, change.path, change.qualified_name, change.origin, change.before)
    return [
        DefectExample(
            id=pair_id + "-b", project=change.project, language=change.language, split=split,
            code=change.before, label=1, bug_lines=list(change.bug_lines), fix_line=change.fix_line,
            fix_replacement=change.fix_replacement, operator=source, note=change.note,
            pair_id=pair_id, source=source,
        ),
        DefectExample(
            id=pair_id + "-f", project=change.project, language=change.language, split=split,
            code=change.after, label=0, bug_lines=[], fix_line=None, fix_replacement=None,
            operator="clean", note="", pair_id=pair_id, source=source,
        ),
    ]


def mine_changes(cache_dir: str | Path = DEFAULT_CACHE, manifest: dict | None = None) -> list[DefectExample]:
    """All real-change pairs from the harvested cache (release pairs + Debian patches)."""
    cache = Path(cache_dir)
    manifest = read_manifest(cache) if manifest is None else manifest
    entries = [e for e in manifest.get("sources", []) if e.get("status") == "ok" and e.get("src_dir")]
    by_name: dict[tuple[str, str], dict[str, dict]] = {}
    for e in entries:
        by_name.setdefault((e["kind"], e["name"]), {})[e.get("role", "corpus")] = e
    changes: list[FunctionChange] = []
    for (kind, name), roles in sorted(by_name.items()):
        if is_denied(name):
            continue
        cur = roles.get("corpus")
        prev = roles.get("previous")
        try:
            if cur is not None and prev is not None:
                found = changes_between_trees(name, cache / prev["src_dir"], cache / cur["src_dir"], prev["version"], cur["version"])
                log.info("release changes %s %s->%s: %d", name, prev["version"], cur["version"], len(found))
                changes.extend(found)
            if kind == "debian" and cur is not None:
                found = debian_patch_changes(name, cache / cur["src_dir"])
                log.info("debian patch changes %s: %d", name, len(found))
                changes.extend(found)
        except Exception:
            log.exception("change mining failed for %s", name)
    out: list[DefectExample] = []
    seen: set[str] = set()
    for ch in changes:
        key = normalize_whitespace(ch.before) + "\0" + normalize_whitespace(ch.after)
        if key in seen:
            continue
        seen.add(key)
        out.extend(pair_examples(ch))
    return out


