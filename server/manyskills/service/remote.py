"""`RemoteBackend`: the `AnalysisBackend` protocol over HTTP, so the language server and `check`
use a shared model service exactly as they use the in-process runtime (through `ModelEngine`:
same priority queue, same batching, cancellation between HTTP calls, same cache).

The identity the service reports is this backend's identity, so cached results are keyed by the
model that produced them; if the service starts answering with a different model (redeployed with
another adapter), the backend adopts the new identity and manifest, and old cache entries stop
matching.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

import numpy as np

from manyskills.model.adapter import Manifest
from manyskills.model.types import FunctionAnalysis, FunctionInput, ModelIdentity, ReviewNote
from manyskills.service import wire
from manyskills.service.client import ServiceClient, ServiceUnavailable

log = logging.getLogger(__name__)
Notify = Callable[[str, str], None]  # (level: "info" | "warning" | "error", message)
APPROX_CHARS_PER_TOKEN = 3


class RemoteBackend:
    def __init__(self, client: ServiceClient, notify: Notify | None = None):
        self.client = client
        self._notify = notify or (lambda level, message: None)
        self._lock = threading.Lock()
        self._down = False
        ready = client.get(wire.READY_PATH)
        self.identity: ModelIdentity = wire.decode_identity(ready.get("identity"))
        self.manifest: Manifest = wire.decode_manifest(ready.get("manifest"))

    # ------------------------------------------------------------------ AnalysisBackend
    def analyse(self, batch: Sequence[FunctionInput]) -> list[FunctionAnalysis]:
        if not batch:
            return []
        answer = self._post(wire.ANALYSE_PATH, {"items": [wire.encode_input(item) for item in batch]})
        results = [wire.decode_analysis(r) for r in answer.get("results", [])]
        if len(results) != len(batch):
            raise wire.WireError(f"the service answered {len(results)} results for {len(batch)} functions")
        return results

    def embed_queries(self, queries: Sequence[str]) -> np.ndarray:
        answer = self._post(wire.EMBED_PATH, {"queries": list(queries)})
        return wire.decode_array(answer.get("embeddings"))

    def review(self, item: FunctionInput, line: int, max_new_tokens: int = 64) -> ReviewNote:
        answer = self._post(wire.REVIEW_PATH, {"item": wire.encode_input(item), "line": line,
                                               "max_new_tokens": max_new_tokens})
        return wire.decode_note(answer.get("note"))

    def log_likelihood(self, batch: Sequence[FunctionInput]) -> list[float]:
        if not batch:
            return []
        answer = self._post(wire.LIKELIHOOD_PATH, {"items": [wire.encode_input(item) for item in batch]})
        values = answer.get("log_likelihood")
        if (not isinstance(values, list) or len(values) != len(batch)
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)):
            raise wire.WireError(f"the service did not answer {len(batch)} log-likelihoods")
        return [float(v) for v in values]

    def count_tokens(self, item: FunctionInput) -> int:
        """An estimate, used only to order and size the engine's batches (one HTTP call per function
        would cost more than it saves); the service counts exactly and re-plans its own batches."""
        return max(1, len(item.text) // APPROX_CHARS_PER_TOKEN) + 4

    # ------------------------------------------------------------------ plumbing
    def _post(self, path: str, payload: dict) -> dict:
        try:
            answer = self.client.post(path, payload)
        except ServiceUnavailable as exc:
            self._set_down(True, str(exc))
            raise
        self._set_down(False, "")
        self._adopt_identity(answer)
        return answer

    def _set_down(self, down: bool, reason: str) -> None:
        """One message when the service goes away and one when it is back, not one per request."""
        with self._lock:
            changed, self._down = down != self._down, down
        if not changed:
            return
        if down:
            self._notify("error", f"{reason}; analysis paused until it answers again")
        else:
            self._notify("info", f"the model service at {self.client.url} answers again")

    def _adopt_identity(self, answer: dict) -> None:
        identity = wire.decode_identity(answer.get("identity"))
        if identity.cache_key == self.identity.cache_key:
            return
        log.warning("model service changed model: %s -> %s", self.identity, identity)
        ready = self.client.get(wire.READY_PATH)
        self.manifest = wire.decode_manifest(ready.get("manifest"))
        self.identity = identity
        self._notify("warning", f"the model service at {self.client.url} now serves {identity.base_name} with "
                                f"adapter {identity.adapter_version}; results are recomputed")


class FallbackBackend:
    """The service first; when it is unavailable, a local model (loaded on first need), with a message.
    Stays local until the settings change (which builds a new backend and tries the service again)."""

    def __init__(self, remote: RemoteBackend, load_local: Callable[[], object], notify: Notify | None = None):
        self.remote = remote
        self._load_local = load_local
        self._notify = notify or (lambda level, message: None)
        self.local = None

    @property
    def current(self):
        return self.local if self.local is not None else self.remote

    @property
    def identity(self) -> ModelIdentity:
        return self.current.identity

    @property
    def manifest(self) -> Manifest:
        return self.current.manifest

    def _call(self, name: str, *args):
        if self.local is None:
            try:
                return getattr(self.remote, name)(*args)
            except ServiceUnavailable as exc:
                self._notify("warning", f"{exc}; falling back to the local model (engineFallback)")
                self.local = self._load_local()
        return getattr(self.local, name)(*args)

    def analyse(self, batch: Sequence[FunctionInput]) -> list[FunctionAnalysis]:
        return self._call("analyse", batch)

    def embed_queries(self, queries: Sequence[str]) -> np.ndarray:
        return self._call("embed_queries", queries)

    def review(self, item: FunctionInput, line: int, max_new_tokens: int = 64) -> ReviewNote:
        return self._call("review", item, line, max_new_tokens)

    def log_likelihood(self, batch: Sequence[FunctionInput]) -> list[float]:
        return self._call("log_likelihood", batch)

    def count_tokens(self, item: FunctionInput) -> int:
        return self.current.count_tokens(item)
