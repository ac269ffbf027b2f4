"""Reproducible harvesting of real source code into a cache directory.

Sources are pinned in `sources.json` (next to this file): entries
`{kind: "stdlib"|"pypi"|"npm"|"debian", name, version, licence, [previous], [max_files], [language]}`.
Each is fetched with the registry's ordinary client:

* `stdlib` – the running interpreter's standard library (each top-level module/package is a
  project; `test/`, `idlelib/`, `lib2to3`'s test data, `site-packages` … excluded);
* `pypi`   – `pip download --no-deps --no-binary NAME NAME==VERSION` (the sdist);
* `npm`    – `npm pack NAME@VERSION`;
* `debian` – `apt-get source --download-only NAME=VERSION` (deb-src lines are added for the
  configured suites when missing).

Archives land in `<cache>/archives/<kind>/<name>-<version>/`, the source files we can use
(languages the index understands, changelogs, `debian/patches`) are unpacked into
`<cache>/src/<kind>/<name>-<version>/`, and `<cache>/MANIFEST.json` records every source with its
licence, the sha256 of each archive, the status and file counts (function counts are added by
`extract`). A source that fails to download is logged and skipped, never fatal. The evaluation
deny-list (`denylist.is_denied`) is enforced here on names and on every file path, and again at
extraction.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import time
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from manyskills.data.denylist import is_denied
from manyskills.index.languages import language_for_path

__all__ = [
    "DEFAULT_CACHE",
    "DEFAULT_SOURCES",
    "Project",
    "Source",
    "harvest",
    "iter_projects",
    "load_sources",
    "project_files",
    "read_manifest",
]

log = logging.getLogger("manyskills.data.corpus")

DEFAULT_CACHE = Path("data-cache/corpus")
DEFAULT_SOURCES = Path(__file__).with_name("sources.json")

MAX_FILES_PER_PROJECT = 400
MAX_FILE_BYTES = 300_000
MAX_TOTAL_BYTES = 600_000_000  # source bytes kept across the whole harvest
COMMAND_TIMEOUT = 600

_CHANGELOG = re.compile(r"^(changes|changelog|news|history|release[-_ ]?notes?|releases)(\.[a-z]+)?$", re.IGNORECASE)
# directories never harvested (build output, bundles, vendored code, VCS)
_SKIP_DIRS = {
    "node_modules", "__pycache__", ".git", ".hg", ".svn", ".tox", ".nox", "site-packages",
    "vendor", "vendored", "_vendor", "third_party", "third-party", "thirdparty", "external",
    "build", "_build", "bower_components", ".github",
    # sample inputs of other projects / deliberately odd code (highlighters, parsers, Go testdata)
    "testdata", "test-data", "test_data", "syntax-tests", "examplefiles", "example_files",
}
# bundle directories: skipped when the package has sources elsewhere
_BUNDLE_DIRS = {"dist", "umd", "bundles", "bundle", "esm5", "es5", "min", "browser"}
_STDLIB_EXCLUDE = {
    "test", "idlelib", "lib2to3", "site-packages", "pydoc_data", "ensurepip", "turtledemo",
    "__phello__", "__pycache__", "config", "lib-dynload", "distutils",
}


@dataclass
class Source:
    kind: str
    name: str
    version: str
    licence: str = ""
    previous: str | None = None  # an earlier release, for mining real changes
    max_files: int | None = None
    language: str | None = None  # informative (Debian sources)
    split: str | None = None  # pinned split (else the stable hash of the project name decides)

    @property
    def key(self) -> str:
        return f"{self.kind}/{_safe(self.name)}-{_safe(self.version)}"

    def at_version(self, version: str) -> Source:
        return Source(self.kind, self.name, version, self.licence, None, self.max_files, self.language, self.split)


@dataclass
class Project:
    """One unit of the corpus: a package, or one stdlib module. `files` are relative to `root`."""

    name: str
    kind: str
    version: str
    licence: str
    root: Path
    files: list[str] = field(default_factory=list)
    source_key: str = ""


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", text)


def load_sources(path: str | os.PathLike[str] | None = None) -> list[Source]:
    data = json.loads(Path(path or DEFAULT_SOURCES).read_text(encoding="utf-8"))
    entries = data["sources"] if isinstance(data, dict) else data
    names = {f for f in Source.__dataclass_fields__}
    return [Source(**{k: v for k, v in e.items() if k in names}) for e in entries]


# --- downloading ----------------------------------------------------------------------------------


def _run(cmd: list[str], cwd: Path, timeout: int = COMMAND_TIMEOUT) -> subprocess.CompletedProcess:
    log.info("run: %s (in %s)", " ".join(cmd), cwd)
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_deb_src_checked = False


def ensure_deb_src() -> bool:
    """Make sure apt has deb-src lines for the configured suites; True when `apt-get source` can work."""
    global _deb_src_checked
    if _deb_src_checked:
        return True
    if shutil.which("apt-get") is None:
        return False
    text = ""
    for p in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
        if p.is_file() and (p.suffix in (".list", ".sources") or p.name == "sources.list"):
            text += p.read_text(errors="replace") + "\n"
    if "deb-src" not in text:
        if os.geteuid() != 0:
            log.warning("no deb-src lines and not root: Debian sources unavailable")
            return False
        stanzas = []
        for stanza in re.split(r"\n\s*\n", text):
            if re.search(r"^Types:.*\bdeb\b", stanza, re.MULTILINE) and "deb-src" not in stanza:
                stanzas.append(re.sub(r"^Types:.*$", "Types: deb-src", stanza.strip(), flags=re.MULTILINE))
        for m in re.finditer(r"^deb\s+(\S+.*)$", text, re.MULTILINE):
            stanzas.append("deb-src " + m.group(1))
        if not stanzas:
            return False
        Path("/etc/apt/sources.list.d/manyskills-src.sources" if stanzas[0].startswith("Types") else
             "/etc/apt/sources.list.d/manyskills-src.list").write_text("\n\n".join(stanzas) + "\n")
        res = _run(["apt-get", "update"], Path("/"))
        if res.returncode != 0:
            log.warning("apt-get update failed: %s", res.stderr[-500:])
            return False
    _deb_src_checked = True
    return True


def _download(source: Source, dest: Path) -> list[Path]:
    """Fetch a source's archive(s) into `dest` (reusing what is there); returns the archive files."""
    existing = sorted(p for p in dest.glob("*") if p.is_file() and not p.name.endswith(".part"))
    done_marker = dest / ".complete"
    if done_marker.exists() and existing:
        return [p for p in existing if p.name != ".complete"]
    dest.mkdir(parents=True, exist_ok=True)
    if source.kind == "pypi":
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", source.name,
               "--disable-pip-version-check", "--dest", str(dest), f"{source.name}=={source.version}"]
    elif source.kind == "npm":
        if shutil.which("npm") is None:
            raise RuntimeError("npm not found")
        cmd = ["npm", "pack", "--silent", "--ignore-scripts", f"{source.name}@{source.version}",
               "--pack-destination", str(dest)]
    elif source.kind == "debian":
        if not ensure_deb_src():
            raise RuntimeError("apt deb-src not available")
        cmd = ["apt-get", "source", "--download-only", "-q", f"{source.name}={source.version}"]
    else:
        raise ValueError(f"unknown source kind {source.kind!r}")
    res = _run(cmd, dest)
    files = sorted(p for p in dest.glob("*") if p.is_file() and p.name != ".complete")
    if res.returncode != 0 or not files:
        raise RuntimeError(f"{cmd[0]} failed ({res.returncode}): {(res.stderr or res.stdout)[-800:]}")
    done_marker.write_text(time.strftime("%Y-%m-%dT%H:%M:%S"))
    return files


# --- unpacking ------------------------------------------------------------------------------------


def _wanted(rel: str) -> bool:
    """Is this archive member worth keeping (source code, changelog, Debian patch metadata)?"""
    p = PurePosixPath(rel)
    parts = p.parts
    if parts and parts[0] == "debian":
        return rel in ("debian/changelog", "debian/copyright", "debian/control") or (
            len(parts) >= 3 and parts[1] == "patches")
    if _CHANGELOG.match(p.name):
        return True
    if language_for_path(p.name) is None:
        return False
    name = p.name.lower()
    if name.endswith((".min.js", ".d.ts", ".d.mts", ".d.cts", "-min.js", ".bundle.js")):
        return False
    return not any(part in _SKIP_DIRS for part in parts[:-1])


def _strip_top(names: list[str]) -> str | None:
    """The single top-level directory shared by all members (to strip), or None."""
    tops = {n.split("/", 1)[0] for n in names if n.strip("/")}
    if len(tops) == 1:
        top = next(iter(tops))
        if top != "debian" and any("/" in n.strip("/") for n in names):
            return top
    return None


def _safe_rel(name: str) -> str | None:
    name = name.replace("\\", "/").lstrip("./")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        return None
    return "/".join(parts)


def _unpack_archive(archive: Path, out: Path, max_file_bytes: int = MAX_FILE_BYTES) -> int:
    """Unpack the wanted members of one archive into `out`; returns how many were written."""
    n = 0
    lname = archive.name.lower()
    if lname.endswith((".zip", ".whl")):
        with zipfile.ZipFile(archive) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            top = _strip_top([i.filename for i in infos])
            for info in infos:
                rel = _safe_rel(info.filename)
                if rel is None:
                    continue
                if top and rel.startswith(top + "/"):
                    rel = rel[len(top) + 1:]
                if not _wanted(rel) or info.file_size > max_file_bytes:
                    continue
                target = out / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(zf.read(info))
                n += 1
        return n
    if not re.search(r"\.(tar(\.(gz|xz|bz2|zst))?|tgz|tbz2?|txz)$", lname):
        return 0
    with tarfile.open(archive) as tf:
        members = [m for m in tf.getmembers() if m.isfile()]
        top = _strip_top([m.name for m in members])
        for m in members:
            rel = _safe_rel(m.name)
            if rel is None:
                continue
            if top and rel.startswith(top + "/"):
                rel = rel[len(top) + 1:]
            if not _wanted(rel) or m.size > max_file_bytes:
                continue
            fh = tf.extractfile(m)
            if fh is None:
                continue
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(fh.read())
            n += 1
    return n


def _unpack(source: Source, archives: list[Path], out: Path) -> int:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    n = 0
    if source.kind == "debian":
        # upstream tarball(s) first (orig, orig-component), then the debian/ tarball on top
        order = sorted(archives, key=lambda p: (".debian." in p.name, p.name))
        for a in order:
            if a.suffix == ".dsc" or a.name.endswith((".asc", ".dsc")):
                continue
            if ".orig-" in a.name:  # component tarball: unpacked into a subdirectory
                comp = re.search(r"\.orig-([^.]+)\.", a.name)
                n += _unpack_archive(a, out / (comp.group(1) if comp else "component"))
            else:
                n += _unpack_archive(a, out)
    else:
        for a in archives:
            n += _unpack_archive(a, out)
    (out / ".unpacked").write_text(json.dumps({"files": n}))
    return n


# --- projects -------------------------------------------------------------------------------------


def _stable_key(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def project_files(root: Path, max_files: int | None = MAX_FILES_PER_PROJECT, project: str = "") -> list[str]:
    """Source files of a project (relative posix paths): supported languages only, no vendored or
    bundled code, no deny-listed paths, at most `max_files` (a deterministic, path-hash sample)."""
    files: list[str] = []
    bundled: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        parts = [] if rel_dir == "." else rel_dir.split("/")
        if parts and parts[0] == "debian":
            dirnames[:] = []
            continue
        for fn in sorted(filenames):
            rel = fn if not parts else f"{rel_dir}/{fn}"
            if not _wanted(rel) or language_for_path(fn) is None:
                continue
            if is_denied(None, rel):
                log.info("deny-listed path skipped: %s/%s", project, rel)
                continue
            try:
                if (Path(dirpath) / fn).stat().st_size > MAX_FILE_BYTES:
                    continue
            except OSError:
                continue
            (bundled if any(p.lower() in _BUNDLE_DIRS for p in parts) else files).append(rel)
    if not files:
        files = bundled
    files.sort(key=lambda r: (_stable_key(r), r))
    if max_files is not None:
        files = files[:max_files]
    return sorted(files)


def _stdlib_root() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def _stdlib_projects(max_files: int | None) -> list[tuple[str, Path, list[str]]]:
    root = _stdlib_root()
    out = []
    for entry in sorted(root.iterdir()):
        name = entry.name
        if name in _STDLIB_EXCLUDE or name.startswith(("config-", ".")):
            continue
        if entry.is_file() and entry.suffix == ".py":
            mod = entry.stem
            if mod in _STDLIB_EXCLUDE:
                continue
            out.append((f"stdlib-{mod}", root, [name]))
        elif entry.is_dir() and (entry / "__init__.py").exists():
            files = project_files(entry, max_files, project=f"stdlib-{name}")
            files = [f"{name}/{f}" for f in files if "/data/" not in f"/{f}"]
            if files:
                out.append((f"stdlib-{name}", root, files))
    return out


def read_manifest(cache_dir: str | os.PathLike[str] = DEFAULT_CACHE) -> dict:
    path = Path(cache_dir) / "MANIFEST.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    return {"sources": []}


def write_manifest(cache_dir: str | os.PathLike[str], manifest: dict) -> None:
    path = Path(cache_dir) / "MANIFEST.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=False), encoding="utf-8")
    os.replace(tmp, path)


def harvest(
    cache_dir: str | os.PathLike[str] = DEFAULT_CACHE,
    sources: Iterable[Source] | None = None,
    *,
    kinds: Iterable[str] | None = None,
    max_projects: int | None = None,
    skip_download: bool = False,
    include_previous: bool = True,
    max_files_per_project: int = MAX_FILES_PER_PROJECT,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    prune: bool = False,
) -> dict:
    """Download and unpack the sources (reusing the cache), and write MANIFEST.json.

    Entries already in the manifest are kept, so a Python-only run followed by a run for the
    other kinds accumulates; with `prune`, entries of the harvested kinds that `sources` no longer
    names are dropped (for a run over the whole, edited source list). Returns the manifest."""
    cache = Path(cache_dir).resolve()
    sources = list(load_sources() if sources is None else sources)
    kinds = set(kinds) if kinds else None
    if kinds:
        sources = [s for s in sources if s.kind in kinds]
    if max_projects is not None:
        sources = sources[:max_projects]
    manifest = read_manifest(cache)
    by_key = {e["key"]: e for e in manifest.get("sources", [])}
    if prune and max_projects is None:
        # forget entries of the harvested kinds that the source list no longer names
        wanted = {s.key for s in sources} | {s.at_version(s.previous).key for s in sources if s.previous}
        harvested_kinds = {s.kind for s in sources}
        by_key = {k: e for k, e in by_key.items() if e["kind"] not in harvested_kinds or k in wanted}
    total_bytes = 0

    for source in sources:
        versions = [(source, "corpus")]
        if include_previous and source.previous:
            versions.append((source.at_version(source.previous), "previous"))
        for src, role in versions:
            entry = {
                "key": src.key, "kind": src.kind, "name": src.name, "version": src.version,
                "licence": src.licence, "role": role, "language": src.language,
                "status": "pending", "archives": [], "files": 0, "error": None,
            }
            if src.kind != "stdlib" and is_denied(src.name):
                entry["status"] = "denied"
                log.warning("deny-listed source refused: %s", src.name)
                by_key[src.key] = entry
                continue
            try:
                if src.kind == "stdlib":
                    projects = _stdlib_projects(src.max_files or max_files_per_project)
                    projects = [p for p in projects if not is_denied(p[0])]
                    entry.update(
                        version=sys.version.split()[0], root=str(_stdlib_root()), status="ok",
                        projects=len(projects), files=sum(len(p[2]) for p in projects),
                        archives=[{"file": str(_stdlib_root()), "sha256": None, "bytes": None}],
                    )
                    by_key[src.key] = entry
                    continue
                arch_dir = cache / "archives" / src.kind / f"{_safe(src.name)}-{_safe(src.version)}"
                out = cache / "src" / src.kind / f"{_safe(src.name)}-{_safe(src.version)}"
                if skip_download:
                    archives = sorted(p for p in arch_dir.glob("*") if p.is_file() and p.name != ".complete")
                    if not archives and not (out / ".unpacked").exists():
                        raise RuntimeError("not in cache and --skip-download given")
                else:
                    archives = _download(src, arch_dir)
                entry["archives"] = [
                    {"file": p.name, "sha256": _sha256(p), "bytes": p.stat().st_size} for p in archives
                ]
                if not (out / ".unpacked").exists() or (archives and max(p.stat().st_mtime for p in archives) > (out / ".unpacked").stat().st_mtime):
                    _unpack(src, archives, out)
                files = project_files(out, src.max_files or max_files_per_project, project=src.name)
                size = sum((out / f).stat().st_size for f in files)
                if role == "corpus" and total_bytes + size > max_total_bytes:
                    entry["status"] = "skipped"
                    entry["error"] = "total size cap reached"
                    by_key[src.key] = entry
                    continue
                if role == "corpus":
                    total_bytes += size
                entry.update(status="ok", src_dir=str(out.relative_to(cache)), files=len(files), bytes=size)
                log.info("harvested %s: %d files, %d bytes", src.key, len(files), size)
            except Exception as exc:  # noqa: BLE001 - a failing source never stops the harvest
                entry["status"] = "failed"
                entry["error"] = f"{type(exc).__name__}: {exc}"[-1000:]
                log.warning("source %s failed: %s", src.key, entry["error"])
            by_key[src.key] = entry
        manifest["sources"] = sorted(by_key.values(), key=lambda e: e["key"])
        write_manifest(cache, manifest)

    manifest["sources"] = sorted(by_key.values(), key=lambda e: e["key"])
    manifest["python"] = sys.version.split()[0]
    manifest["updated"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    manifest["limits"] = {"max_files_per_project": max_files_per_project, "max_total_bytes": max_total_bytes,
                          "max_file_bytes": MAX_FILE_BYTES}
    write_manifest(cache, manifest)
    return manifest


def iter_projects(
    cache_dir: str | os.PathLike[str] = DEFAULT_CACHE,
    manifest: dict | None = None,
    *,
    role: str = "corpus",
    kinds: Iterable[str] | None = None,
    max_files_per_project: int = MAX_FILES_PER_PROJECT,
    sources: Iterable[Source] | None = None,
) -> Iterator[Project]:
    """The harvested projects (status ok, not deny-listed), in manifest order."""
    cache = Path(cache_dir)
    manifest = read_manifest(cache) if manifest is None else manifest
    kinds = set(kinds) if kinds else None
    caps = {s.key: s.max_files for s in (sources or [])}
    for e in manifest.get("sources", []):
        if e.get("status") != "ok" or e.get("role", "corpus") != role:
            continue
        if kinds and e["kind"] not in kinds:
            continue
        cap = caps.get(e["key"]) or max_files_per_project
        if e["kind"] == "stdlib":
            for name, root, files in _stdlib_projects(cap):
                if not is_denied(name):
                    yield Project(name, "stdlib", e["version"], e.get("licence", ""), root, files, e["key"])
            continue
        if is_denied(e["name"]):
            continue
        root = cache / e["src_dir"]
        if not root.exists():
            continue
        yield Project(e["name"], e["kind"], e["version"], e.get("licence", ""), root,
                      project_files(root, cap, project=e["name"]), e["key"])


def _main(argv: list[str] | None = None) -> int:  # pragma: no cover - convenience entry point
    import argparse

    ap = argparse.ArgumentParser(description="Harvest the pinned source corpus.")
    ap.add_argument("--cache", default=str(DEFAULT_CACHE))
    ap.add_argument("--sources", default=None)
    ap.add_argument("--kinds", default=None, help="comma-separated: stdlib,pypi,npm,debian")
    ap.add_argument("--max-projects", type=int, default=None)
    ap.add_argument("--skip-download", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    m = harvest(args.cache, load_sources(args.sources), kinds=args.kinds.split(",") if args.kinds else None,
                max_projects=args.max_projects, skip_download=args.skip_download,
                prune=args.max_projects is None)
    ok = sum(1 for e in m["sources"] if e["status"] == "ok")
    print(f"{ok}/{len(m['sources'])} sources ok")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_main())
