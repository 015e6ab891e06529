"""The body of a download, read within the download's deadline and held to its
Content-Length."""

from __future__ import annotations

import http.client
import io
import socket

from feeds.ingest.fetch_attempt import Attempt, FetchTimeout

# Once the body Content-Length announced has come, how long to wait for the server to close
# the connection (the request asks it to): more bytes instead mean the Content-Length lied.
CLOSE_GRACE_SECONDS = 1.0


class Body(io.RawIOBase):
    """The body of a download, read within the deadline and held to its Content-Length.

    The server is asked to close the connection after the answer, and the body is read to
    that end: so a body shorter or longer than its Content-Length is an error, not a
    silently cut or padded document.
    """

    def __init__(self, fetch: Attempt, response: http.client.HTTPResponse, sock: socket.socket):
        super().__init__()
        self.headers = response.headers
        self.declared_length = None if response.chunked else response.length
        response.length = None  # read to the end of the connection, past what was announced
        self._fetch = fetch
        self._response = response
        self._socket = sock
        self._received = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._done:
            return 0
        declared = self.declared_length
        complete = declared is not None and self._received >= declared
        try:
            if complete:
                self._socket.settimeout(min(CLOSE_GRACE_SECONDS, self._fetch.remaining()))
            else:
                self._socket.settimeout(self._fetch.remaining())
            data = self._response.read1(len(buffer))
        except (FetchTimeout, TimeoutError):
            if complete:  # the whole body came; the server only kept the connection open
                self._done = True
                return 0
            raise self._fetch.timeout() from None
        except http.client.IncompleteRead:
            if self._fetch.passed():
                raise self._fetch.timeout() from None
            raise self._fetch.failure(
                f"the body broke off after {self._received} bytes (the connection closed, or "
                "its chunked encoding is broken)"
            ) from None
        except (OSError, http.client.HTTPException) as error:
            raise self._fetch.network_failure(error, "reading the body") from None
        if not data:
            if self._fetch.passed() and not complete:  # the watchdog shut the socket
                raise self._fetch.timeout()
            if declared is not None and self._received < declared:
                raise self._fetch.failure(
                    f"the connection closed after {self._received} of the {declared} bytes "
                    "its Content-Length announced"
                )
            self._done = True
            return 0
        self._received += len(data)
        if declared is not None and self._received > declared:
            raise self._fetch.failure(
                f"the server sent more than the {declared} bytes its Content-Length announced"
            )
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._response.close()
        super().close()
