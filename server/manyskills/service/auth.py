"""The model service's bearer token: where it comes from, how a request proves it, where it may be left out.

Standard library only (besides settings.py, where the token format is a settings rule): the service (deployment.py), its clients (client.py, the language server, `check`)
and `model-server`'s flag checks share these rules. The token itself never appears in a message, a
log line or a repr.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from pathlib import Path

# What a usable token is: a settings rule too (`engineToken`), so it lives in settings.py, below service/.
from manyskills.settings import MAX_TOKEN_CHARS, MIN_TOKEN_CHARS, TokenError, check_token  # noqa: F401

TOKEN_ENV = "MANYSKILLS_SERVICE_TOKEN"
OPEN_PATHS = frozenset({"/healthz"})  # liveness probes (Kubernetes, load balancers) carry no credentials


def read_token_file(path: str | os.PathLike) -> str:
    """The token in a file (surrounding whitespace, such as the final newline, ignored)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TokenError(f"cannot read the token file {path}: {exc.__class__.__name__}") from None
    return check_token(text.strip())


def token_from_env() -> str | None:
    """MANYSKILLS_SERVICE_TOKEN, or None when unset or empty."""
    value = os.environ.get(TOKEN_ENV, "").strip()
    return check_token(value) if value else None


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def authorized(header: str | None, token: str) -> bool:
    """Whether an `Authorization` header carries `token`, compared in constant time."""
    if not header:
        return False
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(presented.strip().encode("utf-8", "replace"), token.encode("utf-8"))


def rejection(path: str, header: str | None, token: str | None) -> str | None:
    """Why a request must get 401, or None when it may pass (no token configured, an open path, or
    the right token)."""
    if token is None or path in OPEN_PATHS:
        return None
    if not header:
        return "this model service requires 'Authorization: Bearer <token>'"
    if not authorized(header, token):
        return "wrong service token"
    return None


def is_loopback(host: str) -> bool:
    """Whether a bind address only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name may resolve to any interface
