"""Per-repository facts for the history-mining corpus manifest (issue 18 item 2).

Usage: repo_facts.py MANIFEST owner/name [owner/name ...]
Reads the bare mirror /work/.mirror/owner+name/repo, classifies the licence from the text of the
licence files at HEAD, counts commits and fix commits, picks the main language by file-extension
counts, and records the result in MANIFEST (repos or rejected). A rejected mirror is deleted.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, "/work/main/server")
from manyskills.data.denylist import is_denied

MIRRORS = Path("/work/.mirror")
PERMISSIVE = {"MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "ISC", "Unlicense", "Zlib", "PSF-2.0", "0BSD", "BSL-1.0", "CC0-1.0", "curl", "HPND", "MIT-CMU", "MIT-0"}
LICENCE_NAME = re.compile(r"^(licen[cs]e|copying|unlicense)([-._].*)?$", re.IGNORECASE)

EXT_LANG = {
    ".py": "Python", ".java": "Java", ".c": "C", ".h": "C/C++ header",
    ".cc": "C++", ".cpp": "C++", ".cxx": "C++", ".hpp": "C++", ".hh": "C++", ".hxx": "C++", ".ipp": "C++", ".c++": "C++", ".h++": "C++",
    ".js": "JavaScript", ".jsx": "JavaScript", ".mjs": "JavaScript", ".cjs": "JavaScript",
    ".ts": "TypeScript", ".tsx": "TypeScript", ".mts": "TypeScript", ".cts": "TypeScript",
    ".go": "Go", ".rs": "Rust", ".kt": "Kotlin", ".scala": "Scala", ".rb": "Ruby", ".php": "PHP",
    ".cs": "C#", ".swift": "Swift", ".m": "Objective-C", ".lua": "Lua", ".pyx": "Cython",
}


# documentation sites, vendored and generated trees say little about what a repository is written in
NOT_SOURCE = re.compile(r"/(docs?|website|site|vendor|vendored|third[_-]party|external|deps|node_modules|dist|examples?|samples|fixtures|testdata|test_data)/", re.IGNORECASE)
SUPPORTED = ("Python", "Java", "C", "C++", "JavaScript", "TypeScript", "Go", "Rust")


def git(gd: Path, *args: str) -> str:
    return subprocess.run(["git", f"--git-dir={gd}", *args], capture_output=True, text=True, errors="replace", check=True).stdout


def classify_text(text: str) -> str:
    t = re.sub(r"\s+", " ", text).lower()
    copyleft = [
        ("gnu affero general public license", "AGPL"), ("gnu lesser general public license", "LGPL"),
        ("gnu library general public license", "LGPL"), ("gnu general public license", "GPL"),
        ("mozilla public license", "MPL"), ("eclipse public license", "EPL"), ("european union public licen", "EUPL"),
        ("common development and distribution license", "CDDL"), ("server side public license", "SSPL"),
        ("business source license", "BUSL"), ("commons clause", "Commons-Clause"),
    ]
    found: list[str] = []
    if "apache license" in t and "version 2.0" in t:
        found.append("Apache-2.0")
    if "permission is hereby granted, free of charge" in t:
        found.append("MIT")
    if "redistribution and use in source and binary forms" in t:
        if "python software foundation" in t and "psf" in t:
            found.append("PSF-2.0")
        elif "neither the name" in t or "names of its contributors" in t or "name of the copyright holder" in t or "names of the copyright holders" in t or "endorse or promote" in t:
            found.append("BSD-3-Clause")
        else:
            found.append("BSD-2-Clause")
    if "python software foundation license" in t:
        found.append("PSF-2.0")
    if re.search(r"permission to use, copy, modify, (and/or |and )?distribute this software for any purpose with or without fee", t):
        found.append("0BSD" if "provided that the above copyright notice" not in t else "ISC")
    if "free and unencumbered software released into the public domain" in t:
        found.append("Unlicense")
    if "altered source versions must be plainly marked" in t and re.search(r"provided ['\"]as-is['\"]", t):
        found.append("Zlib")
    if "boost software license" in t:
        found.append("BSL-1.0")
    if "cc0 1.0 universal" in t and "attribution" not in t:
        found.append("CC0-1.0")
    if "PSF-2.0" in found:
        # the PSF licence's history table and footnote name the GPL only to call the licence GPL-compatible
        t = re.sub(r"a\. history of the software.*?b\. terms and conditions", " ", t)
        t = re.sub(r"previously distributed under the gnu general public license \(gpl\)", " ", t)
        t = re.sub(r"gpl-compatible doesn't mean.*?(?:gpl|general public license)[^.]*\.", " ", t)
    bad = [name for key, name in copyleft if key in t]
    if bad:
        return "COPYLEFT:" + "+".join(dict.fromkeys(bad)) + ("(with " + "+".join(found) + ")" if found else "")
    if not found:
        # a pointer such as "available under the terms of *either* of the licenses found in LICENSE.A or LICENSE.B"
        return "EITHER" if re.search(r"either\W+of the licen[cs]es", t) else "UNKNOWN"
    return " AND ".join(dict.fromkeys(found))


def licence(gd: Path) -> tuple[str, list[str]]:
    top = [line for line in git(gd, "ls-tree", "--name-only", "HEAD").splitlines() if LICENCE_NAME.match(line)]
    if not top:
        return "NONE", []
    parts: list[str] = []
    for name in top:
        try:
            text = git(gd, "show", f"HEAD:{name}")
        except subprocess.CalledProcessError:
            text = "".join(git(gd, "show", f"HEAD:{name}/{sub}") for sub in git(gd, "ls-tree", "--name-only", f"HEAD:{name}").splitlines()[:5])
        parts.append(classify_text(text))
    either = "EITHER" in parts
    parts = [p for p in parts if p != "EITHER"] or ["UNKNOWN"]
    uniq = list(dict.fromkeys(parts))
    if any(p.startswith("COPYLEFT") or p == "UNKNOWN" for p in uniq):
        return "; ".join(f"{n}={p}" for n, p in zip(top, parts)), top
    if len(uniq) == 1:
        return uniq[0], top
    atoms = list(dict.fromkeys(a for u in uniq for a in u.split(" AND ")))
    # several licence files, each permissive: a dual licence such as LICENSE-MIT + LICENSE-APACHE,
    # unless no pointer says "either" and the texts are simply concatenated requirements
    # the Rust convention: LICENSE-MIT + LICENSE-APACHE (any separator) means "MIT OR Apache-2.0"
    kinds = {re.sub(r"^LICEN[CS]E[-._]?", "", n.upper()).split("-")[0].split(".")[0] for n in top}
    dual = kinds == {"MIT", "APACHE"} and set(uniq) == {"MIT", "Apache-2.0"}
    return (" OR ".join(uniq) if either or dual else " AND ".join(atoms)), top


def is_permissive(lic: str) -> bool:
    alts = [a.strip() for a in lic.replace(" AND ", " OR ").split(" OR ")]
    return all(a in PERMISSIVE for a in alts) and bool(alts)


def main_language(gd: Path) -> tuple[str, dict[str, int]]:
    counts: Counter[str] = Counter()
    for path in git(gd, "ls-tree", "-r", "--name-only", "HEAD").splitlines():
        if NOT_SOURCE.search("/" + path):
            continue
        lang = EXT_LANG.get(Path(path).suffix.lower())
        if lang:
            counts[lang] += 1
    headers = counts.pop("C/C++ header", 0)
    if headers:
        counts["C++" if counts["C++"] > counts["C"] else "C"] += headers
    if not counts:
        return "none", {}
    top, n = counts.most_common(1)[0]
    if top not in SUPPORTED:
        # prefer a language the miner reads when it is nearly as common (mruby: Ruby tests, C core)
        best = max(SUPPORTED, key=lambda lang: counts[lang])
        if counts[best] >= 0.8 * n:
            top = best
    return top, dict(counts.most_common(4))


def facts(repo: str) -> dict:
    gd = MIRRORS / repo.replace("/", "+") / "repo"
    lic, files = licence(gd)
    lang, counts = main_language(gd)
    size = sum(f.stat().st_size for f in gd.rglob("*") if f.is_file()) / 2**20
    return {
        "repo": repo, "language": lang, "licence": lic, "licence_files": files,
        "head": git(gd, "rev-parse", "HEAD").strip(),
        "commits": int(git(gd, "rev-list", "--count", "HEAD")),
        "fix_commits": len(git(gd, "log", "--oneline", "-i", "-E", "--grep=fix|bug").splitlines()),
        "size_mb": round(size, 1), "mirror": str(gd), "file_counts": counts,
    }


# repo -> (SPDX id, why): licences the text rules above cannot name, classified by reading them
OVERRIDES: dict[str, tuple[str, str]] = {
    "pypa/packaging": ("Apache-2.0 OR BSD-2-Clause", "LICENSE: either LICENSE.APACHE or LICENSE.BSD"),
    "ipython/ipython": ("BSD-3-Clause", "COPYING.rst: 'licensed under the terms of the Modified BSD License'; LICENSE is BSD-3"),
    "apache/kafka": ("Apache-2.0", "LICENSE is Apache-2.0; LICENSE-binary lists the binary distribution's third-party jars (EPL etc.), not source in the repo"),
    "apache/tomcat": ("Apache-2.0", "LICENSE: Apache-2.0 for Tomcat; EPL-2.0 named only for the ecj jar (not in the repo) and Jakarta EE XSD schemas (data)"),
    "apache/httpcomponents-client": ("Apache-2.0", "LICENSE.txt: Apache-2.0; MPL-2.0 appended for the bundled Public Suffix List data file"),
    "apache/tika": ("Apache-2.0", "LICENSE.txt: Apache-2.0; MPL/EPL named only for unmodified H2 binary redistributions"),
    "curl/curl": ("curl", "COPYING: the curl licence (MIT/X derivative)"),
    "libuv/libuv": ("MIT", "LICENSE and LICENSE-extra: MIT; LICENSE-docs: CC-BY-4.0 for the documentation only"),
    "nghttp2/nghttp2": ("MIT", "LICENSE says 'See COPYING'; COPYING is MIT"),
    "lua/lua": ("MIT", "no licence file; lua.h ends with the MIT licence text (Lua.org, PUC-Rio)"),
    "libffi/libffi": ("MIT", "LICENSE: MIT for libffi; LICENSE-BUILDTOOLS: GPL (with autoconf exceptions) for the m4/autotools build files only"),
    "PCRE2Project/pcre2": ("BSD-3-Clause", "LICENCE.md: BSD-3-Clause WITH PCRE2-exception (the exception only waives notice for binaries); COPYING points to it"),
    "BurntSushi/ripgrep": ("MIT OR Unlicense", "COPYING: 'dual-licensed under the Unlicense and MIT licenses ... either license'"),
    "rust-lang/cargo": ("Apache-2.0 OR MIT", "LICENSE-THIRD-PARTY: 'The Cargo source code itself does not bundle any third party libraries' (notices for statically linked binaries)"),
    "tauri-apps/tauri": ("Apache-2.0 OR MIT", "LICENSE.spdx declares Apache-2.0 and MIT; LICENSE_APACHE-2.0 and LICENSE_MIT (the Rust dual licence)"),
    "python-pillow/Pillow": ("MIT-CMU", "LICENSE: PIL licence, 'licensed under the open source MIT-CMU License'"),
}


def main() -> None:
    manifest_path = Path(sys.argv[1])
    data = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"repos": [], "rejected": []}
    for repo in sys.argv[2:]:
        data["repos"] = [r for r in data["repos"] if r["repo"] != repo]
        data["rejected"] = [r for r in data["rejected"] if r["repo"] != repo]
        mirror = MIRRORS / repo.replace("/", "+")
        if is_denied(repo.split("/")[1]) or is_denied(repo):
            data["rejected"].append({"repo": repo, "why": "deny-list"})
            shutil.rmtree(mirror, ignore_errors=True)
            print(f"{repo}: DENIED, mirror removed")
            continue
        if not (mirror / "repo").exists():
            print(f"{repo}: no mirror")
            continue
        f = facts(repo)
        if repo in OVERRIDES:  # licence read by hand from the text (see the override's note)
            f["licence"], f["licence_note"] = OVERRIDES[repo]
        # a permissive licence followed by third-party notices that name copyleft licences needs a reader
        mixed = "COPYLEFT" in f["licence"] and "(with " in f["licence"]
        if f["licence"] in ("UNKNOWN", "NONE") or mixed or ("=UNKNOWN" in f["licence"] and "COPYLEFT" not in f["licence"]):
            print(f"{repo}: REVIEW licence {f['licence']} ({f['licence_files']}); not recorded, mirror kept")
            continue
        if is_permissive(f["licence"]):
            data["repos"].append(f)
            print(f"{repo}: {f['language']} {f['licence']} commits={f['commits']} fix={f['fix_commits']} {f['size_mb']}MB {f['file_counts']}")
        else:
            data["rejected"].append({"repo": repo, "why": f"licence {f['licence']}"})
            shutil.rmtree(mirror, ignore_errors=True)
            print(f"{repo}: REJECTED licence {f['licence']} ({f['licence_files']}), mirror removed")
    data["repos"].sort(key=lambda r: (r["language"], r["repo"].lower()))
    data["rejected"].sort(key=lambda r: r["repo"].lower())
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    main()
