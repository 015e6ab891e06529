"""Log lines written straight to a file descriptor, in batches, by the flusher thread.

A request thread only appends its record to a deque; formatting the line and the write
happen in feeds.server.flusher's thread, many lines a write. Lines stay whole and in order:
one thread writes at a time, and each write holds whole lines and at most PIPE_BUF bytes
when it can, so that on a pipe shared with other processes (a server's stderr) no line is
cut by another's. Should the writes fall behind (a stalled reader), a request thread that
finds MAX_PENDING records queued writes them itself, so the queue stays bounded and the
requests wait, as they would for ``logging``.
"""

from __future__ import annotations

import os
import select
import threading
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

from feeds.server.flusher import on_flush, start_flusher

Record = TypeVar("Record")
MAX_PENDING = 10_000
PIPE_BUF = select.PIPE_BUF


class LineWriter(Generic[Record]):
    """Records queued by request threads, written as lines of ``format_line`` to ``fd``."""

    def __init__(self, fd: int, format_line: Callable[[Record], str]) -> None:
        self.fd = fd
        self.format_line = format_line
        self.pending: deque[Record] = deque()
        self._writing = threading.Lock()
        on_flush(self.flush)
        start_flusher()

    def put(self, record: Record) -> None:
        """Queue one record; it is written within feeds.server.flusher.FLUSH_SECONDS."""
        self.pending.append(record)
        if len(self.pending) > MAX_PENDING:
            self.flush()

    def flush(self) -> None:
        """Write every queued record, in order."""
        with self._writing:
            chunk: list[bytes] = []
            size = 0
            while self.pending:
                line = (self.format_line(self.pending.popleft()) + "\n").encode()
                if chunk and size + len(line) > PIPE_BUF:
                    self._write(b"".join(chunk))
                    chunk, size = [], 0
                chunk.append(line)
                size += len(line)
            if chunk:
                self._write(b"".join(chunk))

    def _write(self, data: bytes) -> None:
        try:
            while data:
                data = data[os.write(self.fd, data) :]
        except OSError:  # the descriptor is gone (a closed stderr): nowhere left to write
            pass
