"""One download's deadline, and the errors a download fails with.

Socket timeouts bound each socket operation, not the download, which a server sending one
byte a second never trips: so the whole download has one deadline, ``import_fetch_seconds``,
and a watchdog that shuts the socket it watches when the deadline passes.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from typing import TypeVar, overload

from feeds.ingest.runner import ImportFailed
from feeds.settings import Settings


class FetchFailed(ImportFailed):
    """A URL could not be downloaded; the message names it and says why."""


class AddressRefused(FetchFailed):
    """The URL, or one it redirects to, leads to an address kept out by the settings."""


class TooManyRedirects(FetchFailed):
    """The URL redirects more than import_max_redirects times."""


class FetchTimeout(FetchFailed):
    """The download did not complete within import_fetch_seconds."""


_Failure = TypeVar("_Failure", bound=FetchFailed)


class Attempt:
    """One download of ``url``: the hop it is at, its deadline, the socket the deadline
    watches, and the errors that name them."""

    def __init__(self, url: str, settings: Settings) -> None:
        self.url = url
        self.hop = url
        self._settings = settings
        self._seconds = settings.import_fetch_seconds
        self._end = time.monotonic() + self._seconds
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        # Socket timeouts bound each read, so the whole download needs its own watchdog: a
        # server may send its headers a byte at a time.
        self._watchdog = threading.Timer(self._seconds, self._expire)
        self._watchdog.daemon = True
        self._watchdog.start()

    # --- the deadline -----------------------------------------------------------------

    def remaining(self) -> float:
        """Seconds left before the deadline; FetchTimeout once it has passed."""
        left = self._end - time.monotonic()
        if left <= 0:
            raise self.timeout()
        return left

    def passed(self) -> bool:
        return time.monotonic() >= self._end

    def timeout(self) -> FetchTimeout:
        return self.failure(
            f"no complete answer within {self._seconds:g} s (import_fetch_seconds)", FetchTimeout
        )

    def _expire(self) -> None:
        with self._lock:
            if self._socket is not None:
                # The plain socket's shutdown, also under TLS: it wakes a blocked read.
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(self._socket, socket.SHUT_RDWR)

    def watch(self, sock: socket.socket | None) -> None:
        """Make ``sock`` the socket the deadline shuts down; the previous one is closed."""
        with self._lock:
            if self._socket is not None and self._socket is not sock:
                self._socket.close()
            self._socket = sock

    def stop(self) -> None:
        self._watchdog.cancel()
        with self._lock:
            if self._socket is not None:
                self._socket.close()
                self._socket = None

    # --- failures ---------------------------------------------------------------------

    @overload
    def failure(self, reason: str) -> FetchFailed: ...
    @overload
    def failure(self, reason: str, kind: type[_Failure]) -> _Failure: ...
    def failure(self, reason: str, kind: type[FetchFailed] = FetchFailed) -> FetchFailed:
        """The error for this download, naming the hop it reached."""
        via = f" (redirected to {self.hop})" if self.hop != self.url else ""
        return kind(f"cannot fetch {self.url}{via}: {reason}")

    def network_failure(self, error: BaseException, doing: str) -> FetchFailed:
        """The error for a failed connection, TLS handshake or read; ``doing`` says which."""
        if isinstance(error, TimeoutError) or self.passed():
            return self.timeout()
        if isinstance(error, ssl.SSLCertVerificationError):
            reason = f"certificate refused: {error.verify_message}"
        elif isinstance(error, ssl.SSLError):
            reason = f"{error.reason or error}"
        elif isinstance(error, ConnectionRefusedError):
            reason = "connection refused"
        elif isinstance(error, http.client.HTTPException):
            detail = str(error)
            reason = f"not a valid HTTP answer ({type(error).__name__}{': ' if detail else ''}"
            reason += f"{detail})"
        elif isinstance(error, OSError):
            reason = error.strerror or str(error) or type(error).__name__
        else:
            reason = str(error)
        return self.failure(f"{doing}: {reason}")
