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

import logging
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from werkzeug.wsgi import get_path_info

from feeds.metrics import FEED_ROUTE
from feeds.service import FeedService
from feeds.spec import BadPageCursor, FeedNotFound, FeedSpec
from feeds.store import StoreUnavailable
from feeds.web.errors import STORE_UNAVAILABLE, error_body
from feeds.web.http import Answer, representation_answer
from feeds.web.ops import record_request

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

ALLOWED_METHODS = "GET, HEAD, OPTIONS"
log = logging.getLogger(__name__)


class FeedEndpoint:
    """WSGI middleware: answers the feed URLs of feeds.spec, hands every other URL to ``app``."""

    def __init__(self, service: FeedService, app: WSGIApp) -> None:
        self.service = service
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        started = time.perf_counter()
        try:
            spec = FeedSpec.from_url(
                self.service.settings, get_path_info(environ), environ.get("QUERY_STRING", "")
            )
        except FeedNotFound as error:  # an unknown format or language
            return self._send(environ, start_response, started, _error(404, str(error)))
        except BadPageCursor as error:
            return self._send(environ, start_response, started, _error(400, str(error)))
        if spec is None:
            return self.app(environ, start_response)
        try:
            answer, cache = self._answer(environ, spec)
        except FeedNotFound as error:  # an unknown category
            answer, cache = _error(404, str(error)), None
        except StoreUnavailable as error:
            log.error("%s", error)
            answer, cache = _error(503, STORE_UNAVAILABLE, ("Retry-After", "30")), None
        except Exception:  # a bug: logged with its trace, answered like Flask's errors
            log.exception("feed request %s failed", environ.get("PATH_INFO"))
            answer, cache = _error(500, "internal error"), None
        return self._send(environ, start_response, started, answer, cache)

    def _answer(self, environ: dict[str, Any], spec: FeedSpec) -> tuple[Answer, str | None]:
        """The answer to a request for ``spec``, and whether the cache had it (hit, miss)."""
        method = environ["REQUEST_METHOD"]
        if method == "OPTIONS":
            return (200, [("Allow", ALLOWED_METHODS), ("Content-Length", "0")], b""), None
        if method not in ("GET", "HEAD"):
            message = f"{method} is not allowed on a feed"
            return _error(405, message, ("Allow", ALLOWED_METHODS)), None
        representation, hit = self.service.representation(spec)
        answer = representation_answer(
            environ, representation, spec.format.media_type, self.service.settings.cache_max_age
        )
        return answer, "hit" if hit else "miss"

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


def _error(status: int, message: str, *extra_headers: tuple[str, str]) -> Answer:
    body = error_body(status, message)
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    return status, [*headers, *extra_headers], body
