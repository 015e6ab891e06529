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
from functools import lru_cache
from http import HTTPStatus
from typing import Any

from werkzeug.wsgi import get_path_info

from feeds.server.metrics import FEED_ROUTE
from feeds.serving.service import FeedService
from feeds.serving.spec import FeedFormat, FeedSpec
from feeds.subscribers.tally import PollTally
from feeds.web.errors import ErrorAnswer, error_answer, error_for
from feeds.web.http import (
    NAVIGATION_ENVIRON,
    PAGE_POLICY,
    Answer,
    feed_cache_control,
    immutable_cache_control,
    page_for_people_headers,
    representation_answer,
)
from feeds.web.ops import record_request

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

ALLOWED_METHODS = "GET, HEAD, OPTIONS"
# FeedSpecs of recent URLs; a longer URL is parsed each time, so the memo stays small
# (at most about URL_MEMO_SIZE × URL_MEMO_KEY_CHARS characters of keys).
URL_MEMO_SIZE = 4096
URL_MEMO_KEY_CHARS = 512


class FeedEndpoint:
    """WSGI middleware: answers the feed URLs of feeds.serving.spec, hands every other URL
    to ``app``, and tallies who polls the feeds (``tally``)."""

    def __init__(self, service: FeedService, app: WSGIApp, tally: PollTally) -> None:
        self.service = service
        self.app = app
        self.tally = tally
        settings = service.settings
        self.browser_pages = settings.browser_pages
        # The caching headers of each (format, sealed archive): made once, looked up per answer
        self.caching = {
            (fmt, immutable): (
                *(immutable_cache_control(settings) if immutable else feed_cache_control(settings)),
                *(() if fmt.syndication else PAGE_POLICY),
            )
            for fmt in FeedFormat
            for immutable in (True, False)
        }
        self.page_for_people = page_for_people_headers(settings)
        self._memoised_url = lru_cache(maxsize=URL_MEMO_SIZE)(self._parse_url)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        started = time.perf_counter()
        try:
            path, spec = self._url(environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""))
        except Exception as error:  # an unknown format or language, a bad cursor
            refusal = error_answer(error_for(error, get_path_info(environ)))
            return self._send(environ, start_response, started, refusal)
        if spec is None:
            return self.app(environ, start_response)
        try:
            answer, cache = self._answer(environ, spec)
        except Exception as error:  # an unknown category, the store down, a bug
            answer, cache = error_answer(error_for(error, path)), None
        return self._send(environ, start_response, started, answer, cache)

    def _url(self, raw_path: str, query: str) -> tuple[str, FeedSpec | None]:
        """The path (decoded) and the FeedSpec of a URL, None outside the feed URL scheme;
        memoised, as pollers ask for the same few URLs again and again."""
        if len(raw_path) + len(query) > URL_MEMO_KEY_CHARS:
            return self._parse_url(raw_path, query)
        return self._memoised_url(raw_path, query)

    def _parse_url(self, raw_path: str, query: str) -> tuple[str, FeedSpec | None]:
        path = get_path_info({"PATH_INFO": raw_path})
        return path, FeedSpec.from_url(self.service.settings, path, query)

    def _answer(self, environ: dict[str, Any], spec: FeedSpec) -> tuple[Answer, str | None]:
        """The answer to a request for ``spec``, and how the cache had it (hit, miss, stale)."""
        method = environ["REQUEST_METHOD"]
        if method == "OPTIONS":
            return (200, [("Allow", ALLOWED_METHODS), ("Content-Length", "0")], b""), None
        if method not in ("GET", "HEAD"):
            message = f"{method} is not allowed on a feed"
            allow = (("Allow", ALLOWED_METHODS),)
            return error_answer(ErrorAnswer(405, message, headers=allow)), None
        # A person's browser opening the feed's URL gets the feed's page, which no cache keeps.
        navigation = environ.get(NAVIGATION_ENVIRON) == "document"
        for_people = navigation and self.browser_pages and spec.format.syndication
        shown = spec.as_format(FeedFormat.HTML) if for_people else spec
        served = self.service.representation(shown)
        representation = served.representation
        answer = representation_answer(
            environ,
            representation,
            shown.format.media_type,
            self.page_for_people
            if for_people
            else self.caching[shown.format, representation.immutable],
            served.stale_seconds,
        )
        if not for_people:
            self.tally.saw(environ)
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
