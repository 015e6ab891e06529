"""The feed URLs, answered by a plain WSGI layer in front of Flask.

Almost every request a feed service gets is a poll of a feed whose bytes are already in
memory. Flask's request and response machinery costs about as much as the rest of such an
answer (bench/hit_phases.py), so feed URLs are answered here, from the environ, with no
request object built:

    PATH_INFO + QUERY_STRING → FeedSpec
        → FeedService.representation (cached bytes, or query + render)
        → 200 / 304 with the representation's own headers

Every other URL (the API, /feeds.json, operations, WordPress redirects) goes to Flask.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from werkzeug.wsgi import get_path_info

from feeds.server.metrics import FEED_ROUTE
from feeds.serving.service import FeedService
from feeds.serving.spec import FeedSpec
from feeds.web.errors import ErrorAnswer, error_answer, error_for
from feeds.web.http import Answer, feed_cache_control, representation_answer
from feeds.web.ops import record_request

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

ALLOWED_METHODS = "GET, HEAD, OPTIONS"


class FeedEndpoint:
    """WSGI middleware: answers the feed URLs of feeds.serving.spec, hands every other URL
    to ``app``."""

    def __init__(self, service: FeedService, app: WSGIApp) -> None:
        self.service = service
        self.app = app
        self.cache_control = feed_cache_control(service.settings)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        started = time.perf_counter()
        path = get_path_info(environ)
        try:
            spec = FeedSpec.from_url(self.service.settings, path, environ.get("QUERY_STRING", ""))
        except Exception as error:  # an unknown format or language, a bad cursor
            refusal = error_answer(error_for(error, path))
            return self._send(environ, start_response, started, refusal)
        if spec is None:
            return self.app(environ, start_response)
        try:
            answer, cache = self._answer(environ, spec)
        except Exception as error:  # an unknown category, the store down, a bug
            answer, cache = error_answer(error_for(error, path)), None
        return self._send(environ, start_response, started, answer, cache)

    def _answer(self, environ: dict[str, Any], spec: FeedSpec) -> tuple[Answer, str | None]:
        """The answer to a request for ``spec``, and how the cache had it (hit, miss, stale)."""
        method = environ["REQUEST_METHOD"]
        if method == "OPTIONS":
            return (200, [("Allow", ALLOWED_METHODS), ("Content-Length", "0")], b""), None
        if method not in ("GET", "HEAD"):
            message = f"{method} is not allowed on a feed"
            allow = (("Allow", ALLOWED_METHODS),)
            return error_answer(ErrorAnswer(405, message, headers=allow)), None
        served = self.service.representation(spec)
        answer = representation_answer(
            environ,
            served.representation,
            spec.format.media_type,
            self.cache_control,
            served.stale_seconds,
        )
        return answer, served.cache

    def _send(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        started: float,
        answer: Answer,
        cache: str | None = None,
    ) -> Iterable[bytes]:
        """Start the response (no body for HEAD), and count and log it."""
        status, headers, body = answer
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        if environ["REQUEST_METHOD"] == "HEAD":
            body = b""
        elapsed = time.perf_counter() - started
        log_line = self.service.settings.access_log
        record_request(environ, FEED_ROUTE, status, len(body), elapsed, cache, log_line=log_line)
        return [body]
