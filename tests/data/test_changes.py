from pathlib import Path

from manyskills.data.changes import (
    apply_hunks,
    changelog_section,
    changes_between_trees,
    debian_patch_changes,
    diff_functions,
    mine_changes,
    note_for,
    pair_examples,
    parse_dep3,
    parse_patch,
)
from manyskills.data.extract import split_for_project

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "data"


def test_diff_functions_single_line_replacement():
    before = "def f(x):\n    y = x + 1\n    return y"
    after = "def f(x):\n    y = x - 1\n    return y"
    assert diff_functions(before, after) == ([1], 1, "    y = x - 1")


def test_diff_functions_insertion_and_deletion():
    before = "def f(x):\n    y = x\n    return y"
    after = "def f(x):\n    y = x\n    y += 1\n    return y"
    bug_lines, fix_line, rep = diff_functions(before, after)
    assert bug_lines == [1] and fix_line == 1 and rep == "    y = x\n    y += 1"
    # applying the fix to the buggy code gives the fixed code
    lines = before.split("\n")
    lines[fix_line:fix_line + 1] = rep.split("\n")
    assert "\n".join(lines) == after
    # deletion
    assert diff_functions(after, before) == ([2], 2, "")


def test_diff_functions_rejects_large_whitespace_and_multi_hunk():
    a = "def f():\n    a = 1\n    b = 2\n    c = 3\n    d = 4\n    return a"
    big = "def f():\n    a = 9\n    b = 9\n    c = 9\n    d = 9\n    return a"
    assert diff_functions(a, big) is None  # 4 changed lines
    assert diff_functions(a, a.replace("a = 1", "a  =  1")) is None  # whitespace only
    two = a.replace("a = 1", "a = 0").replace("d = 4", "d = 0")
    assert diff_functions(a, two) is None  # two hunks
    multi = a.replace("b = 2\n    c = 3", "b = 5\n    c = 6")
    assert diff_functions(a, multi) == ([2, 3], None, None)  # 2-line replacement: no single-line fix


def test_changelog_section_and_note():
    text = (FIX / "changes" / "pkg-1.1" / "CHANGES.rst").read_text()
    section = changelog_section(text, "1.1", "1.0")
    assert any("clamp" in ln for ln in section)
    assert not any("First release" in ln for ln in section)
    note = note_for("pkg", "clamp", section)
    assert note.startswith("Fix clamp returning the lower bound")
    assert ":issue:" not in note
    assert note_for("pkg", "mean", section) == "This line was changed in a later release of pkg."


def test_changes_between_release_trees():
    changes = changes_between_trees("pkg", FIX / "changes" / "pkg-1.0", FIX / "changes" / "pkg-1.1", "1.0", "1.1")
    by = {c.qualified_name: c for c in changes}
    # unchanged, whitespace-only and large rewrites are not kept
    assert set(by) == {"clamp", "mean"}
    clamp = by["clamp"]
    assert clamp.bug_lines == [4]
    assert clamp.before.split("\n")[4].strip() == "return low"
    assert clamp.fix_line == 4 and clamp.fix_replacement == "        return high"
    assert "Fix clamp" in clamp.note
    mean = by["mean"]
    assert mean.fix_line is not None and "if not values" in mean.fix_replacement
    ex = pair_examples(clamp)
    assert [e.label for e in ex] == [1, 0]
    assert ex[0].pair_id == ex[1].pair_id and ex[0].source == ex[1].source == "real-change"
    assert ex[0].operator == "real-change" and ex[1].bug_lines == [] and ex[1].code == clamp.after
    assert ex[0].split == split_for_project("pkg")


def test_dep3_and_patch_parsing():
    text = (FIX / "debian" / "cproj" / "debian" / "patches" / "01-fix-overflow.patch").read_text()
    h = parse_dep3(text)
    assert h["description"].split("\n")[0] == "fix off-by-one buffer overflow in copy_name"
    assert h["forwarded"] == "yes"
    files = parse_patch(text)
    assert list(files) == ["src/buf.c"]
    hunk = files["src/buf.c"][0]
    assert hunk.old_start == 3 and "-1" not in hunk.old_lines[0]
    src = (FIX / "debian" / "cproj" / "src" / "buf.c").read_text()
    out = apply_hunks(src, files["src/buf.c"])
    assert "if (n >= size)" in out and "if (n > size)" not in out
    # a hunk that does not match is refused
    assert apply_hunks("nothing here\n", files["src/buf.c"]) is None


def test_debian_patch_changes_only_bug_fixes():
    changes = debian_patch_changes("cproj", FIX / "debian" / "cproj")
    assert [c.qualified_name for c in changes] == ["copy_name"]  # the cosmetic patch is ignored
    c = changes[0]
    assert c.language == "c"
    assert c.before.split("\n")[c.bug_lines[0]].strip() == "if (n > size)"
    assert c.fix_replacement.strip() == "if (n >= size)"
    assert c.note == "fix off-by-one buffer overflow in copy_name"


def test_mine_changes_from_manifest(tmp_path):
    manifest = {"sources": [
        {"key": "pypi/pkg-1.1", "kind": "pypi", "name": "pkg", "version": "1.1", "role": "corpus", "status": "ok",
         "src_dir": str(FIX / "changes" / "pkg-1.1")},
        {"key": "pypi/pkg-1.0", "kind": "pypi", "name": "pkg", "version": "1.0", "role": "previous", "status": "ok",
         "src_dir": str(FIX / "changes" / "pkg-1.0")},
        {"key": "debian/cproj-1", "kind": "debian", "name": "cproj", "version": "1", "role": "corpus", "status": "ok",
         "src_dir": str(FIX / "debian" / "cproj")},
        {"key": "pypi/tqdm-1", "kind": "pypi", "name": "tqdm", "version": "1", "role": "corpus", "status": "ok",
         "src_dir": str(FIX / "changes" / "pkg-1.1")},
        {"key": "pypi/tqdm-0", "kind": "pypi", "name": "tqdm", "version": "0", "role": "previous", "status": "ok",
         "src_dir": str(FIX / "changes" / "pkg-1.0")},
    ]}
    ex = mine_changes(tmp_path, manifest)
    assert len(ex) == 6  # clamp, mean, copy_name pairs; the deny-listed project is ignored
    assert {e.project for e in ex} == {"pkg", "cproj"}
    assert all(e.source == "real-change" for e in ex)


def test_comment_only_edits_are_ignored():
    before = "def f(x):\n    # old note\n    return x"
    after = "def f(x):\n    # new note\n    return x"
    assert diff_functions(before, after) is None


def test_note_line_prefers_the_fix_line():
    from manyskills.data.changes import _note_line

    assert _note_line("Cherry-pick upstream commit abc\n Fix overflow in parser") == "Fix overflow in parser"
    assert _note_line("fix crash on empty input\n more words") == "fix crash on empty input"
    assert _note_line("[PATCH] Fix leak") == "Fix leak"


def test_behavioural_filter_drops_annotations_docstrings_and_messages():
    from manyskills.data.changes import function_changes, is_behavioural_change

    base = 'def f(x: int) -> int:\n    """Doc."""\n    y: "list[int]" = [x]\n    raise ValueError("bad")\n'
    # annotations, docstring, comments and message text: not a fix
    assert not is_behavioural_change("python", base, base.replace("x: int", "x: str").replace("-> int", ""))
    assert not is_behavioural_change("python", base, base.replace('"list[int]"', "list[int]"))
    assert not is_behavioural_change("python", base, base.replace("Doc.", "Better doc."))
    assert not is_behavioural_change("python", base, base.replace('"bad"', 'f"bad {x}"'))
    # a changed call, operator or constant: behaviour
    assert is_behavioural_change("python", base, base.replace("[x]", "[x, 1]"))
    assert is_behavioural_change("python", base, base.replace("ValueError", "TypeError"))
    # a method's body keeps its file indentation: still understood
    method = "def g(self):\n        return self.a + 1"
    assert not is_behavioural_change("python", method, method + "  # noqa")
    assert is_behavioural_change("python", method, method.replace("+ 1", "- 1"))
    # other languages are not judged here (kept)
    assert is_behavioural_change("javascript", "function f(a) { return a; }", "function f(a) { return a; } ")
    body = "    b = a * 2\n    c = b - a\n    return c"
    old = f"def h(a: int):\n{body}\n\n\ndef k(a):\n{body} + 1\n"
    new = f"def h(a: str):\n{body}\n\n\ndef k(a):\n{body} + 2\n"
    assert [c.qualified_name for c in function_changes("p", "m.py", old, new)] == ["k"]
