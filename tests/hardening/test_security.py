"""Security properties, proved on real processes:

- no network: the server and the CLI run with sockets patched (tests/hardening/netblock/sitecustomize.py,
  loaded into every Python process they start) and no attempt is recorded; HF_HUB_OFFLINE is unset;
- pickle checkpoints are refused and never unpickled (a malicious pickle would leave a marker file);
- trust_remote_code is never set (source scan + a model whose remote code would leave a marker);
- the server writes nothing outside its cache directory, whatever paths the settings name, and user
  files change only through WorkspaceEdits the client applies.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.raw_lsp import REPO, RawServer, server_env

NETBLOCK = Path(__file__).with_name("netblock")
PY = "def first(xs):\n    total = 0\n    for i in range(len(xs)):\n        total += xs[i]\n    return total\n"


def _blocked_env(tmp_path: Path, **extra: str) -> tuple[dict, Path]:
    (tmp_path / "harness").mkdir(exist_ok=True)
    log = tmp_path / "harness" / "network-attempts.log"
    env = server_env(extra_pythonpath=[str(NETBLOCK)], MANYSKILLS_NET_LOG=str(log),
                     MANYSKILLS_CACHE_DIR=str(tmp_path / "cache"), **extra)
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        env.pop(name, None)  # the server must be offline by construction, not by environment
    return env, log


def _attempts(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if line.startswith("ATTEMPT")] if log.exists() else []


def test_network_block_is_effective(tmp_path):
    """The harness itself: a process under the block that does try the network is caught."""
    env, log = _blocked_env(tmp_path)
    done = subprocess.run([sys.executable, "-c", "import socket\ntry:\n    socket.create_connection(('pypi.org', 443), 2)"
                           "\nexcept OSError as e:\n    print('blocked', e)"], env=env, capture_output=True, text=True)
    assert "blocked" in done.stdout
    assert len(_attempts(log)) == 1 and "pypi.org" in _attempts(log)[0]


def _snapshot(root: Path) -> dict[str, tuple[int, str]]:
    """Every file under root except the server's cache and the harness' own logs."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not {root / "cache", root / "harness"} & set(path.parents):
            out[str(path.relative_to(root))] = (path.stat().st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest())
    return out


def test_server_session_offline_writes_nothing_outside_its_cache(tiny_model_dir, tmp_path):
    """A whole session (open, edit, diagnostics, hover note, code actions + resolve, search, scan,
    settings with hostile paths) under the network block: no attempt, no file written outside the
    cache, and the fixes arrive as WorkspaceEdits (the client applies them, or not: here it doesn't)."""
    env, log = _blocked_env(tmp_path)
    workspace = tmp_path / "workspace"
    (workspace / "pkg").mkdir(parents=True)
    (workspace / "pkg" / "a.py").write_text(PY)
    (workspace / "pkg" / "b.js").write_text("function add(a, b) { return a - b; }\n")
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    before = _snapshot(tmp_path)
    options = {"model": str(model), "threshold": 0.0, "debounceMs": 0}
    server = RawServer(stderr_path=tmp_path / "harness" / "server.log", configuration=options, env=env,
                       cwd=str(workspace))
    uri = (workspace / "pkg" / "a.py").as_uri()
    try:
        server.initialize(options, root=workspace)
        assert server.wait_ready()["state"] == "ready"
        server.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                                "text": PY}})
        diags = server.wait_for(lambda: (d := server.diagnostics(uri)) and d["diagnostics"], 400, 0.2, "diagnostics")
        diag = diags[0]
        server.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": diag["range"]["start"]})
        actions = server.request("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": diag["range"],
                                                             "context": {"diagnostics": [diag]}})
        resolved = [server.request("codeAction/resolve", a) for a in actions]
        edits = [a["edit"] for a in [*actions, *resolved] if a.get("edit")]
        assert edits and all(set(e) <= {"changes", "documentChanges"} for e in edits)  # WorkspaceEdits only
        server.command("manyskills.search", "sum a list")
        server.command("manyskills.scanWorkspace")
        server.command("manyskills.applyFix", diag.get("data", {}))  # goes out as workspace/applyEdit
        for hostile in ["../../../../tmp", str(workspace), str(workspace / "pkg" / "a.py"), "~", "/"]:
            server.notify("workspace/didChangeConfiguration", {"settings": {"manyskills": {
                **options, "model": hostile, "adapter": hostile}}})
        server.notify("workspace/didChangeConfiguration", {"settings": {"manyskills": options}})
        server.wait_for(lambda: server.command("manyskills.stats")["state"] == "ready", 400, 0.5, "reload")
    finally:
        assert server.close() == 0, server.stderr_tail()
    apply_requests = [r for r in server.server_requests if r["method"] == "workspace/applyEdit"]
    assert all("edit" in r["params"] for r in apply_requests)
    assert _snapshot(tmp_path) == before  # nothing written outside the cache
    assert _attempts(log) == [], _attempts(log)
    assert "LOADED" in log.read_text()  # the block really was in the server process


def test_cli_offline(tiny_model_dir, tmp_path):
    env, log = _blocked_env(tmp_path)
    for args in (["info", "--json", "--model", str(tiny_model_dir)],
                 ["check", str(REPO / "tests" / "fixtures" / "check"), "--model", str(tiny_model_dir),
                  "--format", "json"]):
        done = subprocess.run([sys.executable, "-m", "manyskills", *args], env=env, capture_output=True, text=True,
                              timeout=1200)
        assert done.returncode in (0, 1), done.stderr[-2000:]
        json.loads(done.stdout)
    assert _attempts(log) == [], _attempts(log)
    assert log.read_text().count("LOADED") >= 2


class _Marker:
    """Unpickling this runs `Path(path).touch()`: proof that a pickle was loaded."""

    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def _malicious_pickle(path: Path, marker: Path) -> None:
    path.write_bytes(pickle.dumps({"weight": _Marker(marker)}))


def test_pickle_checkpoints_are_refused_and_never_unpickled(tiny_model_dir, tmp_path):
    from manyskills.model.adapter import AdapterError
    from manyskills.model.base import BaseModelError
    from manyskills.model.runtime import LocalRuntime

    marker = tmp_path / "UNPICKLED"
    pickled_model = tmp_path / "pickled-model"
    pickled_model.mkdir()
    shutil.copy(tiny_model_dir / "config.json", pickled_model)
    _malicious_pickle(pickled_model / "pytorch_model.bin", marker)
    with pytest.raises(BaseModelError, match="pickle-based pytorch_model.bin"):
        LocalRuntime.load(str(pickled_model), None, "cpu")
    # Both formats present: safetensors is loaded, the pickle beside it is never opened.
    both = tmp_path / "both"
    shutil.copytree(tiny_model_dir, both)
    _malicious_pickle(both / "pytorch_model.bin", marker)
    LocalRuntime.load(str(both), None, "cpu")
    # A pickled adapter (PEFT's fallback adapter_model.bin) is refused too.
    adapter = tmp_path / "adapter"
    shutil.copytree(REPO / "models" / "smollm2-135m", adapter)
    (adapter / "adapter_model.safetensors").unlink()
    _malicious_pickle(adapter / "adapter_model.bin", marker)
    with pytest.raises(AdapterError, match="pickle-based and refused"):
        LocalRuntime.load(str(tiny_model_dir), str(adapter), "cpu")
    assert not marker.exists()


def test_trust_remote_code_never_set_in_source():
    offenders = []
    for path in (REPO / "server" / "manyskills").rglob("*.py"):
        text = path.read_text()
        for match in re.finditer(r"trust_remote_code\s*=\s*([^,)\s]+)", text):
            if match.group(1) != "False":
                offenders.append(f"{path}: {match.group(0)}")
        for match in re.finditer(r"torch\.load\(|pickle\.loads?\(|weights_only\s*=\s*False", text):
            offenders.append(f"{path}: {match.group(0)}")
    assert offenders == []


def test_remote_code_in_a_model_directory_is_not_executed(tiny_model_dir, tmp_path):
    from manyskills.model.runtime import LocalRuntime

    marker = tmp_path / "REMOTE_CODE_RAN"
    model = tmp_path / "model-with-code"
    shutil.copytree(tiny_model_dir, model)
    (model / "modeling_evil.py").write_text(f"from pathlib import Path\nPath({str(marker)!r}).touch()\n"
                                            "from transformers import LlamaForCausalLM as EvilModel\n")
    (model / "tokenization_evil.py").write_text(f"from pathlib import Path\nPath({str(marker)!r}).touch()\n")
    config = json.loads((model / "config.json").read_text())
    config["auto_map"] = {"AutoModelForCausalLM": "modeling_evil.EvilModel"}
    (model / "config.json").write_text(json.dumps(config))
    tok = json.loads((model / "tokenizer_config.json").read_text())
    tok["auto_map"] = {"AutoTokenizer": ["tokenization_evil.EvilTokenizer", None]}
    (model / "tokenizer_config.json").write_text(json.dumps(tok))
    try:
        LocalRuntime.load(str(model), None, "cpu")
    except Exception as exc:  # noqa: BLE001 - refusing to load is fine too; running the code is not
        print("refused:", exc)
    assert not marker.exists()
    assert os.environ.get("TRUST_REMOTE_CODE") is None
