"""One inference worker thread that owns the model; everyone else submits jobs and gets futures.

- Priority queue: interactive requests (review, search) before edited functions before workspace scans
  (the priorities and the CancelToken live in jobs.py).
- Dynamic batching by length within a job, under a padded-token budget (the plan is batching.py's).
- Cooperative cancellation: a job's CancelToken is checked before it starts and between batches, so
  a stale analysis stops within one batch (pygls cannot cancel a handler that already started).
- Cancelling a token also takes its queued jobs out of the queue at once (their futures raise
  Cancelled), so superseded work neither holds memory nor inflates the queue until the worker reaches it.
- Out-of-memory: halve the batch and retry; at batch size 1 on a GPU, reload on the CPU with a message.
  An OOM is often transient (another process held the memory), so after a run of successful batches
  the size doubles back towards the configured one; each OOM right after such a step doubles the run
  needed before the next step, so a real limit costs few failed batches.
- The model loads on the worker thread, so the LSP server answers `initialize` while it loads.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from manyskills.model.batching import MAX_BATCH, TOKEN_BUDGET, length_order, pass_end
from manyskills.model.jobs import PRIORITY_EDIT, PRIORITY_INTERACTIVE, Cancelled, CancelToken
from manyskills.model.project_adapter import loaded_adapter
from manyskills.model.types import AnalysisBackend, FunctionAnalysis, FunctionInput, ReviewNote

log = logging.getLogger(__name__)


class EngineUnavailable(RuntimeError):
    """The model could not be loaded; analysis is disabled until settings change."""


@dataclass
class EngineStatus:
    state: str = "idle"  # idle | loading | ready | error | disabled
    message: str = ""
    model: str = ""
    device: str = ""
    # The adapter the loaded backend runs (project_adapter.loaded_adapter); empty while none is loaded.
    adapter: dict[str, Any] = field(default_factory=dict)


@dataclass(order=True)
class _Job:
    priority: int
    seq: int
    run: Callable[[AnalysisBackend], Any] = field(compare=False)
    future: Future = field(compare=False)
    token: CancelToken | None = field(compare=False, default=None)
    on_cancel: Callable[[], None] | None = field(compare=False, default=None)


BackendLoader = Callable[[Callable[[str, float | None], None]], AnalysisBackend]


def _stop_marker(_backend: AnalysisBackend) -> None:
    """Queued by shutdown(); the worker exits when it pops this."""


OOM_RECOVERY_BATCHES = 32  # successful batches at a reduced size before trying the next size up


def _is_oom(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError) or "out of memory" in str(exc).lower()


class ModelEngine:
    def __init__(self, loader: BackendLoader, on_status: Callable[[EngineStatus], None] | None = None,
                 on_progress: Callable[[str, float | None], None] | None = None,
                 cpu_fallback_loader: BackendLoader | None = None):
        self._loader = loader
        self._cpu_fallback_loader = cpu_fallback_loader
        self._on_status = on_status or (lambda status: None)
        self._on_progress = on_progress or (lambda msg, frac=None: None)
        self._queue: list[_Job] = []
        self._cv = threading.Condition()
        self._seq = itertools.count()
        self._backend: AnalysisBackend | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self.status = EngineStatus()
        self.max_batch = MAX_BATCH
        self.token_budget = TOKEN_BUDGET
        self.oom_recovery_batches = OOM_RECOVERY_BATCHES
        self._full_size: tuple[int, int] | None = None  # (max_batch, token_budget) before the first OOM
        self._ok_batches = 0  # successful batches since the size last changed
        self._grown = False  # the last size change was a step back up
        self.functions_analysed = 0  # how many functions went through the model (tests assert on it)
        self.tokens_analysed = 0
        self.before_batch: Callable[[int], None] | None = None  # fault-injection hook (tests)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._worker, name="manyskills-model", daemon=True)
            self._thread.start()

    def shutdown(self, wait: float | None = None) -> None:
        """Stop the worker; with `wait`, join it so no thread is inside torch when the process exits."""
        with self._cv:
            for job in self._queue:
                job.future.cancel()
            self._queue.clear()
            heapq.heappush(self._queue, _Job(-10, -1, _stop_marker, Future()))
            self._cv.notify()
        if wait is not None and self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(wait)

    def reload(self, loader: BackendLoader) -> None:
        """Swap the model (settings changed model/adapter/device) without restarting the server.
        Queued work is kept: it runs on the new model."""
        self._loader = loader
        self._ready.clear()
        self._submit(PRIORITY_INTERACTIVE - 1, lambda backend: self._load(), None)

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self._ready.wait(timeout)

    @property
    def backend(self) -> AnalysisBackend | None:
        return self._backend

    def _set_status(self, state: str, message: str = "") -> None:
        ident = getattr(self._backend, "identity", None)
        self.status = EngineStatus(state, message, ident.base_name if ident else "", ident.device if ident else "",
                                   self._adapter_status(ident))
        self._on_status(self.status)

    def _adapter_status(self, ident: Any) -> dict[str, Any]:
        manifest = getattr(self._backend, "manifest", None)
        if ident is None or manifest is None:
            return {}
        try:
            return loaded_adapter(ident, manifest)
        except Exception:  # noqa: BLE001 - a status detail must never stop the engine from reporting its state
            log.exception("cannot describe the loaded adapter")
            return {}

    def _load(self) -> None:
        self._set_status("loading", "loading model")
        try:
            self._backend = self._loader(self._on_progress)
        except EngineUnavailable as exc:  # an expected outage (model service down): the message says it all
            log.error("model load failed: %s", exc)
            self._backend = None
            self._set_status("error", str(exc))
        except Exception as exc:  # noqa: BLE001 - any load failure disables analysis, never the server
            log.exception("model load failed")
            self._backend = None
            self._set_status("error", str(exc))
        else:
            self._set_status("ready")
        finally:
            self._ready.set()

    # ------------------------------------------------------------------ submission
    def _submit(self, priority: int, run: Callable[[AnalysisBackend], Any], token: CancelToken | None) -> Future:
        future: Future = Future()
        job = _Job(priority, next(self._seq), run, future, token)
        with self._cv:
            heapq.heappush(self._queue, job)
            self._cv.notify()
        if token is not None:
            job.on_cancel = lambda: self._drop(job)
            token.on_cancel(job.on_cancel)
        return future

    def _drop(self, job: _Job) -> None:
        """The job's token was cancelled: take it out of the queue if the worker has not popped it."""
        with self._cv:
            if not any(queued is job for queued in self._queue):
                return  # running or done: the worker checks the token between batches
            self._queue = [queued for queued in self._queue if queued is not job]
            heapq.heapify(self._queue)
        if job.future.set_running_or_notify_cancel():
            job.future.set_exception(Cancelled())

    def analyse(self, items: Sequence[FunctionInput], priority: int = PRIORITY_EDIT,
                token: CancelToken | None = None) -> "Future[list[FunctionAnalysis]]":
        items = list(items)
        return self._submit(priority, lambda backend: self._analyse_batches(backend, items, token), token)

    def embed_queries(self, queries: Sequence[str]) -> "Future[np.ndarray]":
        queries = list(queries)
        return self._submit(PRIORITY_INTERACTIVE, lambda backend: backend.embed_queries(queries), None)

    def review(self, item: FunctionInput, line: int, token: CancelToken | None = None) -> "Future[ReviewNote]":
        return self._submit(PRIORITY_INTERACTIVE, lambda backend: backend.review(item, line), token)

    def log_likelihood(self, items: Sequence[FunctionInput], token: CancelToken | None = None) -> "Future[list[float]]":
        """The language model's log-probability of each function (repairs: how natural an edit is)."""
        items = list(items)
        return self._submit(PRIORITY_INTERACTIVE, lambda backend: backend.log_likelihood(items), token)

    def queue_length(self) -> int:
        with self._cv:
            return len(self._queue)

    # ------------------------------------------------------------------ worker
    def _worker(self) -> None:
        self._load()
        while True:
            with self._cv:
                while not self._queue:
                    self._cv.wait()
                job = heapq.heappop(self._queue)
            if job.run is _stop_marker:
                return
            if job.token is not None and job.on_cancel is not None:
                job.token.remove_callback(job.on_cancel)
            if job.token is not None and job.token.cancelled:
                job.future.set_exception(Cancelled())
                continue
            if not job.future.set_running_or_notify_cancel():
                continue
            try:
                if self._backend is None and job.priority >= PRIORITY_INTERACTIVE:  # reloads run regardless
                    raise EngineUnavailable(self.status.message or "model not loaded")
                job.future.set_result(job.run(self._backend))
            except BaseException as exc:  # noqa: BLE001 - errors travel to the waiting caller
                job.future.set_exception(exc)

    def _analyse_batches(self, backend: AnalysisBackend, items: list[FunctionInput],
                         token: CancelToken | None) -> list[FunctionAnalysis]:
        lengths = [backend.count_tokens(item) for item in items]
        order = length_order(lengths)
        results: list[FunctionAnalysis | None] = [None] * len(items)
        start = 0
        while start < len(order):
            if token is not None and token.cancelled:
                raise Cancelled()
            # Pass by pass (not batch_plan): an out-of-memory error shrinks the size mid-plan.
            end = pass_end(lengths, order, start, self.max_batch, self.token_budget)
            chunk = order[start:end]
            try:
                if self.before_batch is not None:
                    self.before_batch(len(chunk))
                out = backend.analyse([items[i] for i in chunk])
            except Exception as exc:  # noqa: BLE001
                if not _is_oom(exc):
                    raise
                backend = self._handle_oom(backend, len(chunk))
                continue  # retry the same start with the smaller budget
            self._batch_succeeded()
            for i, res in zip(chunk, out):
                results[i] = res
            self.functions_analysed += len(chunk)
            self.tokens_analysed += sum(lengths[i] for i in chunk)
            start = end
        return results  # type: ignore[return-value]

    def _batch_succeeded(self) -> None:
        if self._full_size is None:
            return
        self._ok_batches += 1
        if self._ok_batches < self.oom_recovery_batches:
            return
        full_batch, full_budget = self._full_size
        self.max_batch = min(full_batch, self.max_batch * 2)
        self.token_budget = min(full_budget, self.token_budget * 2)
        self._ok_batches, self._grown = 0, True
        if (self.max_batch, self.token_budget) == self._full_size:
            self._full_size = None
        log.info("no out-of-memory for %d batches: batch size back up to %d", self.oom_recovery_batches,
                 self.max_batch)

    def _handle_oom(self, backend: AnalysisBackend, batch_size: int) -> AnalysisBackend:
        if batch_size > 1:
            if self._full_size is None:
                self._full_size = (self.max_batch, self.token_budget)
            if self._grown:  # the step back up failed: wait twice as long before the next one
                self.oom_recovery_batches *= 2
            self._ok_batches, self._grown = 0, False
            self.max_batch = max(1, batch_size // 2)
            self.token_budget = max(256, self.token_budget // 2)
            log.warning("out of memory: batch size now %d", self.max_batch)
            return backend
        if self._cpu_fallback_loader is None or getattr(backend.identity, "device", "cpu") == "cpu":
            raise EngineUnavailable("out of memory even for a single function: free memory (other programs, "
                                    "a smaller `cacheSize`) and restart the server")
        self._set_status("loading", "GPU out of memory: moving the model to the CPU")
        self._backend = self._cpu_fallback_loader(self._on_progress)
        self._set_status("ready", "running on the CPU after a GPU out-of-memory error")
        return self._backend
