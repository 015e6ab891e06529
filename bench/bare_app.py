"""A bare WSGI callable handing out bytes already in memory: the ceiling of a Python server.

    FEEDS_BENCH_BARE_BODY=/tmp/feed.atom gunicorn --pythonpath bench 'bare_app:create_app()'

Every request gets the same feed (read once from a file): 200 with the body, its gzip form
(compressed once at start) for ``Accept-Encoding: gzip``, or 304 when If-None-Match holds
the ETag. No framework, no routing, no header parsing beyond those two.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MEDIA_TYPE = "application/atom+xml; charset=utf-8"
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True)
class Answer:
    """One encoding of the feed: its body, ETag, and the headers of its 200 and 304."""

    body: bytes
    etag: str
    headers: list[tuple[str, str]]
    not_modified_headers: list[tuple[str, str]]

    @classmethod
    def of(cls, body: bytes, etag: str, encoding: str | None) -> Answer:
        """The answer for ``body`` sent with ``encoding`` (None: identity)."""
        common = [("ETag", etag), ("Vary", "Accept-Encoding")]
        headers = [*common, ("Content-Type", MEDIA_TYPE), ("Content-Length", str(len(body)))]
        if encoding:
            headers.append(("Content-Encoding", encoding))
        return cls(body, etag, headers, common)


def create_app(body_path: str | None = None) -> WSGIApp:
    """The callable serving the file ``body_path`` (default: $FEEDS_BENCH_BARE_BODY)."""
    body = Path(body_path or os.environ["FEEDS_BENCH_BARE_BODY"]).read_bytes()
    tag = hashlib.blake2b(body, digest_size=12).hexdigest()
    identity = Answer.of(body, f'"{tag}"', None)
    gzipped = Answer.of(gzip.compress(body, 9, mtime=0), f'"{tag}-gzip"', "gzip")

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        answer = gzipped if "gzip" in environ.get("HTTP_ACCEPT_ENCODING", "") else identity
        if environ.get("HTTP_IF_NONE_MATCH") == answer.etag:
            start_response("304 Not Modified", answer.not_modified_headers)
            return []
        start_response("200 OK", answer.headers)
        return [answer.body]

    return app
