"""One thread per process that finishes, off the request threads, the work a request only
queued: counts not yet added to the metrics, access lines not yet written.

A cache hit is about ten microseconds of Python; a metrics increment under prometheus_client's
multiprocess lock or a line through ``logging``'s handler lock costs as much again. So the
hit path appends to a deque (atomic, no lock) and this thread, every FLUSH_SECONDS and once
more when the process exits, runs the registered flushes.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable

FLUSH_SECONDS = 0.025
log = logging.getLogger(__name__)

Flush = Callable[[], None]


class Flusher:
    """A daemon thread of this process that runs the registered flushes every ``seconds``,
    and once more when the process exits (each flush's ``at_exit`` form, if it has one).
    Started once per process: a forked child starts its own."""

    def __init__(self, name: str, seconds: float) -> None:
        self.name = name
        self.seconds = seconds
        self._flushes: list[tuple[Flush, Flush]] = []
        self._lock = threading.Lock()
        self._started_in: int | None = None
        self._stop = threading.Event()

    def on_flush(self, flush: Flush, at_exit: Flush | None = None) -> None:
        """Run ``flush`` every ``seconds``, and ``at_exit`` (default: ``flush``) at exit."""
        with self._lock:
            self._flushes.append((flush, at_exit or flush))

    def start(self) -> None:
        """Start this process's thread, unless it runs already."""
        with self._lock:
            if self._started_in == os.getpid():
                return
            self._started_in = os.getpid()
        thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        thread.start()
        atexit.register(self._last_flush, thread)

    def flush_now(self, at_exit: bool = False) -> None:
        """Run every registered flush once (their ``at_exit`` form), in the calling thread."""
        with self._lock:
            flushes = [last if at_exit else flush for flush, last in self._flushes]
        for flush in flushes:
            try:
                flush()
            except Exception:  # a bug in one flush must not stop the others, nor the thread
                log.exception("%s: flush failed: %r", self.name, flush)

    def _run(self) -> None:
        while not self._stop.wait(self.seconds):
            self.flush_now()

    def _last_flush(self, thread: threading.Thread) -> None:
        """At exit: stop the thread, then flush what the last requests queued."""
        self._stop.set()
        thread.join(timeout=5)
        self.flush_now(at_exit=True)


# The flusher of the hit path: counts and access lines, every 25 ms.
_FLUSHER = Flusher("feeds-flusher", FLUSH_SECONDS)


def on_flush(flush: Flush) -> None:
    """Run ``flush`` every FLUSH_SECONDS and at exit, in this process's flusher thread."""
    _FLUSHER.on_flush(flush)


def start_flusher() -> None:
    """Start this process's flusher thread, unless it runs already."""
    _FLUSHER.start()


def flush_now() -> None:
    """Run every registered flush once, in the calling thread."""
    _FLUSHER.flush_now()
