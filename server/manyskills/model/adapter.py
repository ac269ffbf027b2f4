"""The one multi-task adapter: a standard PEFT LoRA directory + skill heads + a manifest.

Layout of an adapter directory:
  adapter_config.json, adapter_model.safetensors   (PEFT; loadable with PeftModel.from_pretrained)
  heads.safetensors                                (SkillHeads state dict)
  manyskills.json                                  (this module's Manifest)
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from manyskills.model import registry
from manyskills.model.paths import MANIFEST_FILE, shipped_adapter_dir, shipped_adapters

if TYPE_CHECKING:
    from manyskills.model.base import BaseModelRef

log = logging.getLogger(__name__)

SKILLS = ("defect", "review", "clone", "search", "flaky")
HEADS_FILE = "heads.safetensors"
FORMAT_VERSION = 1

# The code prompt is deliberately tiny: every prompt token costs a forward step per function.
CODE_PROMPT = "<|im_start|>{language}\n"
QUERY_PROMPT = "<|im_start|>query\n"
REVIEW_SYSTEM = "You are a careful code reviewer."
REVIEW_USER = (
    "This {language} function may have a bug on the line marked with `>>`.\n"
    "```\n{code}\n```\n"
    "Explain the bug in one sentence, then write the corrected line after `Fix:`."
)


class AdapterError(RuntimeError):
    """An adapter cannot be used; the message says why."""


@dataclass
class Manifest:
    base_name: str
    base_sha256: str
    # The base's registry name ("smollm2-135m"); filled from the registry by sha256 when the base is a
    # named model, "" for a local directory base.
    base_model: str = ""
    skills: list[str] = field(default_factory=lambda: list(SKILLS))
    labels: dict[str, list[str]] = field(
        default_factory=lambda: {"defect": ["clean", "buggy"], "flaky": ["stable", "flaky"]}
    )
    feature_layer: int = 24  # heads read the output of this many decoder layers (early exit)
    lora_layers: list[int] = field(default_factory=lambda: list(range(18, 24)))
    lora_rank: int = 8
    max_tokens: int = 384
    embed_dim: int = 256
    head_inner: int = 256
    prompts: dict[str, str] = field(
        default_factory=lambda: {
            "code": CODE_PROMPT,
            "query": QUERY_PROMPT,
            "review_system": REVIEW_SYSTEM,
            "review_user": REVIEW_USER,
        }
    )
    thresholds: dict[str, float] = field(default_factory=lambda: {"defect": 0.5, "flaky": 0.5, "clone": 0.95})
    # Per skill, how to read its raw score as a probability (model/calibration.py; `manyskills
    # calibrate` writes "defect"). Empty = no calibration: the raw score is all there is to show.
    calibration: dict[str, dict[str, Any]] = field(default_factory=dict)
    trained: bool = False
    version: str = "untrained"
    training: dict[str, Any] = field(default_factory=dict)
    format: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        if not self.base_model:
            named = registry.by_sha256(self.base_sha256)
            self.base_model = named.name if named else ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def load(cls, directory: Path) -> Manifest:
        path = directory / MANIFEST_FILE
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError as exc:
            raise AdapterError(f"{directory} is not a ManySkills adapter (no {MANIFEST_FILE})") from exc
        except (OSError, ValueError) as exc:
            raise AdapterError(f"cannot read {path}: {exc}") from exc
        if not isinstance(raw, dict) or raw.get("format") != FORMAT_VERSION:
            raise AdapterError(f"{path}: unsupported manifest format {raw.get('format') if isinstance(raw, dict) else raw!r}")
        known = {f for f in cls.__dataclass_fields__}
        try:
            return cls(**{k: v for k, v in raw.items() if k in known})
        except TypeError as exc:
            raise AdapterError(f"{path}: invalid manifest: {exc}") from exc


def update_manifest(directory: Path, **fields: Any) -> Manifest:
    """Set `fields` in an adapter's manifest file and return the result. Keys this version does not
    know are kept as they are (a newer tool's fields survive), and the new content must still load."""
    Manifest.load(directory)  # refuse to touch a file that is not a readable manifest
    path = directory / MANIFEST_FILE
    raw = json.loads(path.read_text())
    unknown = set(fields) - set(Manifest.__dataclass_fields__)
    if unknown:
        raise AdapterError(f"not manifest fields: {', '.join(sorted(unknown))}")
    raw.update(fields)
    try:
        updated = Manifest(**{k: v for k, v in raw.items() if k in Manifest.__dataclass_fields__})
    except TypeError as exc:
        raise AdapterError(f"{path}: the update would make an invalid manifest: {exc}") from exc
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(raw, indent=2, sort_keys=True))  # the layout of Manifest.to_json
    os.replace(temporary, path)  # atomic: a reader sees the old manifest or the new one, never half
    return updated


def check_adapter_files(directory: Path) -> None:
    """Refuse anything but safetensors (PEFT would fall back to a pickled adapter_model.bin)."""
    for name in ("adapter_config.json", "adapter_model.safetensors", HEADS_FILE, MANIFEST_FILE):
        if not (directory / name).is_file():
            pickled = (directory / "adapter_model.bin").is_file()
            hint = " (adapter_model.bin is pickle-based and refused)" if pickled else ""
            raise AdapterError(f"adapter {directory} is missing {name}{hint}")


def _base_label(name: str, registry_name: str | None, sha256: str) -> str:
    return f"{registry_name} ({name}, {sha256[:12]}…)" if registry_name else f"{name} ({sha256[:12]}…)"


def check_base_matches(manifest: Manifest, base_sha256: str, base_name: str, directory: Path,
                       base_registry_name: str | None = None) -> None:
    if manifest.base_sha256 != base_sha256:
        raise AdapterError(
            f"adapter {directory} was trained on base "
            f"{_base_label(manifest.base_name, manifest.base_model, manifest.base_sha256)}, "
            f"but the loaded base is {_base_label(base_name, base_registry_name, base_sha256)}. Use an adapter "
            "trained for this base, or set `model` to the base the adapter was trained on."
        )


def select_adapter(base: BaseModelRef, adapter_setting: str | None, model_setting: str | None) -> Path | None:
    """The adapter to load with `base`: the `adapter` setting (checked strictly when loaded), else
    MANYSKILLS_ADAPTER, else the adapter shipped for this base (models/<registry name>/, or for a
    local directory base the shipped adapter whose manifest pins its sha256). None = untrained."""
    if adapter_setting:
        return Path(adapter_setting).expanduser()
    if os.environ.get("MANYSKILLS_ADAPTER"):
        chosen = shipped_adapter_dir()
        if chosen is not None and model_setting:
            # An adapter pinned by the environment belongs to the default base; another base starts untrained.
            try:
                check_base_matches(Manifest.load(chosen), base.sha256, base.name, chosen, base.registry_name)
            except AdapterError:
                log.warning("MANYSKILLS_ADAPTER does not match base %s; running with an untrained adapter", base.name)
                return None
        return chosen
    if base.registry_name:
        chosen = shipped_adapter_dir(base.registry_name)
    else:
        chosen = None
        for directory in shipped_adapters().values():
            try:
                if Manifest.load(directory).base_sha256 == base.sha256:
                    chosen = directory
                    break
            except AdapterError:
                continue
    if chosen is None:
        log.warning("no adapter ships for base %s; running with an untrained adapter", base.registry_name or base.name)
    return chosen
