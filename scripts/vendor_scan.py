"""Flag corpus repositories whose tree at HEAD holds a directory named after a reserved project.

Usage: vendor_scan.py MANIFEST — prints, per repository, the directories (not single files such as an
integration module `tornado.py`) whose name the deny-list matches, with how many files lie under each.
A vendored copy of a reserved project shows up here; the lead decides what to drop.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, "/work/main/server")
from manyskills.data.denylist import is_denied


def main() -> None:
    data = json.loads(Path(sys.argv[1]).read_text())
    for entry in data["repos"]:
        paths = subprocess.run(["git", f"--git-dir={entry['mirror']}", "ls-tree", "-r", "--name-only", "HEAD"],
                               capture_output=True, text=True, errors="replace", check=True).stdout.splitlines()
        hits: Counter[str] = Counter()
        cache: dict[str, bool] = {}
        for path in paths:
            parts = path.split("/")[:-1]
            for i, part in enumerate(parts):
                if part not in cache:
                    cache[part] = is_denied(part)
                if cache[part]:
                    hits["/".join(parts[: i + 1])] += 1
                    break
        if hits:
            print(entry["repo"], dict(hits.most_common(8)))


if __name__ == "__main__":
    main()
