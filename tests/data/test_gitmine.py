"""The history miner on small repositories built here with git: which commits give pairs, with which
bug lines and tags, and which are dropped."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from manyskills.cli.main import main as cli_main
from manyskills.data.fixdedup import merge_files
from manyskills.data.fixdiff import FunctionFix, function_fix
from manyskills.data.fixtags import fix_tag
from manyskills.data.gitmine import (
    detect_licence,
    git_dir_of,
    is_fix_message,
    is_test_path,
    mine_repository,
    repository_name,
)
from manyskills.data.records import DefectExample

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

CORE = '''\
def clamp(value, low, high):
    if value < low:
        return low
    if value < high:
        return high
    return value


def last_items(items, n):
    start = len(items) - n
    result = items[start:]
    return result


def total(values):
    acc = 0
    for v in values:
        acc += v
    return acc
'''

TESTS = '''\
from calc.core import clamp


def test_clamp():
    assert clamp(5, 0, 10) == 5
    assert clamp(-1, 0, 10) == 0
'''

JS = '''\
function firstN(items, n) {
  const out = [];
  for (let i = 0; i <= n; i++) {
    out.push(items[i]);
  }
  return out;
}
'''

_ENV = {"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "T",
        "GIT_COMMITTER_EMAIL": "t@example.org", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}


class Repo:
    def __init__(self, root: Path):
        self.root = root
        self.day = 0
        root.mkdir(parents=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        self.day += 1
        when = f"2024-01-01T{self.day // 60 % 24:02d}:{self.day % 60:02d}:00Z"
        env = {**os.environ, **_ENV, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
        return subprocess.run(["git", "-C", str(self.root), *args], check=True, capture_output=True, text=True,
                              env=env).stdout.strip()

    def write(self, path: str, text: str) -> None:
        p = self.root / path
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)

    def edit(self, path: str, old: str, new: str) -> None:
        text = (self.root / path).read_text()
        assert old in text, old
        self.write(path, text.replace(old, new, 1))

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")


def _base(root: Path) -> Repo:
    repo = Repo(root)
    repo.write("src/calc/core.py", CORE)
    repo.write("tests/test_core.py", TESTS)
    repo.write("web/list.js", JS)
    repo.write("LICENSE", "MIT License\n\nPermission is hereby granted, free of charge, to any person ...\n")
    repo.commit("Initial commit")
    return repo


def _pairs(rows: list[dict]) -> dict[str, dict[int, dict]]:
    out: dict[str, dict[int, dict]] = {}
    for r in rows:
        out.setdefault(r["pair_id"], {})[r["label"]] = r
    return out


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    repo = _base(tmp_path_factory.mktemp("repos") / "acme+calc")
    shas = {}
    repo.edit("src/calc/core.py", "    if value < high:", "    if value > high:")
    shas["fix"] = repo.commit("Fix wrong comparison in clamp (#12)")
    repo.edit("src/calc/core.py", "        acc += v", "        acc = acc + v")
    shas["refactor"] = repo.commit("Spell out the accumulation in total")
    repo.edit("src/calc/core.py", "    start = len(items) - n", "    start = max(0, len(items) - n)")
    repo.edit("src/calc/core.py", "    acc = 0\n", "    acc = 0.0\n")
    shas["multi"] = repo.commit("Fix bugs in last_items and total")
    repo.edit("src/calc/core.py", "    return result", "    return list(result)")
    shas["reverted"] = repo.commit("Fix last_items returning a view")
    repo.git("revert", "--no-edit", "HEAD")
    shas["revert"] = repo.git("rev-parse", "HEAD")
    repo.edit("src/calc/core.py", "    result = items[start:]\n", "    # the tail\n    result = items[ start: ]\n")
    shas["comment"] = repo.commit("Fix the slicing in last_items")
    repo.edit("tests/test_core.py", "clamp(-1, 0, 10) == 0", "clamp(-1, 0, 10) == -0")
    shas["test_only"] = repo.commit("Fix flaky test of clamp")
    repo.edit("web/list.js", "i <= n;", "i < n;")
    shas["js"] = repo.commit("Fix off-by-one error in firstN")
    repo.edit("src/calc/core.py", "def total(values):\n", "def total(values):\n    if not values:\n        return 0\n")
    shas["guard"] = repo.commit("Fix crash on empty input in total")
    # a merge whose own change (not on either branch) would be a fine pair if merges were mined
    repo.git("checkout", "-q", "-b", "docs")
    repo.write("README.md", "calc\n")
    repo.commit("Add readme")
    repo.git("checkout", "-q", "main")
    repo.write("NOTES.md", "notes\n")
    repo.commit("Add notes")
    repo.git("merge", "--no-ff", "--no-commit", "docs")
    repo.edit("src/calc/core.py", "        return low\n", "        return low + 0\n")
    shas["merge"] = repo.commit("Merge branch 'docs': fix clamp low bound")
    result = mine_repository(repo.root)
    return repo, shas, result


def test_fix_commit_kept_with_bug_line_and_tag(history):
    repo, shas, result = history
    pairs = _pairs(result.rows)
    by_commit = {g[1]["commit"]: g for g in pairs.values()}
    g = by_commit[shas["fix"]]
    buggy, fixed = g[1], g[0]
    assert buggy["code"].split("\n")[buggy["bug_lines"][0]] == "    if value < high:"
    assert buggy["bug_lines"] == [3]
    assert fixed["code"].split("\n")[3] == "    if value > high:"
    assert buggy["tag"] == fixed["tag"] == "wrong_comparison"
    assert buggy["language"] == "python" and buggy["function"] == "clamp" and buggy["path"] == "src/calc/core.py"
    assert buggy["repository"] == "acme/calc" and buggy["project"] == "calc" and buggy["licence"] == "MIT"
    assert buggy["parent"] == repo.git("rev-parse", shas["fix"] + "^")
    assert buggy["date"].startswith("2024-01-")
    assert buggy["note"] == "Fix wrong comparison in clamp"
    assert buggy["fix_line"] == 3 and buggy["fix_replacement"] == "    if value > high:"
    # the rows are DefectExample rows (the trainer's history.jsonl format)
    ex = DefectExample.from_dict(buggy)
    assert ex.label == 1 and ex.pair_id == buggy["pair_id"] and ex.split in ("train", "valid", "test")
    assert DefectExample.from_dict(fixed).label == 0 and fixed["split"] == buggy["split"]


def test_other_languages_and_insertions(history):
    _, shas, result = history
    by_commit = {g[1]["commit"]: g for g in _pairs(result.rows).values()}
    js = by_commit[shas["js"]][1]
    assert js["language"] == "javascript" and js["tag"] == "off_by_one"
    assert js["code"].split("\n")[js["bug_lines"][0]].strip().startswith("for (let i = 0; i <= n")
    guard = by_commit[shas["guard"]][1]
    assert guard["tag"] == "removed_check"
    lines = guard["code"].split("\n")
    assert [lines[i] for i in guard["bug_lines"]] == ["def total(values):", "    acc = 0.0"]  # the neighbours


def test_only_the_fixes_survive(history):
    repo, shas, result = history
    mined = {g[1]["commit"] for g in _pairs(result.rows).values()}
    assert mined == {shas["fix"], shas["js"], shas["guard"]}
    # the merge is never looked at: only the commits with one parent are
    assert result.stats["commits"] == int(repo.git("rev-list", "--count", "--no-merges", "HEAD")) - 1
    dropped = result.stats["dropped"]
    assert dropped["not-a-fix-message"] >= 1  # the refactor (and the non-fix commits around the merge)
    assert dropped["revert"] == 1
    assert dropped["reverted-later"] == 1  # the fix that the revert undid
    assert dropped["several-functions"] == 1  # the multi-function commit
    assert dropped["formatting-only"] == 1  # comment and whitespace
    assert dropped["test-only"] == 1
    assert result.stats["pairs"] == 3 and result.stats["tags"] == {"wrong_comparison": 1, "off_by_one": 1,
                                                                  "removed_check": 1}


def test_reverted_fix_alone_would_be_kept(history, tmp_path):
    """The reverted fix is dropped for its revert: without it, it is a pair."""
    repo, shas, _ = history
    clone = tmp_path / "calc-copy"
    subprocess.run(["git", "clone", "-q", str(repo.root), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "reset", "-q", "--hard", shas["reverted"]], check=True)
    result = mine_repository(clone, repository="acme/calc-copy")
    assert shas["reverted"] in {g[1]["commit"] for g in _pairs(result.rows).values()}


def test_message_filter():
    assert is_fix_message("Fix wrong comparison in clamp")
    assert is_fix_message("Handle empty input (closes issue #31)")
    assert is_fix_message("clamp: off-by-one at the upper bound")
    assert not is_fix_message("Spell out the accumulation in total")
    assert not is_fix_message("Fix typos in docs")
    assert not is_fix_message("fix lint errors")
    assert not is_fix_message("Fix CI")
    assert not is_fix_message("fix mypy errors")
    assert is_fix_message("Fix typo in variable name that broke parsing")
    assert not is_fix_message("Resolve get_first clippy lint")
    assert not is_fix_message("Fix eslint errors in the parser")
    assert is_fix_message("Fix leak found by Coverity")
    assert not is_fix_message("Fixed Eclipse warnings")
    assert not is_fix_message("Fix compiler warnings on MSVC")
    assert is_fix_message("Fix spurious ResourceWarning: close the socket")


def test_dual_licence_and_unreadable_objects(tmp_path):
    repo = _fix_repo(tmp_path / "dual", CORE, "    if value < high:", "    if value > high:")
    repo.write("LICENSE-MIT", "Permission is hereby granted, free of charge, to any person\n")
    repo.write("LICENSE-APACHE", "Apache License\nVersion 2.0, January 2004\n")
    repo.commit("Add licences")
    assert detect_licence(git_dir_of(repo.root)) == "Apache-2.0 OR MIT"
    ok = mine_repository(repo.root)
    assert ok.stats["pairs"] == 1
    # a partial mirror: the fixed blob is missing; the commit is counted, not fatal
    blob = repo.git("rev-parse", "HEAD~1:src/core.py")
    (repo.root / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    broken = mine_repository(repo.root)
    assert broken.stats["pairs"] == 0 and broken.stats["dropped"]["unreadable"] == 1


def test_test_paths():
    for p in ("tests/test_x.py", "pkg/foo_test.go", "src/test/java/FooTest.java", "a/b.spec.ts", "x/__tests__/y.js",
              "test_core.py", "lib/conftest.py", "crate/tests/it.rs"):
        assert is_test_path(p), p
    for p in ("src/calc/core.py", "pkg/testing_utils_impl.go.txt", "src/main/java/Foo.java", "lib/contest.py"):
        assert not is_test_path(p), p


def test_repository_name_and_licence(history):
    repo, _, _ = history
    assert repository_name(repo.root, git_dir_of(repo.root)) == "acme/calc"
    assert detect_licence(git_dir_of(repo.root)) == "MIT"


def test_deny_listed_repository_refused(tmp_path):
    repo = _base(tmp_path / "tornado")
    with pytest.raises(PermissionError):
        mine_repository(repo.root)
    out = tmp_path / "out.jsonl"
    assert cli_main(["data", "history", "--repo", str(repo.root), "--out", str(out)]) == 2
    assert out.read_text() == ""
    repo2 = _base(tmp_path / "plain")
    with pytest.raises(PermissionError):
        mine_repository(repo2.root, repository="someone/BugsInPy")


def _fix_repo(root: Path, core: str, old: str, new: str) -> Repo:
    repo = Repo(root)
    repo.write("src/core.py", core)
    repo.commit("Initial commit")
    repo.edit("src/core.py", old, new)
    repo.commit("Fix bound check")
    return repo


def test_cli_and_dedup_across_repositories(tmp_path):
    a = _fix_repo(tmp_path / "a", CORE, "    if value < high:", "    if value > high:")
    # the same function with other comments and layout elsewhere: a near-duplicate of a's fix
    near = CORE.replace("def clamp(value, low, high):\n", "def clamp(value, low, high):  # bound it\n")
    near = near.replace("    return value\n", "    # done\n    return value\n")
    b = _fix_repo(tmp_path / "b", near, "    if value < high:", "    if value > high:")
    # the same one-token edit in a different function: another bug, kept
    other = "def pick(x, y, z):\n    w = x * 2\n    if w < y:\n        return z\n    return w + y\n"
    c = _fix_repo(tmp_path / "c", other, "    if w < y:", "    if w > y:")
    outs = []
    for repo in (a, a, b, c):  # `a` twice: exact duplicates
        out = tmp_path / f"{repo.root.name}-{len(outs)}.jsonl"
        assert cli_main(["data", "history", "--repo", str(repo.root), "--out", str(out), "--licence", "MIT"]) == 0
        assert len(out.read_text().splitlines()) == 2
        outs.append(out)
    merged = tmp_path / "merged.jsonl"
    assert cli_main(["data", "history-merge", *map(str, outs), "--out", str(merged)]) == 0
    rows = [json.loads(x) for x in merged.read_text().splitlines()]
    assert [r["repository"] for r in rows if r["label"] == 1] == ["a", "c"]
    stats = merge_files(outs, tmp_path / "again.jsonl")
    assert stats["pairs_in"] == 4 and stats["pairs_out"] == 2
    assert stats["exact_duplicates"] == 1 and stats["near_duplicates"] == 1
    stats_file = json.loads((tmp_path / "a-0.stats.json").read_text())
    assert stats_file[0]["pairs"] == 1 and stats_file[0]["licence"] == "MIT"


def test_several_repositories_in_one_run_dedup(tmp_path):
    a = _fix_repo(tmp_path / "one", CORE, "    if value < high:", "    if value > high:")
    b = _fix_repo(tmp_path / "two", CORE, "    if value < high:", "    if value > high:")
    out = tmp_path / "both.jsonl"
    assert cli_main(["data", "history", "--repo", str(a.root), "--repo", str(b.root), "--out", str(out)]) == 0
    assert len(out.read_text().splitlines()) == 2


@pytest.mark.parametrize(("buggy", "fixed", "tag"), [
    (["if x <= n:"], ["if x < n:"], "off_by_one"),
    (["if x < n:"], ["if x > n:"], "wrong_comparison"),
    (["y = a[i]"], ["y = a[i - 1]"], "off_by_one"),
    (["y = a[3]"], ["y = a[2]"], "off_by_one"),
    (["y = a + b"], ["y = a * b"], "wrong_binary_operator"),
    (["if x:"], ["if not x:"], "negated_condition"),
    (["if (!ok) {"], ["if (ok) {"], "negated_condition"),
    (["if x and y:"], ["if x or y:"], "and_or_swap"),
    (["if (a || b) {"], ["if (a && b) {"], "and_or_swap"),
    (["if x == None:"], ["if x is None:"], "is_vs_equality"),
    (["if x is not y:"], ["if x != y:"], "is_vs_equality"),
    (["f(a, b)"], ["f(b, a)"], "swapped_arguments"),
    (["z = ctx.args + ctx.extra"], ["z = ctx.extra + ctx.args"], "swapped_operands"),
    (["x = a if c else b"], ["x = b if c else a"], "swapped_branches"),
    (["y = foo(a)"], ["y = foo(b)"], "variable_misuse"),
    (["v = unicode(x)"], ["v = text_type(x)"], "wrong_function"),
    (["f = getattr(f, 'buffer')"], ["f = getattr(f, 'buffer', None)"], "missing_argument"),
    (["h.send(x, request)"], ["h.send(x)"], "extra_argument"),
    (["y = o.foo(a)"], ["y = o.bar(a)"], "wrong_attribute"),
    (["p->next = q;"], ["p->prev = q;"], "wrong_attribute"),
    (["timeout = 30"], ["timeout = 300"], "wrong_literal"),
    (["flag = True"], ["flag = False"], "wrong_literal"),
    (['d["nmae"]'], ['d["name"]'], "wrong_string"),
    (['raise E("no such file")'], ['raise E("no such file or directory")'], "message_text"),
    (["return x"], ["return x + y"], "wrong_return_value"),
    (["return self.close()"], ["self.close()"], "wrong_return_value"),
    ([], ["if x is None:", "    return"], "removed_check"),
    (["if a:"], ["if a and b:"], "removed_check"),
    (["v = f()"], ["v = await f()"], "missing_await"),
    ([], ["break;"], "missing_break"),
    (["break"], [], "extra_break"),
    (["i++;"], [], "extra_increment"),
    ([], ["self.flush()"], "missing_statement"),
    (["log(x)"], [], "extra_statement"),
    (["x = compute(y) + 2"], ["x = (compute(y) + 2) // k"], "other"),
])
def test_fix_tags(buggy, fixed, tag):
    assert fix_tag(buggy, fixed) == tag


def test_duplicated_statement_tag_needs_the_copy_next_to_it():
    assert fix_tag(["total += x"], [], ["total += x"], ["return total"]) == "duplicated_statement"
    assert fix_tag(["total += x"], [], ["y = 1"], ["return total"]) == "extra_statement"


C_BEFORE = """\
int clamp(int v, int hi) {
    /* keep v
       below hi */
    if (v > hi) {
        return hi;
    }
    return v;
}

int twice(int v) {
    return v * 2;
}
"""


def test_function_fix_shapes():
    # comments and layout: nothing significant changed
    reformatted = C_BEFORE.replace("below hi */", "under hi */").replace("    return v;\n}", "    return   v;\n}")
    assert function_fix("c", C_BEFORE, reformatted) == "formatting-only"
    # one token in one function, bug line counted within the function
    fix = function_fix("c", C_BEFORE, C_BEFORE.replace("if (v > hi)", "if (v >= hi)"))
    assert isinstance(fix, FunctionFix) and fix.qualified_name == "clamp" and fix.bug_lines == [3]
    assert fix.tag == "off_by_one" and fix.changed_lines == 1
    # two functions
    both = C_BEFORE.replace("if (v > hi)", "if (v >= hi)").replace("v * 2", "v << 1")
    assert function_fix("c", C_BEFORE, both) == "several-functions"
    # four significant lines
    many = C_BEFORE.replace("return v;\n}", "v = v + 1;\n    v = v + 2;\n    v = v + 3;\n    return v + 4;\n}", 1)
    assert function_fix("c", C_BEFORE, many) == "too-many-lines"
    # outside any function
    assert function_fix("c", C_BEFORE, "#include <stdio.h>\n" + C_BEFORE) == "outside-function"


def test_python_indentation_is_significant_and_docstrings_are_not():
    before = "def f(xs):\n    for x in xs:\n        if x:\n            return x\n        return None\n"
    fix = function_fix("python", before, before.replace("        return None\n", "    return None\n"))
    assert isinstance(fix, FunctionFix) and fix.bug_lines == [4]
    documented = before.replace("def f(xs):\n", 'def f(xs):\n    """First truthy x."""\n')
    assert function_fix("python", before, documented) == "formatting-only"
    annotated = before.replace("def f(xs):", "def f(xs: list) -> object:")
    assert function_fix("python", before, annotated) == "not-behavioural"


JAVA_BEFORE = """\
class Out {
  void write(Object src, Appendable w) {
    String s = render(src);
    w.append(s);
  }

  void write(Object src, StringBuilder b) {
    String s = render(src);
    b.append(s, 0, 1);
  }
}
"""


def test_overloads_are_not_one_function():
    # the edit removes a line of the first overload and adds one to the second: same name, two functions
    after = JAVA_BEFORE.replace("    w.append(s);\n", "").replace("    b.append(s, 0, 1);\n",
                                                                   "    b.append(s, 0, 1);\n    b.append(';');\n")
    assert function_fix("java", JAVA_BEFORE, after) in ("several-functions", "unmatched-function")
    fix = function_fix("java", JAVA_BEFORE, JAVA_BEFORE.replace("b.append(s, 0, 1)", "b.append(s, 0, 2)"))
    assert isinstance(fix, FunctionFix) and fix.qualified_name == "Out.write" and fix.bug_lines == [2]
    assert "StringBuilder" in fix.before and fix.tag == "off_by_one"


_BODY = {  # one function per language whose line 1 or 2 holds `a < b`
    "python": "def pick(a, b):\n    if a < b:\n        return a\n    return b\n",
    "javascript": "function pick(a, b) {\n  if (a < b) {\n    return a;\n  }\n  return b;\n}\n",
    "typescript": "function pick(a: number, b: number): number {\n  if (a < b) {\n    return a;\n  }\n  return b;\n}\n",
    "tsx": "const pick = (a: number, b: number): number => {\n  if (a < b) {\n    return a;\n  }\n  return b;\n};\n",
    "java": "class P {\n  int pick(int a, int b) {\n    if (a < b) {\n      return a;\n    }\n    return b;\n  }\n}\n",
    "c": "/* pick */\nint pick(int a, int b) {\n    if (a < b) {\n        return a;\n    }\n    return b;\n}\n",
    "cpp": "namespace n {\nint pick(int a, int b) {\n    if (a < b) {\n        return a;\n    }\n    return b;\n}\n}\n",
    "go": "package p\n\nfunc pick(a int, b int) int {\n\tif a < b {\n\t\treturn a\n\t}\n\treturn b\n}\n",
    "rust": "fn pick(a: i32, b: i32) -> i32 {\n    if a < b {\n        return a;\n    }\n    b\n}\n",
}


@pytest.mark.parametrize("language", sorted(_BODY))
def test_every_indexed_language(language):
    before = _BODY[language]
    fix = function_fix(language, before, before.replace("a < b", "a > b"))
    assert isinstance(fix, FunctionFix), fix
    assert fix.qualified_name.endswith("pick") and fix.tag == "wrong_comparison"
    assert "a < b" in fix.before.split("\n")[fix.bug_lines[0]] and len(fix.bug_lines) == 1
    assert function_fix(language, before, before.replace("return a", "return  a")) == "formatting-only"


def test_python_docstring_edits_do_not_count_as_changed_lines():
    before = 'def f(xs):\n    """Short."""\n    n = len(xs)\n    return n\n'
    after = 'def f(xs):\n    """Longer text\n\n    over\n    several lines.\n    """\n    n = len(xs) - 1\n    return n\n'
    fix = function_fix("python", before, after)
    assert isinstance(fix, FunctionFix) and fix.changed_lines == 1 and fix.bug_lines == [2]
    assert fix.tag == "off_by_one"
