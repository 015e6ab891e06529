"""A real HTTP server on 127.0.0.1 that stands in for a WebSub hub or a cache's purge
endpoint: it records every request it gets, and answers as told (204, 503 + Retry-After,
or not at all until released)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl


@dataclass(frozen=True)
class Received:
    """One request the server got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def form(self) -> list[tuple[str, str]]:
        """The body as form fields, in order."""
        return parse_qsl(self.body.decode("ascii"), keep_blank_values=True)

    def published_urls(self) -> list[str]:
        """The feed URLs of a WebSub publish request (hub.url or hub.topic)."""
        return [value for name, value in self.form() if name in ("hub.url", "hub.topic")]


@dataclass
class Recorder:
    """What the server got, and how it answers next: ``status`` (204), with ``retry_after``
    if set; ``hang`` holds every answer until it is cleared."""

    status: int = 204
    retry_after: str | None = None
    hang: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    received: list[Received] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)
    url: str = ""

    def urls(self) -> list[str]:
        """Every feed URL published so far, in order (repeats kept)."""
        return [url for request in list(self.received) for url in request.published_urls()]

    def wait_for(self, count: int, seconds: float = 10) -> list[Received]:
        """Wait until ``count`` requests arrived (AssertionError after ``seconds``)."""
        deadline = time.monotonic() + seconds
        with self.arrived:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.received)} requests, not {count}")
                self.arrived.wait(left)
        return list(self.received)


def _handler(recorder: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            request = Received(
                self.command, self.path, dict(self.headers.items()), body, time.monotonic()
            )
            with recorder.arrived:
                recorder.received.append(request)
                recorder.arrived.notify_all()
            if recorder.hang.is_set():
                recorder.release.wait(60)
            self.send_response(recorder.status)
            if recorder.retry_after is not None:
                self.send_header("Retry-After", recorder.retry_after)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_PURGE = do_GET = do_PUT = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def hub_server() -> Iterator[Recorder]:
    """A recording server on 127.0.0.1, on a free port, stopped on exit."""
    recorder = Recorder()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(recorder))
    server.daemon_threads = True
    recorder.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        recorder.release.set()
        server.shutdown()
        server.server_close()
