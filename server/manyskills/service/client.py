"""A small HTTP client for the model service, standard library only (clients never need Ray).

Every call has one deadline covering all its attempts, so a dead or stalled service costs at most
`timeout` seconds, never a hang. 5xx/408/429 answers and dropped connections are retried until the
deadline with a capped backoff (Serve restarts a killed replica, or routes to another); a refused
connection (nothing listening: the service is not running) is retried only `refused_attempts` times,
so the editor hears about it quickly; 4xx answers are the caller's fault and are raised at once. Proxies from the environment are ignored: requests go
exactly where the `engine` setting points, nowhere else. With a token (the `engineToken` setting or
MANYSKILLS_SERVICE_TOKEN) every request carries `Authorization: Bearer`; a 401 says which of the two to
set, never the token.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from typing import Any

from manyskills.model.engine import EngineUnavailable
from manyskills.service.auth import TOKEN_ENV, bearer, check_token
from manyskills.settings import check_engine_url  # the one rule for a valid `engine` URL

RETRY_STATUS = {408, 429, 500, 502, 503, 504}
MAX_BACKOFF_S = 2.0


class ServiceUnavailable(EngineUnavailable):
    """The service did not answer within the deadline (down, unreachable, or too slow)."""


class ServiceRequestError(RuntimeError):
    """The service refused a request (4xx): a client bug or a version mismatch, not an outage."""


class ServiceAuthError(ServiceRequestError):
    """The service wants a token this client did not send, or not the one it sent (HTTP 401)."""


class ServiceClient:
    def __init__(self, url: str, timeout: float = 30.0, refused_attempts: int = 3, backoff_s: float = 0.25,
                 token: str | None = None):
        self.url = check_engine_url(url)
        self._headers = {"Content-Type": "application/json", **(bearer(check_token(token)) if token else {})}
        self.timeout = timeout
        self.refused_attempts = max(1, refused_attempts)
        self.backoff_s = backoff_s
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.requests = 0
        self.retries = 0

    def get(self, path: str, timeout: float | None = None) -> dict:
        return self._call("GET", path, None, timeout)

    def post(self, path: str, payload: dict, timeout: float | None = None) -> dict:
        return self._call("POST", path, json.dumps(payload).encode("utf-8"), timeout)

    def _call(self, method: str, path: str, body: bytes | None, timeout: float | None) -> dict:
        budget = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + budget
        reason = "did not answer"
        attempt = refused = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or refused >= self.refused_attempts:
                break
            if attempt:
                self.retries += 1
            request = urllib.request.Request(self.url + path, data=body, method=method,
                                             headers=self._headers)
            self.requests += 1
            try:
                with self._opener.open(request, timeout=remaining) as response:
                    answer = json.loads(response.read())
                if not isinstance(answer, dict):
                    raise ServiceRequestError(f"unexpected answer from {self.url}{path}")
                return answer
            except urllib.error.HTTPError as exc:
                detail = _error_detail(exc)
                if exc.code == 401:
                    advice = ("the token was refused: check `engineToken` / " + TOKEN_ENV
                              if "Authorization" in self._headers else
                              "it requires a token: set the `engineToken` setting or " + TOKEN_ENV)
                    raise ServiceAuthError(f"the model service at {self.url} refused {method} {path}: "
                                           f"{advice}") from None
                if exc.code not in RETRY_STATUS:
                    raise ServiceRequestError(f"the model service refused {method} {path}: HTTP {exc.code} {detail}") \
                        from None
                reason = f"answered HTTP {exc.code} {detail}".strip()
            except (urllib.error.URLError, http.client.HTTPException, ConnectionError,
                    TimeoutError, json.JSONDecodeError) as exc:
                reason = _describe(exc, budget)
                refused += isinstance(getattr(exc, "reason", exc), ConnectionRefusedError)
            pause = min(self.backoff_s * (2 ** attempt), MAX_BACKOFF_S, max(0.0, deadline - time.monotonic()))
            attempt += 1
            time.sleep(pause)
        elapsed = budget - max(0.0, deadline - time.monotonic())
        raise ServiceUnavailable(f"the model service at {self.url} {reason} "
                                 f"(gave up after {attempt} attempt{'s' if attempt != 1 else ''}, {elapsed:.1f} s)")


def _describe(exc: BaseException, budget: float) -> str:
    inner = getattr(exc, "reason", exc)
    if isinstance(inner, TimeoutError):
        return f"did not answer within {budget:.0f} s"
    if isinstance(inner, ConnectionRefusedError):
        return "refused the connection (is `manyskills model-server` running?)"
    return f"is unreachable ({inner})"


def _error_detail(exc: urllib.error.HTTPError) -> str:
    try:
        payload: Any = json.loads(exc.read() or b"{}")
    except (ValueError, OSError):
        return ""
    return str(payload.get("error", "")) if isinstance(payload, dict) else ""
