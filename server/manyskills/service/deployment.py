"""The Ray Serve deployment: the same `LocalRuntime` (base + the one adapter + heads) behind HTTP.

Imports Ray at module level, so only `manyskills model-server` and Ray's own workers import this
module. Each replica loads the model once; every function of every concurrent request goes through
one `serve.batch` queue, so requests from many editors share forward passes. Inside a batch the
functions are sorted by length and cut under a padded-token budget, like the in-process engine
(model/batching.py).

With a token (ServiceConfig.token, else MANYSKILLS_SERVICE_TOKEN in the replica's environment) every
route but /healthz answers 401 unless the request carries `Authorization: Bearer <token>` (auth.py).

Routes (all answers are JSON and carry the model identity, see wire.py):
  GET  /healthz   the replica process answers (never needs the token)
  GET  /readyz    the model is loaded: identity + adapter manifest
  POST /v1/analyse {"items": [FunctionInput...]}      -> {"results": [FunctionAnalysis...]}
  POST /v1/tokens  {"items": [FunctionInput...]}      -> {"counts": [int...]}
  POST /v1/embed   {"queries": [str...]}              -> {"embeddings": array}
  POST /v1/review  {"item": FunctionInput, "line": n} -> {"note": ReviewNote}
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from ray import serve
from starlette.requests import Request
from starlette.responses import JSONResponse

from manyskills.model.batching import MAX_BATCH, TOKEN_BUDGET, analyse_planned
from manyskills.model.types import FunctionAnalysis, FunctionInput
from manyskills.service import auth, wire

log = logging.getLogger("manyskills.service")
DEPLOYMENT_NAME = "ModelService"
APP_NAME = "manyskills"
MAX_REQUEST_ITEMS = 4096
MAX_REVIEW_TOKENS = 512


@dataclass(frozen=True)
class ServiceConfig:
    """What a replica loads and how it batches (everything a replica needs is picklable here)."""

    model: str | None = None  # local directory of an HF causal LM on the replica's node; None = embedded
    adapter: str | None = None  # adapter directory on the replica's node; None = the shipped adapter
    device: str = "auto"
    max_batch_size: int = 32  # functions per serve.batch call (across requests and clients)
    batch_wait_ms: float = 5.0  # how long a batch waits for more functions
    pass_size: int = MAX_BATCH  # functions per forward pass
    token_budget: int = TOKEN_BUDGET  # padded tokens per forward pass
    fault_delay_s: float = 0.0  # fault injection (tests): sleep before each forward pass
    token: str | None = field(default=None, repr=False)  # None = MANYSKILLS_SERVICE_TOKEN, else no auth


@serve.deployment(name=DEPLOYMENT_NAME, max_ongoing_requests=64, health_check_period_s=5,
                  health_check_timeout_s=30, graceful_shutdown_timeout_s=5)
class ModelService:
    def __init__(self, config: ServiceConfig):
        from manyskills.model.runtime import LocalRuntime  # torch loads in the replica, not the driver

        self.config = config
        self._token = auth.check_token(config.token) if config.token else auth.token_from_env()
        self.runtime = LocalRuntime.load(config.model, config.adapter, config.device)
        self.identity = self.runtime.identity
        self.manifest = asdict(self.runtime.manifest)
        # The runtime is single-threaded by design (the tokenizer is not safe to share across threads).
        self._lock = threading.Lock()
        self._analyse_one.set_max_batch_size(config.max_batch_size)
        self._analyse_one.set_batch_wait_timeout_s(config.batch_wait_ms / 1000)
        self.functions_analysed = 0
        self.batches = 0
        log.info("ManySkills model service replica ready: %s (pid %d, %s)", self.identity, os.getpid(),
                 "token required" if self._token else "no token")

    # ------------------------------------------------------------------ model calls (one thread at a time)
    def _run_planned(self, items: list[FunctionInput]) -> list[FunctionAnalysis]:
        delay = self.config.fault_delay_s
        with self._lock:
            results = analyse_planned(self.runtime, items, self.config.pass_size, self.config.token_budget,
                                      (lambda _n: time.sleep(delay)) if delay else None)
            self.functions_analysed += len(items)
            self.batches += 1
        return results

    def _locked(self, fn, *args):
        with self._lock:
            return fn(*args)

    @serve.batch(max_batch_size=32, batch_wait_timeout_s=0.005)
    async def _analyse_one(self, items: list[FunctionInput]) -> list[FunctionAnalysis]:
        return await asyncio.to_thread(self._run_planned, items)

    # ------------------------------------------------------------------ HTTP
    def _reply(self, status: int = 200, **payload: Any) -> JSONResponse:
        return JSONResponse(wire.envelope(self.identity, replica=os.getpid(), **payload), status_code=status)

    async def __call__(self, request: Request) -> JSONResponse:
        path = request.url.path.rstrip("/") or "/"
        refused = auth.rejection(path, request.headers.get("authorization"), self._token)
        if refused is not None:
            response = self._reply(401, error=refused)
            response.headers["WWW-Authenticate"] = 'Bearer realm="manyskills"'
            return response
        try:
            if request.method == "GET" and path == wire.HEALTH_PATH:
                return self._reply(state="ok")
            if request.method == "GET" and path == wire.READY_PATH:
                return self._reply(state="ready", manifest=self.manifest,
                                   stats={"functions": self.functions_analysed, "batches": self.batches})
            if request.method != "POST":
                return self._reply(404, error=f"no route {request.method} {path}")
            body = await request.json()
            if path == wire.ANALYSE_PATH:
                items = self._items(body)
                results = await asyncio.gather(*(self._analyse_one(item) for item in items))
                return self._reply(results=[wire.encode_analysis(r) for r in results])
            if path == wire.TOKENS_PATH:
                items = self._items(body)
                counts = await asyncio.to_thread(self._locked, lambda: [self.runtime.count_tokens(i) for i in items])
                return self._reply(counts=counts)
            if path == wire.EMBED_PATH:
                queries = body.get("queries") if isinstance(body, dict) else None
                if not isinstance(queries, list) or not all(isinstance(q, str) for q in queries) or not queries:
                    raise wire.WireError("'queries' must be a non-empty list of strings")
                vectors = await asyncio.to_thread(self._locked, self.runtime.embed_queries, queries)
                return self._reply(embeddings=wire.encode_array(vectors))
            if path == wire.REVIEW_PATH:
                item = wire.decode_input(body.get("item") if isinstance(body, dict) else None)
                line = body.get("line")
                tokens = body.get("max_new_tokens", 64)
                if not isinstance(line, int) or not isinstance(tokens, int) or not 0 < tokens <= MAX_REVIEW_TOKENS:
                    raise wire.WireError(f"'line' must be an int and 'max_new_tokens' in 1..{MAX_REVIEW_TOKENS}")
                note = await asyncio.to_thread(self._locked, self.runtime.review, item, line, tokens)
                return self._reply(note=wire.encode_note(note))
            if path == wire.LIKELIHOOD_PATH:
                items = self._items(body)
                values = await asyncio.to_thread(self._locked, self.runtime.log_likelihood, items)
                return self._reply(log_likelihood=values)
            return self._reply(404, error=f"no route POST {path}")
        except (wire.WireError, ValueError) as exc:  # bad input: say which field, keep serving
            return self._reply(400, error=str(exc))

    @staticmethod
    def _items(body: Any) -> list[FunctionInput]:
        items = wire.decode_inputs(body)
        if len(items) > MAX_REQUEST_ITEMS:
            raise wire.WireError(f"at most {MAX_REQUEST_ITEMS} functions per request, got {len(items)}")
        return items

    def check_health(self) -> None:
        """Serve restarts a replica whose model is gone (called every health_check_period_s)."""
        if self.runtime is None:
            raise RuntimeError("model not loaded")


def build_app(config: ServiceConfig, replicas: int = 1, num_cpus: float = 1.0, num_gpus: float = 0.0,
              env_vars: dict[str, str] | None = None):
    options: dict[str, Any] = {"num_cpus": num_cpus, "num_gpus": num_gpus}
    if env_vars:
        options["runtime_env"] = {"env_vars": env_vars}
    return ModelService.options(num_replicas=replicas, ray_actor_options=options).bind(config)


def app_builder(args: dict[str, Any]):
    """Entry point for Serve config files and KubeRay (`import_path: manyskills.service.deployment:app_builder`).
    `args` holds ServiceConfig fields; replicas and resources come from the config's `deployments` section."""
    known = ServiceConfig.__dataclass_fields__
    unknown = sorted(set(args) - set(known))
    if unknown:
        raise ValueError(f"unknown ManySkills service args {unknown}; known: {sorted(known)}")
    return ModelService.bind(ServiceConfig(**args))
