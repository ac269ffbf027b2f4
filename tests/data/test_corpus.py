import io
import json
import tarfile
from pathlib import Path

import pytest
from manyskills.data import corpus
from manyskills.data.corpus import Project, Source, harvest, iter_projects, load_sources, project_files
from manyskills.data.denylist import is_denied
from manyskills.data.extract import (
    NearDuplicateIndex,
    code_tokens,
    extract_functions,
    function_code,
    jaccard,
    split_for_project,
)
from manyskills.data.records import CorpusFunction, DefectExample, read_jsonl, write_jsonl

PY_A = '''
def add(a, b):
    """Add two numbers."""
    total = a + b
    return total


class Box:
    def get(self, key, default=None):
        value = self.items.get(key)
        if value is None:
            return default
        return value

    def tiny(self):
        return 1


def test_add():
    assert add(1, 2) == 3
    assert add(2, 2) == 4
    assert add(0, 0) == 0
'''

# same `add` with different whitespace (exact duplicate), and a near-duplicate of `get`
PY_B = '''
def add(a,   b):
    """Add two numbers."""
    total  =  a + b
    return total


def get(self, key, default=None):
    value = self.items.get(key)
    if value is None:
        return default
    return value


def unique_thing(xs):
    out = []
    for x in xs:
        out.append(x * 2)
    return out
'''

JS = '''
function greet(name) {
  const msg = "hi " + name;
  return msg;
}
'''


def make_project(tmp_path: Path, name: str, files: dict[str, str]) -> Project:
    root = tmp_path / name
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return Project(name, "pypi", "1.0", "MIT", root, project_files(root, None, name), f"pypi/{name}-1.0")


def test_split_is_stable_and_by_project():
    assert split_for_project("requests") == split_for_project("requests")
    assert split_for_project("Requests") == split_for_project("requests")
    splits = [split_for_project(f"project-{i}") for i in range(2000)]
    assert 0.75 < splits.count("train") / 2000 < 0.85
    assert 0.07 < splits.count("valid") / 2000 < 0.13
    assert 0.07 < splits.count("test") / 2000 < 0.13


def test_extract_filters_dedups_and_splits(tmp_path):
    pa = make_project(tmp_path, "alpha", {"alpha/core.py": PY_A, "web/app.js": JS, "README.md": "x"})
    pb = make_project(tmp_path, "beta", {"beta/mod.py": PY_B})
    counts = {}
    fns = extract_functions([pb, pa], per_project_counts=counts)  # order of input does not matter
    names = [(f.project, f.qualified_name) for f in fns]
    # alpha sorts first, so its copies are kept and beta's duplicates dropped
    assert ("alpha", "add") in names and ("beta", "add") not in names
    assert ("alpha", "Box.get") in names and ("beta", "get") not in names
    assert ("beta", "unique_thing") in names
    assert ("alpha", "greet") in names
    # tiny (2 lines) is too short
    assert not any(q == "Box.tiny" for _, q in names)
    # split by project: never straddles
    for project in ("alpha", "beta"):
        assert {f.split for f in fns if f.project == project} == {split_for_project(project)}
    test_fn = next(f for f in fns if f.qualified_name == "test_add")
    assert test_fn.is_test
    # methods are dedented
    get = next(f for f in fns if f.qualified_name == "Box.get")
    assert get.code.startswith("def get(") and "\n    value = " in get.code
    assert counts["pypi/alpha-1.0"] == sum(1 for f in fns if f.project == "alpha")
    # deterministic
    again = extract_functions([pa, pb])
    assert [f.id for f in again] == [f.id for f in fns]


def test_extract_size_limits(tmp_path):
    long_body = "\n".join(f"    x{i} = {i}" for i in range(70))
    big = f"def big():\n{long_body}\n    return 0\n"
    wide = "def wide():\n    s = '" + "a" * 2100 + "'\n    return s\n"
    p = make_project(tmp_path, "gamma", {"g.py": big + "\n\n" + wide})
    assert extract_functions([p]) == []


def test_extract_skips_functions_with_parse_errors(tmp_path):
    src = "def ok(a):\n    b = a\n    return b\n\n\ndef broken(a):\n    if a\n        return (\n    return 1\n"
    p = make_project(tmp_path, "delta", {"d.py": src})
    names = [f.qualified_name for f in extract_functions([p])]
    assert names == ["ok"]


def test_extract_drops_denied_projects(tmp_path):
    p = make_project(tmp_path, "tornado", {"t.py": PY_A})
    q = make_project(tmp_path, "okproj", {"vendor2/tqdm/x.py": PY_B})
    assert extract_functions([p, q]) == []


def test_near_duplicate_index():
    idx = NearDuplicateIndex(0.9)
    a = code_tokens("def f(a, b):\n    c = a + b\n    d = c * 2\n    e = d - 1\n    return e + a + b + c + d")
    assert idx.add_if_new(a)
    assert not idx.add_if_new(list(a))  # identical set
    assert idx.add_if_new(code_tokens("while True: print('totally different tokens here')"))
    assert jaccard({1, 2}, {2, 3}) == pytest.approx(1 / 3)


def test_function_code_dedents_methods():
    from manyskills.index.functions import index_functions

    text = "class A:\n    def m(self):\n        x = 1\n        return x\n"
    fn = next(f for f in index_functions("python", text) if f.name == "m")
    assert function_code(fn, text.split("\n")) == "def m(self):\n    x = 1\n    return x"


def test_project_files_skips_bundles_vendor_and_denied(tmp_path):
    root = tmp_path / "pkg"
    for rel in ["src/a.js", "dist/a.js", "dist/a.min.js", "node_modules/x/y.js", "vendor/v.py", "types.d.ts",
                "lib/tqdm/z.py", "b.py", "notes.txt"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x = 1\n")
    assert project_files(root, None) == ["b.py", "src/a.js"]
    # a package with nothing but bundles keeps them
    only = tmp_path / "only"
    (only / "dist").mkdir(parents=True)
    (only / "dist" / "index.js").write_text("x")
    assert project_files(only, None) == ["dist/index.js"]
    # the cap is a deterministic sample
    many = tmp_path / "many"
    many.mkdir()
    for i in range(20):
        (many / f"m{i}.py").write_text("x = 1\n")
    first = project_files(many, 5)
    assert len(first) == 5 and first == project_files(many, 5)


def _tgz(path: Path, members: dict[str, str]) -> None:
    with tarfile.open(path, "w:gz") as tf:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))


def test_harvest_from_cached_archives(tmp_path):
    cache = tmp_path / "cache"
    arch = cache / "archives" / "pypi" / "mypkg-1.0"
    arch.mkdir(parents=True)
    _tgz(arch / "mypkg-1.0.tar.gz", {
        "mypkg-1.0/mypkg/__init__.py": PY_A,
        "mypkg-1.0/CHANGES.rst": "1.0\n---\n- first\n",
        "mypkg-1.0/docs/logo.png": "binary",
        "mypkg-1.0/../../evil.py": "x = 1\n",
    })
    sources = [
        Source("pypi", "mypkg", "1.0", "MIT"),
        Source("pypi", "tornado", "6.4", "Apache-2.0"),
        Source("pypi", "missing", "0.1", "MIT"),
    ]
    m = harvest(cache, sources, skip_download=True)
    by = {e["name"]: e for e in m["sources"]}
    assert by["mypkg"]["status"] == "ok" and by["mypkg"]["files"] == 1
    assert len(by["mypkg"]["archives"][0]["sha256"]) == 64
    assert by["tornado"]["status"] == "denied"
    assert by["missing"]["status"] == "failed"  # logged and skipped, never fatal
    src = cache / "src" / "pypi" / "mypkg-1.0"
    assert (src / "mypkg" / "__init__.py").exists() and (src / "CHANGES.rst").exists()
    assert not (src / "docs" / "logo.png").exists()
    assert not (tmp_path / "evil.py").exists()
    manifest = json.loads((cache / "MANIFEST.json").read_text())
    assert {e["name"] for e in manifest["sources"]} == {"mypkg", "tornado", "missing"}
    projects = list(iter_projects(cache))
    assert [p.name for p in projects] == ["mypkg"]
    assert projects[0].files == ["mypkg/__init__.py"]


def test_packaged_sources_are_pinned_and_allowed():
    sources = load_sources()
    assert len(sources) > 80
    kinds = {s.kind for s in sources}
    assert kinds == {"stdlib", "pypi", "npm", "debian"}
    for s in sources:
        assert s.version and s.licence, s
        if s.kind != "stdlib":
            assert not is_denied(s.name), s.name
    assert len({s.key for s in sources}) == len(sources)


def test_build_dataset_offline(tmp_path):
    from manyskills.data.build import build_dataset

    cache = tmp_path / "cache"
    src = cache / "src" / "pypi" / "mypkg-1.0"
    (src / "mypkg").mkdir(parents=True)
    (src / "mypkg" / "core.py").write_text(PY_A + "\n\n" + PY_B.replace("def add(", "def add2("))
    (src / ".unpacked").write_text("{}")
    out = tmp_path / "ds"
    stats = build_dataset(out, [Source("pypi", "mypkg", "1.0", "MIT")], cache_dir=cache, skip_download=True,
                          stages={"harvest", "functions", "changes", "search", "flaky"})
    fns = read_jsonl(out / "functions.jsonl", CorpusFunction)
    assert fns and all(f.project == "mypkg" for f in fns)
    assert stats["skills"]["functions"]["total"] == len(fns)
    assert (out / "search.jsonl").exists() and (out / "flaky.jsonl").exists()
    assert json.loads((out / "STATS.json").read_text())["skills"]["flaky"]["total"] == 1


def test_records_roundtrip(tmp_path):
    d = DefectExample("i", "p", "python", "train", "x = 1", 1, [0], 0, "x = 2", "op", "n", "pid", "mutation")
    write_jsonl(tmp_path / "d.jsonl", [d])
    assert read_jsonl(tmp_path / "d.jsonl", DefectExample) == [d]
    assert DefectExample.from_dict({**d.to_dict(), "extra": 1}) == d


def test_default_cache_is_gitignored():
    gitignore = Path(__file__).resolve().parents[2] / ".gitignore"
    assert "/data-cache/" in gitignore.read_text()
    assert str(corpus.DEFAULT_CACHE).startswith("data-cache")


def test_pinned_splits_override_the_hash():
    from manyskills.data.extract import pinned_splits

    pins = pinned_splits()
    assert pins, "sources.json pins some splits"
    for name, split in pins.items():
        assert split_for_project(name) == split
        assert split_for_project(name.upper()) == split


def test_harvest_prune_only_when_asked(tmp_path):
    cache = tmp_path / "cache"
    for name in ("one", "two"):
        src = cache / "src" / "pypi" / f"{name}-1.0"
        src.mkdir(parents=True)
        (src / "m.py").write_text("def f(a):\n    b = a\n    return b\n")
        (src / ".unpacked").write_text("{}")
    both = [Source("pypi", "one", "1.0", "MIT"), Source("pypi", "two", "1.0", "MIT")]
    harvest(cache, both, skip_download=True)
    m = harvest(cache, both[:1], skip_download=True)
    assert {e["name"] for e in m["sources"]} == {"one", "two"}  # accumulates
    m = harvest(cache, both[:1], skip_download=True, prune=True)
    assert {e["name"] for e in m["sources"]} == {"one"}
