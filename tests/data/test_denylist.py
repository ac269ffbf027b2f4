import pytest
from manyskills.data.denylist import DENIED_PROJECTS, is_denied, normalize_name

RESERVED = [
    "ansible", "black", "cookiecutter", "fastapi", "httpie", "keras", "luigi", "matplotlib", "pandas",
    "PySnooper", "sanic", "scrapy", "spaCy", "thefuck", "tornado", "tqdm", "youtube-dl", "more-itertools",
    "commons-lang", "commons-lang3", "libcommons-lang-java", "libcommons-lang3-java", "QuixBugs",
]


@pytest.mark.parametrize("name", RESERVED)
def test_reserved_names_denied(name):
    assert is_denied(name)


@pytest.mark.parametrize("name", [
    "Python-Tornado", "python3-tornado", "python-tqdm", "TQDM", "youtube_dl", "Youtube.DL", "more_itertools",
    "pysnooper", "SPACY", "node-tornado", "matplotlib-3.8.0", "pandas_2.1.4", "keras-2.15.0.tar.gz",
    "ansible-core", "tf-keras", "psf-black", "Commons_Lang3", "apache-commons-lang3", "quix-bugs",
    "AtCoder", "atcoder-abc123", "codeforces-solutions", "my-leetcode", "competitive-programming",
    "black-24.1.0", "golang-github-foo-tornado",
])
def test_variants_denied(name):
    assert is_denied(name)


@pytest.mark.parametrize("name", [
    "requests", "flask", "click", "attrs", "numpy", "lodash", "express", "libcommons-io-java",
    "libcommons-collections4-java", "commons-text", "golang-github-spf13-cobra", "zlib", "jq", "fmtlib",
    "blackjack", "tornado_extra", "tqdm-wrapper", "pandasql", "kerasify", "stdlib-json", "",
])
def test_other_projects_allowed(name):
    assert not is_denied(name)


def test_none_name_and_path():
    assert not is_denied(None)
    assert not is_denied(None, "src/pkg/module.py")


@pytest.mark.parametrize("path", [
    "third_party/tornado/web.py", "vendor/tqdm/std.py", "src/youtube_dl/extractor/common.py",
    "lib/more_itertools/more.py", "org/apache/commons-lang3/StringUtils.java", "solutions/atcoder/abc100.py",
    "QuixBugs/python_programs/gcd.py", "black.py", "pkgs/pandas-2.0.0/pandas/core/frame.py",
    "C:\\code\\scrapy\\spider.py",
])
def test_paths_denied(path):
    assert is_denied("someproject", path)


@pytest.mark.parametrize("path", [
    "src/requests/utils.py", "lib/json/decoder.py", "tests/test_blackbox.py", "docs/tornados.md",
    "pkg/pandas_helpers_v2/x.py",
])
def test_paths_allowed(path):
    assert not is_denied("someproject", path)


def test_normalize_name():
    assert normalize_name("More_Itertools") == "more-itertools"
    assert normalize_name(" Youtube.DL ") == "youtube-dl"


def test_every_canonical_entry_denied():
    for canon, aliases in DENIED_PROJECTS.items():
        assert is_denied(canon)
        for a in aliases:
            assert is_denied(a), a


@pytest.mark.parametrize("name", [
    "BugsInPy", "soarsmu-BugsInPy", "ConDefects", "Codeflaws", "defects4j", "rjust-defects4j", "Defects4J-dissection",
    "BugsJS", "bugs-js", "ManySStuBs4J", "mineSStuBs", "PySStuBs", "QuixBugs", "jkoppel-QuixBugs", "PyPIBugs",
    "TSSB-3M", "my-defects4j-fork", "bugsinpy_data",
])
def test_bug_datasets_denied(name):
    assert is_denied(name)


@pytest.mark.parametrize("path", ["datasets/BugsInPy/projects/x.py", "vendor/defects4j/Foo.java", "bugsjs/lib/a.js"])
def test_bug_dataset_paths_denied(path):
    assert is_denied("someproject", path)


@pytest.mark.parametrize("name", ["bugsnag", "pybugz", "stubs", "typeshed-stubs", "codecov", "defects", "flawfinder"])
def test_names_near_bug_datasets_allowed(name):
    assert not is_denied(name)
