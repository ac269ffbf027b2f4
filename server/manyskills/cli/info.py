"""`manyskills info`: what would be loaded, without loading it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from manyskills import __version__
from manyskills.cli.exit_codes import EXIT_OK


def add_parser(sub) -> None:
    p = sub.add_parser("info", help="show version, base model, adapter, device and languages")
    p.add_argument("--json", action="store_true")
    p.add_argument("--model", default=None)
    p.add_argument("--adapter", default=None)
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--project-adapter", default="auto", metavar="auto|off|DIR")
    p.add_argument("--path", default=".", help="the project whose adapter `--project-adapter auto` looks for")
    p.set_defaults(run=run)


def collect(model: str | None, adapter: str | None, device: str) -> dict:
    from manyskills.model import base as base_mod
    from manyskills.model.adapter import SKILLS, AdapterError, Manifest, select_adapter
    from manyskills.model.paths import shipped_adapter_dir
    from manyskills.model.runtime import pick_device
    from manyskills.settings import ALL_LANGUAGES

    base, ref = base_mod.describe_base(model)
    if adapter:
        adapter_dir = Path(adapter).expanduser()
    else:
        adapter_dir = select_adapter(ref, None, model) if ref is not None else shipped_adapter_dir()
    if adapter_dir is None:
        adapter_info = {"path": None, "trained": False, "skills": list(SKILLS),
                        "note": "no adapter found: running with an untrained adapter (LoRA at identity, heads at "
                                "random initialisation); findings are not meaningful"}
    else:
        try:
            manifest = Manifest.load(adapter_dir)
            size = sum(p.stat().st_size for p in adapter_dir.iterdir() if p.is_file())
            adapter_info = {"path": str(adapter_dir), "trained": manifest.trained, "version": manifest.version,
                            "skills": manifest.skills, "bytes": size, "base_sha256": manifest.base_sha256,
                            "lora_rank": manifest.lora_rank, "lora_layers": manifest.lora_layers,
                            "feature_layer": manifest.feature_layer, "max_tokens": manifest.max_tokens}
            if not manifest.trained:
                adapter_info["note"] = "this adapter is untrained; findings are not meaningful"
        except AdapterError as exc:
            adapter_info = {"path": str(adapter_dir), "error": str(exc)}
    dev, dtype, warning = pick_device(device)
    out = {"version": __version__, "base": base, "adapter": adapter_info,
           "device": {"requested": device, "device": dev, "dtype": str(dtype).replace("torch.", "")},
           "skills": list(SKILLS), "languages": list(ALL_LANGUAGES)}
    if warning:
        out["device"]["warning"] = warning
    return out


def run(args: argparse.Namespace) -> int:
    from manyskills.model.project_adapter import describe, project_root

    info = collect(args.model, args.adapter, args.device)
    info["active_adapter"] = describe(args.project_adapter, project_root(args.path), args.adapter,
                                      info["base"].get("sha256"))
    if args.json:
        print(json.dumps(info, indent=2))
        return EXIT_OK
    base, adapter, dev = info["base"], info["adapter"], info["device"]
    print(f"manyskills {info['version']}")
    print(f"base model : {base['name']} — {base['source']}")
    if base.get("sha256"):
        print(f"             sha256 {base['sha256']}  ({'ready' if base.get('ready') else 'converted on first use'})")
    if base.get("error"):
        print(f"             error: {base['error']}")
    print(f"adapter    : {adapter.get('path') or '(none)'}"
          + (f" — version {adapter['version']}, {adapter['bytes']:,} bytes" if adapter.get("bytes") else ""))
    if adapter.get("note") or adapter.get("error"):
        print(f"             {adapter.get('note') or adapter.get('error')}")
    active = info["active_adapter"]
    print(f"active     : {active['active']}" + (f" ({active['path']})" if active.get("path") else "")
          + (f" — {active['note']}" if active.get("note") else ""))
    print(f"skills     : {', '.join(info['skills'])}")
    print(f"device     : {dev['device']} ({dev['dtype']}), requested {dev['requested']}")
    print(f"languages  : {', '.join(info['languages'])}")
    return EXIT_OK
