"""Projects reserved for evaluation: they must never appear in training or tuning data, in any
version, under any packaging name.

`is_denied(project_name, path=None)` normalises the name (case, `-`/`_`/`.`/spaces, distro
prefixes and suffixes such as `python-`, `python3-`, `node-`, `lib…-java`, `golang-github-…`,
`rust-`, version suffixes) and compares it with the reserved names *exactly*; it also checks every
component of `path` the same way, so a vendored copy (`third_party/tornado/web.py`) is caught.
Competitive-programming material (AtCoder, Codeforces, LeetCode, …) and the bug datasets
(BugsInPy, ConDefects, Codeflaws, Defects4J, BugsJS, ManySStuBs4J, PySStuBs, QuixBugs, PyPIBugs,
TSSB-3M) are matched by substring, since such collections have no canonical package name and their
copies carry the dataset's name in some form.

Deliberately exact rather than substring for package names: `tornado` is denied, while
`tornado-extra`-style plugins are a different project (they are still caught when they vendor
the reserved project under a path component named after it). Known plugins/forks that embed the
reserved code are listed explicitly below.
"""

from __future__ import annotations

import re
from pathlib import PurePath, PurePosixPath, PureWindowsPath

__all__ = ["DENIED_PROJECTS", "is_denied", "normalize_name"]

# canonical reserved projects → other names they are published or packaged under
DENIED_PROJECTS: dict[str, tuple[str, ...]] = {
    "ansible": ("ansible-core", "ansible-base", "ansible-lint"),
    "black": ("psf-black", "blackd"),
    "cookiecutter": (),
    "fastapi": ("fastapi-slim", "fastapi-cli"),
    "httpie": ("http-prompt-httpie",),
    "keras": ("keras-core", "keras-nightly", "tf-keras", "keras-preprocessing", "keras-applications"),
    "luigi": (),
    "matplotlib": ("matplotlib-base", "mpl", "matplotlib-inline"),
    "pandas": ("pandas-stubs",),
    "pysnooper": ("snoop-pysnooper",),
    "sanic": ("sanic-routing", "sanic-testing", "sanic-ext"),
    "scrapy": (),
    "spacy": ("spacy-legacy", "spacy-nightly"),
    "thefuck": (),
    "tornado": (),
    "tqdm": (),
    "youtube-dl": ("youtubedl", "youtube_dl", "yt-dlp"),
    "more-itertools": ("moreitertools",),
    "commons-lang": (
        "commons-lang3",
        "apache-commons-lang",
        "apache-commons-lang3",
        "libcommons-lang-java",
        "libcommons-lang3-java",
        "commonslang",
        "commonslang3",
    ),
    "quixbugs": ("quix-bugs",),
    # bug datasets and benchmarks (issue 18): their bugs must not reach training under any name
    "bugsinpy": ("bugs-in-py",),
    "condefects": (),
    "codeflaws": (),
    "defects4j": ("defects4j-dissection",),
    "bugsjs": ("bugs-js", "bugsjs-dataset"),
    "manysstubs4j": ("manysstubs", "minesstubs", "sstubs"),
    "pysstubs": (),
    "pypibugs": (),
    "tssb-3m": ("tssb3m",),
    # competitive programming (also matched by substring below)
    "atcoder": ("ac-library", "atcoder-library"),
    "codeforces": (),
    "leetcode": (),
    "codenet": ("project-codenet",),
    "poj-104": ("poj104",),
}

# matched anywhere in a normalised name or path component
_DENIED_SUBSTRINGS = ("atcoder", "codeforces", "competitive", "leetcode", "quixbugs", "topcoder", "codechef", "hackerrank", "codejam",
                      # bug datasets: forks and mirrors are named after them ("defects4j-fork", "BugsInPy-data")
                      "bugsinpy", "condefects", "codeflaws", "defects4j", "bugsjs", "sstubs", "pypibugs", "tssb3m")

_PREFIXES = ("python3-", "python-", "py3-", "pypi-", "node-", "nodejs-", "golang-github-", "golang-", "rust-", "ruby-", "perl-", "r-cran-")
_VERSION_SUFFIX = re.compile(r"(?:[-_.]?v?\d+(?:[._]\d+)*(?:[a-z]+\d*)?)$")


def _basic(name: str) -> str:
    name = name.strip().lower()
    name = re.sub(r"[\s_.]+", "-", name)
    return re.sub(r"-+", "-", name).strip("-")


def _variants(name: str) -> set[str]:
    """Normalised spellings a name may stand for (distro prefixes/suffixes and versions removed)."""
    raw = re.sub(r"(?:\.orig)?\.(?:tar\.(?:gz|xz|bz2|zst)|tgz|tbz2?|txz|zip|whl|gem|jar|crate)$", "", name.strip(), flags=re.IGNORECASE)
    base = _basic(raw)
    out = {base, _basic(name)}
    changed = True
    while changed:
        changed = False
        for v in sorted(out):  # a snapshot: `out` grows inside the loop
            cands = []
            for p in _PREFIXES:
                if v.startswith(p) and len(v) > len(p):
                    cands.append(v[len(p):])
            m = re.fullmatch(r"lib(.+)-java", v)
            if m:
                cands.append(m.group(1))
            for suf in ("-java", "-js", "-py", "-python", "-dev", "-doc", "-src", "-source", "-master", "-main", "-git"):
                if v.endswith(suf) and len(v) > len(suf):
                    cands.append(v[: -len(suf)])
            stripped = _VERSION_SUFFIX.sub("", v)
            if stripped and stripped != v:
                cands.append(stripped.rstrip("-"))
            # golang-github-owner-repo → repo (and owner-repo)
            for c in cands:
                if c and c not in out:
                    out.add(c)
                    changed = True
    # github-style owner-repo: "psf-black" → also "black" only for known forms (exact table)
    return out


def normalize_name(name: str) -> str:
    """Canonical comparison form: lower case, `_`/`.`/spaces → `-` (distro prefixes kept)."""
    return _basic(name)


def _squash(name: str) -> str:
    return name.replace("-", "")


_DENIED_NAMES: set[str] = set()
for _canon, _aliases in DENIED_PROJECTS.items():
    for _n in (_canon, *_aliases):
        _DENIED_NAMES.add(_squash(_basic(_n)))


def _name_denied(name: str) -> bool:
    if not name:
        return False
    variants = _variants(name)
    for v in variants:
        sq = _squash(v)
        if sq in _DENIED_NAMES:
            return True
        if any(s in sq for s in _DENIED_SUBSTRINGS):
            return True
    # golang-github-<owner>-<repo>: the repo part alone
    for v in variants:
        parts = v.split("-")
        for i in range(1, len(parts)):
            tail = _squash("-".join(parts[i:]))
            if tail in _DENIED_NAMES and v.startswith(("golang-github-", "github-")):
                return True
    return False


def _path_components(path: str | PurePath) -> list[str]:
    text = str(path)
    parts = PureWindowsPath(text).parts if "\\" in text else PurePosixPath(text).parts
    out = []
    for part in parts:
        if part in ("/", "\\", ".", ".."):
            continue
        out.append(part)
        stem = part
        # file names: "tornado.py" → "tornado"; archives: "tqdm-4.66.1.tar.gz" → "tqdm-4.66.1"
        for ext in (".tar.gz", ".tar.xz", ".tar.bz2", ".tgz", ".zip", ".whl", ".orig", ".py", ".pyi", ".js", ".ts", ".java", ".go", ".rs", ".c", ".h", ".cpp", ".hpp", ".cc"):
            if stem.lower().endswith(ext):
                stem = stem[: -len(ext)]
        if stem != part:
            out.append(stem)
        # debian "pkg_1.2.orig" / "pkg-1.2"
        m = re.match(r"^(.+?)[-_]v?\d+(?:\.\d+)*", stem)
        if m:
            out.append(m.group(1))
    return out


def is_denied(project_name: str | None, path: str | PurePath | None = None) -> bool:
    """True when `project_name`, or any component of `path`, names a reserved evaluation project."""
    if project_name and _name_denied(project_name):
        return True
    if path is not None:
        for comp in _path_components(path):
            if _name_denied(comp):
                return True
    return False
