"""The model engine (model/engine.py) on the real tiny model: it follows the batching plan, runs
jobs by priority, and stops cancelled work between passes (model/jobs.py's tokens)."""

from __future__ import annotations

import threading

import pytest
from manyskills.model.batching import batch_plan
from manyskills.model.engine import ModelEngine
from manyskills.model.jobs import PRIORITY_EDIT, PRIORITY_INTERACTIVE, PRIORITY_SCAN, Cancelled, CancelToken
from manyskills.model.types import FunctionInput


@pytest.fixture
def engine(tiny_model_dir):
    from manyskills.model.runtime import LocalRuntime

    engine = ModelEngine(lambda progress: LocalRuntime.load(str(tiny_model_dir), None, "cpu", progress))
    engine.start()
    assert engine.wait_ready(600) and engine.status.state == "ready"
    yield engine
    engine.shutdown(wait=60)


def _functions(n: int, tag: str = "f", grow: int = 0) -> list[FunctionInput]:
    return [FunctionInput("python", f"def {tag}{i}(x):\n" + "    x = x * 2\n" * (1 + grow * i) + "    return x\n")
            for i in range(n)]


def test_the_engine_cuts_passes_as_the_plan_says(engine):
    items = _functions(40, grow=1)
    passes: list[int] = []
    engine.before_batch = passes.append
    engine.token_budget = 1024
    results = engine.analyse(items).result(timeout=600)
    lengths = [engine.backend.count_tokens(item) for item in items]
    assert passes == [len(group) for group in batch_plan(lengths, 16, 1024)] and len(passes) > 3
    assert [len(r.line_scores) for r in results] == [item.text.count("\n") + 1 for item in items]  # input order
    assert engine.functions_analysed == 40 and engine.tokens_analysed == sum(lengths)


def _hold(engine: ModelEngine) -> tuple[threading.Event, threading.Event, list[int]]:
    """Block the worker inside its next pass; record every pass's size after that."""
    entered, release, sizes = threading.Event(), threading.Event(), []

    def before(size: int) -> None:
        sizes.append(size)
        entered.set()
        release.wait(60)

    engine.before_batch = before
    return entered, release, sizes


def test_queued_jobs_run_by_priority_then_in_submission_order(engine):
    entered, release, sizes = _hold(engine)
    busy = engine.analyse(_functions(1, "busy"))
    assert entered.wait(600)
    scan = engine.analyse(_functions(3, "scan"), PRIORITY_SCAN)
    edit = engine.analyse(_functions(2, "edit"), PRIORITY_EDIT)
    interactive = engine.analyse(_functions(1, "ask"), PRIORITY_INTERACTIVE)
    later_edit = engine.analyse(_functions(4, "edit2"), PRIORITY_EDIT)
    assert engine.queue_length() == 4
    release.set()
    for future in (busy, scan, edit, interactive, later_edit):
        future.result(timeout=600)
    assert sizes == [1, 1, 2, 4, 3]  # busy, then interactive, the two edits in order, the scan last


def test_a_cancelled_running_job_stops_before_its_next_pass(engine):
    entered, release, sizes = _hold(engine)
    engine.max_batch = 2
    token = CancelToken()
    job = engine.analyse(_functions(10), token=token)
    assert entered.wait(600)
    token.cancel()  # while the first pass is running
    release.set()
    with pytest.raises(Cancelled):
        job.result(timeout=600)
    assert sizes == [2] and engine.functions_analysed == 2  # the pass in flight finished; no other started
    engine.before_batch = None
    assert len(engine.analyse(_functions(3, "after")).result(timeout=600)) == 3  # the engine goes on


def test_cancel_tokens_run_their_callbacks_once():
    token, calls = CancelToken(), []
    token.on_cancel(lambda: calls.append("a"))

    def removed() -> None:
        calls.append("removed")

    token.on_cancel(removed)
    token.remove_callback(removed)
    token.remove_callback(removed)  # removing twice is harmless
    assert not token.cancelled
    token.cancel()
    token.cancel()
    assert token.cancelled and calls == ["a"]
    token.on_cancel(lambda: calls.append("late"))  # already cancelled: runs at once
    assert calls == ["a", "late"]


def test_a_model_that_fails_to_load_disables_analysis_not_the_engine():
    from manyskills.model.engine import EngineUnavailable

    def broken(progress):
        raise OSError("no such model directory: /nowhere")

    engine = ModelEngine(broken)
    engine.start()
    try:
        assert engine.wait_ready(60) and engine.status.state == "error" and "/nowhere" in engine.status.message
        with pytest.raises(EngineUnavailable, match="/nowhere"):
            engine.analyse(_functions(1)).result(timeout=60)
    finally:
        engine.shutdown(wait=10)
