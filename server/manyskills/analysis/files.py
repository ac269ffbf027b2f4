"""Which files a scan reads: walk paths, skip hidden folders, dependency and virtualenv folders, and
whatever git ignores when inside a git work tree; decode safely and skip what cannot be analysed."""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path
from typing import Iterable, Iterator

from manyskills.index.languages import language_for_path

log = logging.getLogger(__name__)
SKIPPED_DIRS = {"node_modules", "__pycache__", "site-packages", "venv"}


def _is_virtualenv(path: Path) -> bool:
    return (path / "pyvenv.cfg").is_file()


def _git_visible(root: Path) -> set[Path] | None:
    """Tracked + untracked-but-not-ignored files under `root`, or None when not in a git work tree."""
    try:
        done = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "-co", "--exclude-standard"],
                              capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return {(root / p).resolve() for p in done.stdout.decode("utf-8", "surrogateescape").split("\0") if p}


def iter_source_files(paths: Iterable[str | os.PathLike], languages: Iterable[str]) -> Iterator[tuple[Path, str]]:
    wanted = set(languages)
    seen: set[Path] = set()
    for raw in paths:
        root = Path(raw)
        if root.is_file():
            language = language_for_path(root)
            if language in wanted and root.resolve() not in seen:
                seen.add(root.resolve())
                yield root, language
            continue
        if not root.is_dir():
            log.warning("no such file or directory: %s", root)
            continue
        visible = _git_visible(root)
        for folder, dirs, files in os.walk(root):
            folder_path = Path(folder)
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS
                             and not _is_virtualenv(folder_path / d))
            for name in sorted(files):
                path = folder_path / name
                language = language_for_path(path)
                if language not in wanted or name.startswith("."):
                    continue
                resolved = path.resolve()
                if (visible is not None and resolved not in visible) or resolved in seen:
                    continue
                seen.add(resolved)
                yield path, language


BINARY_PROBE = 8192  # a NUL among the first this many bytes (characters of an editor's text) = binary


def skip_reason(size: int, head: bytes | str, max_bytes: int) -> str | None:
    """Why a file is not analysed (over `maxFileBytes`, binary), or None: the one rule, and the one
    wording, for `check`'s files and the server's open documents. `size` is in UTF-8 bytes; `head` is
    the start of the content (bytes of a file on disk, or an editor's text); 0 = no size limit."""
    if max_bytes and size > max_bytes:
        return f"{size:,} bytes, over maxFileBytes ({max_bytes:,})"
    if (b"\x00" if isinstance(head, bytes) else "\x00") in head[:BINARY_PROBE]:
        return "binary file"
    return None


def text_skip_reason(text: str, max_bytes: int) -> str | None:
    """`skip_reason` for a text held in memory (an open document)."""
    return skip_reason(len(text.encode("utf-8", "surrogatepass")), text, max_bytes)


def read_source(path: Path, max_bytes: int) -> tuple[str | None, str | None]:
    """(text, None) or (None, reason it is skipped)."""
    try:
        size = path.stat().st_size
        if max_bytes and size > max_bytes:  # too big: known without reading it
            return None, skip_reason(size, b"", max_bytes)
        data = path.read_bytes()
    except OSError as exc:
        return None, f"unreadable: {exc.strerror or exc}"
    reason = skip_reason(len(data), data, max_bytes)
    if reason:
        return None, reason
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return None, f"not valid UTF-8 ({exc.reason} at byte {exc.start})"
