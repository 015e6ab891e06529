"""Where an import reads from: a file, standard input or (for feeds) a URL.

The bytes read are counted, so that a progress bar can follow a parser that streams.
"""

from __future__ import annotations

import http.client
import io
import os
import stat
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import BinaryIO

from feeds.ingest.runner import ImportFailed

STDIN = "-"
URL_SCHEMES = ("http://", "https://")
USER_AGENT = "feeds-import/0.1"
FETCH_TIMEOUT = 30


class _CountingReader(io.RawIOBase):
    """A raw stream that counts the bytes read through it."""

    def __init__(self, inner: BinaryIO) -> None:
        self._inner = inner
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        read = self._inner.readinto(buffer) or 0  # type: ignore[attr-defined]
        self.count += read
        return read


@dataclass
class Source:
    """An open input: its name for messages, a buffered binary stream, and its size if known."""

    name: str
    stream: BinaryIO
    size: int | None
    headers: Mapping[str, str] = field(default_factory=dict)
    _counter: _CountingReader | None = None

    @property
    def bytes_read(self) -> int:
        """How many bytes the parser has taken so far."""
        return self._counter.count if self._counter else 0

    @classmethod
    def counting(
        cls, name: str, raw: BinaryIO, size: int | None, headers: Mapping[str, str] | None = None
    ) -> Source:
        """A Source reading ``raw`` through a byte counter."""
        counter = _CountingReader(raw)
        stream = io.BufferedReader(counter)
        return cls(name, stream, size, dict(headers or {}), counter)  # type: ignore[arg-type]


@contextmanager
def open_source(location: str, allow_url: bool = False) -> Iterator[Source]:
    """Open a path, ``-`` (standard input) or, with ``allow_url``, an http(s) URL.

    ImportFailed says why when it cannot be read.
    """
    with ExitStack() as stack:
        if location == STDIN:
            stdin = sys.stdin.buffer
            yield Source.counting("standard input", stdin, _regular_file_size(stdin))
        elif location.startswith(URL_SCHEMES):
            if not allow_url:
                raise ImportFailed(f"{location}: only `feeds import feed` reads from a URL")
            response = stack.enter_context(_fetch(location))
            length = response.headers.get("Content-Length")
            size = int(length) if length and length.isdigit() else None
            yield Source.counting(location, response, size, dict(response.headers.items()))
        else:
            try:
                raw = stack.enter_context(open(location, "rb", buffering=0))
            except OSError as error:
                raise ImportFailed(f"cannot read {location}: {error.strerror}") from None
            yield Source.counting(location, raw, _regular_file_size(raw))


def _fetch(url: str) -> http.client.HTTPResponse:
    """The HTTP response for ``url``; ImportFailed on an HTTP or network error."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        return urllib.request.urlopen(request, timeout=FETCH_TIMEOUT)
    except urllib.error.HTTPError as error:
        raise ImportFailed(f"cannot fetch {url}: HTTP {error.code} {error.reason}") from None
    except urllib.error.URLError as error:
        raise ImportFailed(f"cannot fetch {url}: {error.reason}") from None
    except (TimeoutError, OSError) as error:
        raise ImportFailed(f"cannot fetch {url}: {error}") from None


def _regular_file_size(stream: BinaryIO) -> int | None:
    """The size of a stream that is a regular file (a pipe or terminal has none)."""
    try:
        status = os.fstat(stream.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        return None
    return status.st_size if stat.S_ISREG(status.st_mode) else None
