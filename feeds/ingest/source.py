"""Where an import reads from: a file, standard input or (for feeds) an http(s) URL.

Whatever the source, an import reads at most ``import_max_bytes`` of it. The bytes read
are counted, so that a progress bar can follow a parser that streams.
"""

from __future__ import annotations

import io
import os
import re
import stat
import sys
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import BinaryIO

from feeds.ingest.runner import ImportFailed
from feeds.settings import Settings

STDIN = "-"
URL_SCHEMES = ("http", "https")
# ``scheme://…``: a URL, not a path (a Windows drive, ``C:\…``, has no ``//``).
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


class InputTooLarge(ImportFailed):
    """A file, download, item or line is larger than the import_* setting that bounds it."""


def size_text(size: int) -> str:
    """A byte count as people read it: ``256 MiB``, ``1.5 KiB``, ``100 bytes``."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def too_large(name: str, limit: int, setting: str = "import_max_bytes") -> InputTooLarge:
    """The refusal of ``name`` for being larger than ``setting`` (``limit`` bytes) allows."""
    return InputTooLarge(
        f"{name} is larger than {setting} ({size_text(limit)}): refused; "
        f"raise {setting} to import it"
    )


class _CountingReader(io.RawIOBase):
    """A raw stream that counts the bytes read through it, and refuses to go past ``limit``.

    A read error becomes ImportFailed, which the runner reports with the batches already
    committed.
    """

    def __init__(self, inner: BinaryIO, name: str, limit: int) -> None:
        self._inner = inner
        self._name = name
        self.limit = limit
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        # One byte past the limit is enough to know the source is larger.
        room = self.limit + 1 - self.count
        view = memoryview(buffer)[: max(1, min(len(buffer), room))]
        try:
            read = self._inner.readinto(view) or 0  # type: ignore[attr-defined]
        except OSError as error:
            raise ImportFailed(f"cannot read {self._name}: {error.strerror or error}") from None
        self.count += read
        if self.count > self.limit:
            raise too_large(self._name, self.limit)
        return read


@dataclass
class Source:
    """An open input: its name for messages, a buffered binary stream, its size if known,
    and for a download its HTTP headers and the charset they give."""

    name: str
    stream: BinaryIO
    size: int | None
    headers: Mapping[str, str] = field(default_factory=dict)
    charset: str | None = None
    _counter: _CountingReader | None = None

    @property
    def bytes_read(self) -> int:
        """How many bytes the parser has taken so far."""
        return self._counter.count if self._counter else 0

    def bound(self, limit: int) -> None:
        """Read at most ``limit`` bytes of this source: InputTooLarge now if its size is
        known to be larger, else as soon as reading passes it."""
        if self.size is not None and self.size > limit:
            raise too_large(self.name, limit)
        if self._counter is not None:
            self._counter.limit = limit

    @classmethod
    def counting(
        cls,
        name: str,
        raw: BinaryIO,
        size: int | None,
        headers: Mapping[str, str] | None = None,
        *,
        limit: int,
        charset: str | None = None,
    ) -> Source:
        """A Source reading ``raw`` through a byte counter that stops at ``limit`` bytes.

        InputTooLarge at once when the announced ``size`` is already over it.
        """
        counter = _CountingReader(raw, name, limit)
        stream = io.BufferedReader(counter)
        source = cls(name, stream, size, dict(headers or {}), charset, counter)
        source.bound(limit)
        return source


@contextmanager
def open_source(
    location: str, allow_url: bool = False, *, settings: Settings | None = None
) -> Iterator[Source]:
    """Open a path, ``-`` (standard input) or, with ``allow_url``, an http(s) URL.

    ``settings`` give the bounds (import_max_bytes, and for a URL the address policy,
    redirects and deadline); the defaults' when None. ImportFailed says why the source
    cannot be read: FetchFailed (feeds.ingest.fetch) for a URL, InputTooLarge when it is
    larger than import_max_bytes.
    """
    settings = settings or Settings()
    limit = settings.import_max_bytes
    with ExitStack() as stack:
        match = _URL.match(location)
        scheme = match.group(1).lower() if match else ""
        if location == STDIN:
            stdin = sys.stdin.buffer
            yield Source.counting("standard input", stdin, _regular_file_size(stdin), limit=limit)
        elif scheme in URL_SCHEMES and not allow_url:
            raise ImportFailed(f"{location}: only `feeds import feed` reads from a URL")
        elif scheme and allow_url:
            if scheme not in URL_SCHEMES:
                raise ImportFailed(
                    f"cannot read {location}: only http and https URLs can be imported"
                )
            from feeds.ingest.fetch import download

            body = stack.enter_context(download(location, settings))
            yield Source.counting(
                location,
                body,  # type: ignore[arg-type]
                body.declared_length,
                dict(body.headers.items()),
                limit=limit,
                charset=body.headers.get_content_charset(),
            )
        else:
            try:
                raw = stack.enter_context(open(location, "rb", buffering=0))
            except OSError as error:
                raise ImportFailed(f"cannot read {location}: {error.strerror}") from None
            yield Source.counting(location, raw, _regular_file_size(raw), limit=limit)


def _regular_file_size(stream: BinaryIO) -> int | None:
    """The size of a stream that is a regular file (a pipe or terminal has none)."""
    try:
        status = os.fstat(stream.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        return None
    return status.st_size if stat.S_ISREG(status.st_mode) else None
