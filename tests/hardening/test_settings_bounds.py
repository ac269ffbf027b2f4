"""Numeric settings have documented ranges (README "Settings"); a value outside its range is rejected
with `window/showMessage` and the previous value kept, so no setting can silence the server
(`debounceMs: 1e12` once stopped every later edit from being analysed, with no message).

The property test throws random JSON at a real `manyskills serve` (tiny model) through
`workspace/didChangeConfiguration` and checks after each one that an edit is still analysed: the
model sees the edited function and diagnostics are published for the new version."""

from __future__ import annotations

import math
import time

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from manyskills.settings import Settings, parse_settings, settings_to_json

from harness.raw_lsp import RawServer

# The documented ranges (README "Settings"), restated here so a change to either side is noticed.
RANGES = {
    "threshold": (0.0, 1.0), "flakyThreshold": (0.0, 1.0), "cloneThreshold": (0.0, 1.0),
    "debounceMs": (0, 10_000), "maxFileBytes": (1_000, 50_000_000), "cacheSize": (100, 1_000_000),
    "engineTimeout": (1, 600),
}
URI = "file:///tmp/manyskills-settings/target.py"
MAX_DEBOUNCE_S = RANGES["debounceMs"][1] / 1000
SLACK_S = 45.0  # a busy CI machine: analysis of one function, an engine reload (engineTimeout changes)


@pytest.mark.parametrize("key", sorted(RANGES))
def test_each_numeric_setting_keeps_its_previous_value_outside_its_range(key):
    low, high = RANGES[key]
    step = 0.001 if isinstance(low, float) else 1
    base, errors = parse_settings({key: high})
    assert not errors and base == parse_settings({key: high})[0]
    for good in (low, high):
        assert parse_settings({key: good}, base) == (parse_settings({key: good})[0], [])
    for bad in (low - step, high + step, 10 ** 12, -(10 ** 12), math.inf, math.nan):
        kept, errors = parse_settings({key: bad}, base)
        assert kept == base, (key, bad)
        assert len(errors) == 1 and repr(key) in errors[0] and "keeping" in errors[0], errors


def test_defaults_are_inside_the_ranges():
    defaults = settings_to_json(Settings())
    for key, (low, high) in RANGES.items():
        assert defaults[key] is None or low <= defaults[key] <= high, key


# ---------------------------------------------------------------------------- the real server
json_leaf = (st.none() | st.booleans() | st.integers(-2 ** 70, 2 ** 70) | st.integers(-20_000, 60_000_000)
             | st.floats(allow_nan=False) | st.text(max_size=8) | st.sampled_from(["300", "1e12", "-1", ""]))
json_value = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=6)
numbers = st.integers(-2 ** 70, 2 ** 70) | st.integers(-20_000, 60_000_000) | st.floats(allow_nan=False)
languages = (st.none() | st.booleans() | numbers
             | st.lists(st.sampled_from(["go", "rust", "java", "cobol", ""]), max_size=3).map(lambda xs: ["python", *xs]))
skills = st.dictionaries(st.sampled_from(["defect", "review", "clone", "search", "flaky", "x"]), json_value, max_size=5)
# Settings a user chooses on purpose that legitimately stop analysis of this file (another model, a
# service, languages without Python) are not drawn; every other setting may appear, with any JSON value.
MISSING = object()
sometimes = lambda values: st.one_of(values, st.just(MISSING))
present = {**{key: st.one_of(numbers, numbers, json_value, st.just(MISSING)) for key in RANGES},
           "skills": sometimes(skills | json_value), "languages": sometimes(languages),
           "engineFallback": sometimes(json_value)}
random_settings = st.builds(
    lambda known, unknown: {**unknown, **{k: v for k, v in known.items() if v is not MISSING}},
    st.fixed_dictionaries(present), st.dictionaries(st.text(max_size=10), json_value, max_size=2))


@pytest.fixture(scope="module")
def server(tiny_model_dir, tmp_path_factory):
    log = tmp_path_factory.mktemp("settings") / "server.log"
    pinned = {"model": str(tiny_model_dir), "device": "cpu"}
    raw = RawServer(stderr_path=log, configuration={**pinned, "debounceMs": 50})
    raw.initialize({**pinned, "debounceMs": 50})
    raw.notify("textDocument/didOpen", {"textDocument": {"uri": URI, "languageId": "python", "version": 1,
                                                          "text": "def f0(x):\n    return x\n"}})
    assert raw.wait_ready()["state"] == "ready"
    raw.pinned = pinned
    raw.version = 1
    yield raw
    assert raw.close() == 0


def published(server: RawServer, version: int) -> bool:
    with server._cv:
        return any(n["method"] == "textDocument/publishDiagnostics" and n["params"]["uri"] == URI
                   and n["params"].get("version") == version for n in server.notifications)


def edit_is_analysed(server: RawServer) -> None:
    """One edit that adds a function the model has never seen; it must be analysed and published."""
    before = server.command("manyskills.stats")["functionsAnalysed"]
    server.version += 1
    n = server.version
    server.notify("textDocument/didChange", {"textDocument": {"uri": URI, "version": n},
                                             "contentChanges": [{"text": f"def f{n}(x):\n    return x + {n}\n"}]})
    started = time.monotonic()
    server.wait_for(lambda: published(server, n), SLACK_S, what=f"diagnostics for version {n}")
    server.wait_for(lambda: server.command("manyskills.stats")["functionsAnalysed"] > before,
                    MAX_DEBOUNCE_S + SLACK_S, 0.2, what=f"analysis of version {n}")
    server.analysis_seconds = max(getattr(server, "analysis_seconds", 0.0), time.monotonic() - started)


def test_out_of_range_debounce_is_reported_and_the_server_keeps_analysing(server):
    shown = len(server.messages())
    server.notify("workspace/didChangeConfiguration",
                  {"settings": {"manyskills": {**server.pinned, "debounceMs": 1_000_000_000_000}}})
    server.wait_for(lambda: len(server.messages()) > shown, 30, what="window/showMessage")
    message = server.messages()[-1]
    assert "'debounceMs'" in message and "between 0" in message and "keeping 50" in message
    edit_is_analysed(server)


def test_random_settings_never_silence_analysis(server):
    @settings(max_examples=25, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @example(raw={"debounceMs": 10 ** 12})  # found by the protocol fuzzer (issue 20)
    @given(raw=random_settings)
    def any_settings(raw):
        config = {**raw, **server.pinned}
        server.configuration = config
        server.notify("workspace/didChangeConfiguration", {"settings": {"manyskills": config}})
        edit_is_analysed(server)

    any_settings()
    assert server.proc.poll() is None
