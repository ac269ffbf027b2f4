"""Real fixes from release histories: the small behavioural edits between consecutive **patch**
releases of PyPI packages (`history.jsonl`).

A patch release (x.y.z → x.y.z+1) exists to fix bugs, so its small function-level edits are the
closest thing to labelled real bugs that is reachable offline: the earlier function is the buggy
candidate, the later one its fix (the ManySStuBs4J idea, with releases instead of commits). The
edits come from `changes.changes_between_trees`, which keeps single-hunk edits of ≤ 3 lines whose
behaviour differs (for Python: not only annotations, docstrings, comments, layout or message text).
They are still noisy labels: a patch release also carries refactors and new features.

Every package goes through the deny-list (reserved evaluation projects are never fetched), and its
split is the project's split, so a package's fixes never straddle train and test. Each release's
archive sha256 and licence (from its PKG-INFO) are written to `HISTORY.json`.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import subprocess
import sys
import tarfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from manyskills.data.changes import FunctionChange, changes_between_trees, pair_examples
from manyskills.data.corpus import Source, _sha256, _unpack
from manyskills.data.denylist import is_denied
from manyskills.data.extract import normalize_whitespace
from manyskills.data.records import DefectExample

__all__ = [
    "DEFAULT_PACKAGES", "RELEASE_FIX", "HistoryResult", "load_packages", "mine_history", "package_licence", "patch_release_pairs",
    "pypi_versions", "write_history",
]

log = logging.getLogger("manyskills.data.history")

RELEASE_FIX = "release-fix"  # source and operator of these examples
DEFAULT_PACKAGES = Path(__file__).with_name("history_packages.txt")
MAX_CHANGES_PER_RELEASE = 40
COPYLEFT = re.compile(r"\b(A?GPL|LGPL|GNU|MPL|Mozilla|EUPL|CDDL|EPL|Eclipse|copyleft)", re.IGNORECASE)
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")  # final releases only: no pre/post/dev/local parts


def pypi_versions(name: str, timeout: int = 120) -> list[str]:
    """Every version of `name` the configured package index lists (pip's own index, so the same
    mirror `pip download` uses)."""
    res = subprocess.run([sys.executable, "-m", "pip", "index", "versions", name, "--disable-pip-version-check"],
                         capture_output=True, text=True, timeout=timeout, check=False)
    for line in res.stdout.splitlines():
        if line.startswith("Available versions:"):
            return [v.strip() for v in line.split(":", 1)[1].split(",") if v.strip()]
    return []


def patch_release_pairs(versions: list[str], limit: int) -> list[tuple[str, str]]:
    """The `limit` most recent (x.y.z, x.y.z+1) pairs among final releases: consecutive patch
    releases of one minor line, where nothing but fixes is supposed to change."""
    parsed = sorted({tuple(int(g) for g in m.groups()): v for v in versions if (m := _VERSION.match(v))}.items())
    pairs = [(a, b) for (ka, a), (kb, b) in itertools.pairwise(parsed) if ka[:2] == kb[:2] and kb[2] == ka[2] + 1]
    return pairs[::-1][:limit]


def package_licence(archive: Path) -> str:
    """The licence a release declares in its PKG-INFO / METADATA (License-Expression, License, or
    the first `License ::` classifier); "" when none."""
    text = ""
    try:
        if archive.name.endswith((".whl", ".zip")):
            with zipfile.ZipFile(archive) as zf:
                names = [n for n in zf.namelist() if n.endswith(("/METADATA", "/PKG-INFO")) and n.count("/") <= 2]
                text = zf.read(min(names, key=len)).decode("utf-8", "replace") if names else ""
        else:
            with tarfile.open(archive) as tf:
                members = [m for m in tf.getmembers() if m.isfile() and m.name.endswith("PKG-INFO") and m.name.count("/") == 1]
                fh = tf.extractfile(members[0]) if members else None
                text = fh.read().decode("utf-8", "replace") if fh else ""
    except (OSError, tarfile.TarError, zipfile.BadZipFile, KeyError):
        return ""
    header = text.split("\n\n", 1)[0]
    fields: dict[str, list[str]] = {}
    for line in header.split("\n"):
        if ":" in line and not line.startswith((" ", "\t")):
            key, value = line.split(":", 1)
            fields.setdefault(key.strip().lower(), []).append(value.strip())
    for key in ("license-expression", "license"):
        value = (fields.get(key) or [""])[0]
        if value and value.upper() != "UNKNOWN" and len(value) < 80:
            return value
    for classifier in fields.get("classifier", []):
        if classifier.startswith("License ::"):
            return classifier.split("::")[-1].strip()
    return ""


@dataclass
class HistoryResult:
    examples: list[DefectExample] = field(default_factory=list)
    manifest: dict = field(default_factory=dict)


def _pip_download(name: str, version: str, dest: Path, wheel: bool) -> list[Path]:
    """One release's wheel (`wheel`) or sdist, reusing a finished download."""
    done = dest / ".complete"
    pattern = "*.whl" if wheel else "*.tar.gz"
    if done.exists():
        files = sorted(dest.glob(pattern)) or sorted(p for p in dest.iterdir() if p.is_file() and p != done)
        if files:
            return files[:1]
    dest.mkdir(parents=True, exist_ok=True)
    kind = ["--only-binary", ":all:"] if wheel else ["--no-binary", ":all:"]
    res = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", *kind, "--disable-pip-version-check",
                          "--dest", str(dest), f"{name}=={version}"], capture_output=True, text=True, timeout=600, check=False)
    files = sorted(p for p in dest.iterdir() if p.is_file() and p != done)
    if res.returncode != 0 or not files:
        raise RuntimeError(f"pip download {name}=={version} ({'wheel' if wheel else 'sdist'}) failed: "
                           f"{(res.stderr or res.stdout)[-300:]}")
    done.write_text(time.strftime("%Y-%m-%dT%H:%M:%S"))
    return files[:1]


def _fetch(name: str, version: str, cache: Path, wheel: bool) -> tuple[Path, list[Path]]:
    """A release unpacked under `cache`: from its wheel (a plain download; a pure-Python wheel holds
    the same modules as the sdist, without the tests, which are not mined anyway) or from its sdist
    (pip prepares an sdist's metadata with its build backend: slower, and it fails when the index
    lacks the backend's requirements)."""
    kind = "wheel" if wheel else "sdist"
    archives = _pip_download(name, version, cache / "archives" / kind / f"{name}-{version}", wheel)
    out = cache / "src" / kind / f"{name}-{version}"
    if not (out / ".unpacked").exists():
        _unpack(Source("pypi", name, version), archives, out)
    return out, archives


def _fetch_pair(name: str, old: str, new: str, cache: Path) -> list[tuple[Path, list[Path]]]:
    """Both releases in the same packaging (wheel, else sdist): the two layouts differ, so mixing
    them would compare nothing."""
    try:
        return [_fetch(name, v, cache, wheel=True) for v in (old, new)]
    except RuntimeError:
        return [_fetch(name, v, cache, wheel=False) for v in (old, new)]


def _mine_package(name: str, cache: Path, pairs: int) -> tuple[list[FunctionChange], dict]:
    entry: dict = {"name": name, "releases": {}, "pairs": [], "error": None}
    changes: list[FunctionChange] = []
    t = time.time()
    try:
        release_pairs = patch_release_pairs(pypi_versions(name), pairs)
    except Exception as exc:  # noqa: BLE001 - one bad package never stops the run
        release_pairs, entry["error"] = [], f"{type(exc).__name__}: {exc}"[-300:]
    for old, new in release_pairs:
        try:
            roots = []
            for version, (root, archives) in zip((old, new), _fetch_pair(name, old, new, cache)):
                roots.append(root)
                entry["releases"].setdefault(version, {
                    "archives": [{"file": a.name, "sha256": _sha256(a), "bytes": a.stat().st_size} for a in archives],
                    "licence": package_licence(archives[0]) if archives else "",
                })
            licences = {entry["releases"][v]["licence"] for v in (old, new)}
            if any(COPYLEFT.search(lic) for lic in licences):
                # the corpus is permissive code only (sources.json); a copyleft release is not mined
                # (judged per release: a package may have been relicensed)
                entry["pairs"].append({"old": old, "new": new, "changes": 0, "skipped": f"copyleft licence {sorted(licences)}"})
                continue
            found = changes_between_trees(name, roots[0], roots[1], old, new)
        except Exception as exc:  # noqa: BLE001 - one bad release never stops the package
            entry["pairs"].append({"old": old, "new": new, "changes": 0, "error": f"{type(exc).__name__}: {exc}"[-300:]})
            continue
        if len(found) > MAX_CHANGES_PER_RELEASE:
            # hundreds of small edits in one patch release are a sweep (a rename, a typing pass, a
            # new linter rule), not that many fixes
            entry["pairs"].append({"old": old, "new": new, "changes": 0, "sweep": len(found)})
            continue
        entry["pairs"].append({"old": old, "new": new, "changes": len(found)})
        changes.extend(found)
    entry["seconds"] = round(time.time() - t, 1)
    log.info("history %s: %d changes from %d release pairs in %.0fs", name, len(changes), len(entry["pairs"]), entry["seconds"])
    return changes, entry


def mine_history(packages: list[str], cache_dir: str | Path, pairs_per_package: int = 8, workers: int = 4) -> HistoryResult:
    """(buggy, fixed) pairs from the patch releases of `packages` (deny-listed names are refused)."""
    cache = Path(cache_dir).resolve()
    names = [n for n in dict.fromkeys(packages) if n]
    refused = [n for n in names if is_denied(n)]
    for n in refused:
        log.warning("deny-listed package refused: %s", n)
    allowed = [n for n in names if n not in refused]
    result = HistoryResult(manifest={"packages": {}, "refused": refused, "pairs_per_package": pairs_per_package})
    seen: set[str] = set()
    with ThreadPoolExecutor(max(1, workers)) as pool:
        for name, (changes, entry) in zip(allowed, pool.map(lambda n: _mine_package(n, cache, pairs_per_package), allowed)):
            result.manifest["packages"][name] = entry
            for change in changes:
                key = normalize_whitespace(change.before) + "\0" + normalize_whitespace(change.after)
                if key not in seen:
                    seen.add(key)
                    result.examples.extend(pair_examples(change, RELEASE_FIX))
    result.manifest["pairs"] = len(result.examples) // 2
    return result


def load_packages(path: str | Path | None = None) -> list[str]:
    """Package names, one or more per line; `#` starts a comment."""
    text = Path(path or DEFAULT_PACKAGES).read_text(encoding="utf-8")
    return [w for line in text.split("\n") for w in line.split("#", 1)[0].split()]


def write_history(out_dir: str | Path, result: HistoryResult) -> None:
    out = Path(out_dir)
    result.manifest["updated"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    (out / "HISTORY.json").write_text(json.dumps(result.manifest, indent=1), encoding="utf-8")
