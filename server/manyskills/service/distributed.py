"""`manyskills check --ray`: the scan's model work spread over Ray workers.

The driver reads and indexes the files (cheap, and files need not exist on the cluster's nodes),
cuts the functions into the very rounds a local scan would send to its engine (analysis/rounds.py:
64 functions in file order, duplicates of earlier rounds answered from the cache), and hands each
round to a worker actor that holds the same `LocalRuntime` and groups the round into forward passes the way the
engine does. Rounds run in parallel; progress streams to the caller as they finish; findings are
then derived on the driver exactly as in a local run, so the JSON/SARIF is the same, in the same
order. A worker that dies is restarted by Ray and its round retried; a scan that makes no progress
for `stall_timeout` seconds stops with a message instead of hanging.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence

import numpy as np

from manyskills.analysis.rounds import plan_rounds
from manyskills.analysis.scan import FileResult
from manyskills.model.batching import analyse_planned
from manyskills.model.engine import EngineUnavailable
from manyskills.model.types import FunctionAnalysis, FunctionInput, ReviewNote

log = logging.getLogger(__name__)
IN_FLIGHT_PER_WORKER = 2  # one round computing, one queued: workers never wait for the driver


class ScanError(EngineUnavailable):
    """The cluster cannot run the scan (no free resources, workers failing or stalled)."""


class ScanWorker:
    """One model per worker process (a Ray actor); loaded once, then fed rounds."""

    def __init__(self, model: str | None, adapter: str | None, device: str):
        from manyskills.model.runtime import LocalRuntime

        self.runtime = LocalRuntime.load(model, adapter, device)

    def describe(self):
        return self.runtime.identity, self.runtime.manifest, os.getpid()

    def analyse(self, items: list[FunctionInput]) -> list[FunctionAnalysis]:
        return analyse_planned(self.runtime, items)

    def embed_queries(self, queries: list[str]) -> np.ndarray:
        return self.runtime.embed_queries(queries)

    def review(self, item: FunctionInput, line: int, max_new_tokens: int = 64) -> ReviewNote:
        return self.runtime.review(item, line, max_new_tokens)

    def log_likelihood(self, items: list[FunctionInput]) -> list[float]:
        return self.runtime.log_likelihood(items)

    def count_tokens(self, item: FunctionInput) -> int:
        return self.runtime.count_tokens(item)


class RayPoolBackend:
    """An `AnalysisBackend` over a pool of `ScanWorker` actors; `analyse_rounds` runs them in parallel."""

    def __init__(self, address: str | None, model: str | None, adapter: str | None, device: str,
                 workers: int | None = None, gpus_per_worker: float = 0.0, stall_timeout: float = 600.0,
                 progress: Callable[[str, float | None], None] | None = None):
        from manyskills.service.cluster import connect

        progress = progress or (lambda message, fraction=None: None)
        self.ray = connect(address)
        from ray import exceptions as ray_errors

        self._errors = ray_errors
        available = self.ray.available_resources()
        free = int(available.get("GPU", 0) // gpus_per_worker) if gpus_per_worker else int(available.get("CPU", 0))
        if free < 1:
            raise ScanError(f"the Ray cluster has no free {'GPU' if gpus_per_worker else 'CPU'} for a worker "
                            f"(available: {available})")
        wanted = workers or free
        if wanted > free:
            log.warning("%d Ray workers requested, %d fit the free resources; using %d", wanted, free, free)
        self.size = min(wanted, free)
        self.stall_timeout = stall_timeout
        actor = self.ray.remote(ScanWorker).options(num_cpus=1, num_gpus=gpus_per_worker, max_restarts=2,
                                                    max_task_retries=2)
        progress(f"starting {self.size} Ray worker(s)", 0.2)
        self.actors = [actor.remote(model, adapter, device) for _ in range(self.size)]
        described = self._get([a.describe.remote() for a in self.actors], "start")
        keys = {identity.cache_key for identity, _manifest, _pid in described}
        if len(keys) != 1:
            raise ScanError(f"Ray workers loaded different models: {sorted(keys)}")
        self.identity, self.manifest, _pid = described[0]
        self.worker_pids = [pid for _identity, _manifest, pid in described]

    def _get(self, refs, what: str):
        try:
            return self.ray.get(refs, timeout=self.stall_timeout)
        except self._errors.GetTimeoutError:
            raise ScanError(f"Ray workers did not {what} within {self.stall_timeout:.0f} s") from None

    # ------------------------------------------------------------------ AnalysisBackend (one worker per call)
    def analyse(self, batch: Sequence[FunctionInput]) -> list[FunctionAnalysis]:
        return self._get(self.actors[0].analyse.remote(list(batch)), "answer")

    def embed_queries(self, queries: Sequence[str]) -> np.ndarray:
        return self._get(self.actors[0].embed_queries.remote(list(queries)), "answer")

    def review(self, item: FunctionInput, line: int, max_new_tokens: int = 64) -> ReviewNote:
        return self._get(self.actors[0].review.remote(item, line, max_new_tokens), "answer")

    def log_likelihood(self, batch: Sequence[FunctionInput]) -> list[float]:
        return self._get(self.actors[0].log_likelihood.remote(list(batch)), "answer")

    def count_tokens(self, item: FunctionInput) -> int:
        return self._get(self.actors[0].count_tokens.remote(item), "answer")

    # ------------------------------------------------------------------ the parallel scan
    def analyse_rounds(self, rounds: list[list[FunctionInput]],
                       on_round: Callable[[int, list[FunctionAnalysis]], None]) -> None:
        """Every round on some worker, in parallel; `on_round(index, results)` as each one finishes."""
        pending = list(range(len(rounds)))
        running: dict = {}  # object ref -> (round index, actor index)
        load = [0] * self.size
        while pending or running:
            while pending and min(load) < IN_FLIGHT_PER_WORKER:
                worker = load.index(min(load))
                index = pending.pop(0)
                running[self.actors[worker].analyse.remote(rounds[index])] = (index, worker)
                load[worker] += 1
            done, _ = self.ray.wait(list(running), num_returns=1, timeout=self.stall_timeout)
            if not done:
                raise ScanError(f"no Ray worker finished a round within {self.stall_timeout:.0f} s")
            index, worker = running.pop(done[0])
            load[worker] -= 1
            try:
                round_results = self.ray.get(done[0])
            except self._errors.RayError as exc:  # retries exhausted
                raise ScanError(f"a Ray worker failed on round {index}: {exc}") from None
            on_round(index, round_results)

    def close(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor)


def analyse_on_ray(backend: RayPoolBackend, results: list[FileResult],
                   on_progress: Callable[[int, int], None] | None = None) -> dict[str, FunctionAnalysis]:
    """Content hash -> analysis for every function of `results`, computed across the pool."""
    rounds = plan_rounds([f for r in results for f in r.functions])
    total = sum(len(r) for r in rounds)
    analyses: dict[str, FunctionAnalysis] = {}
    done = 0
    started = time.perf_counter()

    def finished(index: int, round_results: list[FunctionAnalysis]) -> None:
        nonlocal done
        for function, analysis in zip(rounds[index], round_results):
            analyses[function.content_hash] = analysis
        done += len(rounds[index])
        if on_progress:
            on_progress(done, total)

    backend.analyse_rounds([[FunctionInput(f.language, f.text, f.is_test) for f in r] for r in rounds], finished)
    log.info("analysed %d functions on %d Ray workers in %.1f s", total, backend.size,
             time.perf_counter() - started)
    return analyses
