"""What every piece of model work carries, wherever it is queued: a priority and a cancel token.

Priorities (lower runs first): interactive requests (review, search) before edited functions before
workspace scans. A `CancelToken` is created by whoever may supersede the work (a newer edit of the
document, `$/cancelRequest`, a cancelled scan) and checked by whoever runs it: before it starts and
between forward passes, so stale work stops within one batch. Callbacks let a queue drop queued work
the moment its token is cancelled.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

PRIORITY_INTERACTIVE = 0
PRIORITY_EDIT = 1
PRIORITY_SCAN = 2


class Cancelled(Exception):
    """The job's token was cancelled before it finished."""


class CancelToken:
    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    def cancel(self) -> None:
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def on_cancel(self, callback: Callable[[], None]) -> None:
        """Run `callback` when the token is cancelled (at once if it already is)."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return
        callback()

    def remove_callback(self, callback: Callable[[], None]) -> None:
        with self._lock:
            try:
                self._callbacks.remove(callback)
            except ValueError:
                pass
