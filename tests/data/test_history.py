"""Release-history mining: patch-release selection, licences, deny-list, and one mined package
end to end from two local release trees (only the package index is replaced)."""

import io
import shutil
import tarfile
from pathlib import Path

from manyskills.data import history
from manyskills.data.extract import split_for_project

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "data"


def test_patch_release_pairs_only_consecutive_patch_releases():
    versions = ["1.0.0", "1.0.1", "1.0.3", "1.1.0", "1.1.1", "1.1.2rc1", "1.1.2", "2.0", "2.0.1", "0.9.9.1", "1.2.0.post1"]
    assert history.patch_release_pairs(versions, 10) == [("1.1.1", "1.1.2"), ("1.1.0", "1.1.1"), ("1.0.0", "1.0.1")]
    assert history.patch_release_pairs(versions, 1) == [("1.1.1", "1.1.2")]
    assert history.patch_release_pairs(["3.9.0", "3.10.0", "3.10.1"], 5) == [("3.10.0", "3.10.1")]


def _sdist(path: Path, meta: str) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        data = meta.encode()
        info = tarfile.TarInfo("pkg-1.0.0/PKG-INFO")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    return path


def test_package_licence_from_pkg_info(tmp_path):
    assert history.package_licence(_sdist(tmp_path / "a.tar.gz", "Name: pkg\nLicense-Expression: MIT\n\nbody")) == "MIT"
    assert history.package_licence(_sdist(tmp_path / "b.tar.gz", "Name: pkg\nLicense: UNKNOWN\n"
                                          "Classifier: License :: OSI Approved :: BSD License\n")) == "BSD License"
    assert history.package_licence(_sdist(tmp_path / "c.tar.gz", "Name: pkg\n")) == ""
    assert history.package_licence(tmp_path / "missing.tar.gz") == ""


def test_deny_listed_packages_are_never_fetched(tmp_path, monkeypatch):
    asked = []
    monkeypatch.setattr(history, "pypi_versions", lambda name, timeout=120: asked.append(name) or [])
    result = history.mine_history(["tornado", "more_itertools", "Py-Snooper", "pysnooper"], tmp_path)
    assert asked == [] and result.examples == []
    assert set(result.manifest["refused"]) == {"tornado", "more_itertools", "Py-Snooper", "pysnooper"}


def test_mine_history_end_to_end_from_two_release_trees(tmp_path, monkeypatch):
    """The package index and the download are the only parts replaced: versions come from a list,
    and each release's tree is a local fixture with an sdist archive beside it."""
    trees = {"1.0.0": FIX / "changes" / "pkg-1.0", "1.0.1": FIX / "changes" / "pkg-1.1"}
    monkeypatch.setattr(history, "pypi_versions", lambda name, timeout=120: ["0.9", "1.0.0", "1.0.1", "1.1.0"])

    def fetch(name, version, cache, wheel):
        root = cache / "src" / f"{name}-{version}"
        if not root.exists():
            shutil.copytree(trees[version], root)
        archive = _sdist(cache / f"{name}-{version}.tar.gz", "Name: pkg\nLicense: BSD-3-Clause\n")
        return root, [archive]

    monkeypatch.setattr(history, "_fetch", fetch)
    (tmp_path / "src").mkdir()
    result = history.mine_history(["pkg"], tmp_path, pairs_per_package=4)
    entry = result.manifest["packages"]["pkg"]
    assert entry["pairs"] == [{"old": "1.0.0", "new": "1.0.1", "changes": 2}]
    assert entry["releases"]["1.0.1"]["licence"] == "BSD-3-Clause"
    assert len(entry["releases"]["1.0.0"]["archives"][0]["sha256"]) == 64
    buggy = [e for e in result.examples if e.label == 1]
    assert {e.operator for e in buggy} == {history.RELEASE_FIX} and len(result.examples) == 4
    assert {e.source for e in result.examples} == {history.RELEASE_FIX}
    assert {e.split for e in result.examples} == {split_for_project("pkg")}
    history.write_history(tmp_path, result)
    assert (tmp_path / "HISTORY.json").read_text().count('"pkg"') >= 1


def test_copyleft_releases_are_not_mined(tmp_path, monkeypatch):
    monkeypatch.setattr(history, "pypi_versions", lambda name, timeout=120: ["1.0.0", "1.0.1"])

    def fetch(name, version, cache, wheel):
        root = FIX / "changes" / ("pkg-1.0" if version == "1.0.0" else "pkg-1.1")
        return root, [_sdist(tmp_path / f"{version}.tar.gz", "Name: pkg\nLicense-Expression: LGPL-2.1-or-later\n")]

    monkeypatch.setattr(history, "_fetch", fetch)
    result = history.mine_history(["pkg"], tmp_path)
    assert result.examples == [] and "copyleft" in result.manifest["packages"]["pkg"]["pairs"][0]["skipped"]
    assert history.COPYLEFT.search("GPL-2.0-or-later") and history.COPYLEFT.search("MPL-2.0")
    assert not history.COPYLEFT.search("BSD-3-Clause") and not history.COPYLEFT.search("Apache Software License")


def test_packaged_list_is_readable_and_clean():
    names = history.load_packages()
    assert len(names) > 100 and len(set(names)) == len(names)
    from manyskills.data.denylist import is_denied

    assert not [n for n in names if is_denied(n)]
