"""Operations: liveness, readiness, Prometheus metrics, and one structured log line per request.

The access line keeps secrets out of the log: a query parameter whose name says it holds
one (``token``, ``api_key``, ``password``, ``signature``, ``code``…) or whose value looks
like one (long, letters and digits mixed at random) is written ``name=[redacted]``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from functools import lru_cache
from itertools import pairwise
from json.encoder import encode_basestring_ascii
from typing import Any, NamedTuple
from urllib.parse import unquote_plus

from flask import Blueprint, Flask, Response, g, jsonify, request
from werkzeug.wsgi import get_path_info

from feeds.push.metrics import outbox_exposition
from feeds.push.senders import target_names
from feeds.server.flusher import start_flusher
from feeds.server.line_writer import LineWriter
from feeds.server.metrics import REQUESTS, DeferredCount, exposition
from feeds.store import StoreUnavailable
from feeds.web.app_state import app_state
from feeds.web.errors import RETRY_AFTER

blueprint = Blueprint("ops", __name__)
access_log = logging.getLogger("feeds.access")

REDACTED = "[redacted]"
# A parameter whose name has one of these words (access_token, apiKey, X-Amz-Signature,
# client_secret, code…) holds a secret.
SECRET_WORDS = frozenset(
    {"token", "key", "apikey", "secret", "password", "passwd", "passphrase", "pass", "pwd",
     "auth", "authorization", "credential", "credentials", "signature", "sig", "hmac", "code",
     "otp", "jwt", "session", "sessionid", "sid", "cookie"}
)  # fmt: skip
_NAME_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
# The characters of tokens as they travel in URLs: base64 (url-safe too), hex, JWT.
_TOKEN_ALPHABET = re.compile(r"[A-Za-z0-9_\-.~+/=]{16,}")


@blueprint.get("/healthz")
def healthz() -> Response:
    """Liveness: the process answers. No database access."""
    return jsonify({"status": "alive"})


@blueprint.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Readiness: the database answers and its schema is the one this feeds needs."""
    try:
        app_state().store.check_schema()
    except StoreUnavailable as error:
        answer = jsonify({"status": "unready", "reason": str(error)})
        answer.headers.set(*RETRY_AFTER)
        return answer, 503
    return jsonify({"status": "ready"}), 200


@blueprint.get("/metrics")
def metrics() -> Response:
    """Prometheus metrics, in the text exposition format: this process's (or, under the
    production server, every worker's) counters, and the outbox's figures from the store."""
    state = app_state()
    text = exposition() + outbox_exposition(state.store, target_names(state.settings))
    return Response(text, content_type="text/plain; version=0.0.4; charset=utf-8")


def record_requests(app: Flask, log_each: bool) -> None:
    """Count every request Flask answers, and log each (``log_each``); feed URLs are
    recorded by FeedEndpoint."""
    start_flusher()  # counts (and, in production, access lines) are finished off the hit path

    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _record(response: Response) -> Response:
        record_request(
            request.environ,
            request.url_rule.endpoint if request.url_rule else "unmatched",
            response.status_code,
            response.calculate_content_length(),
            time.perf_counter() - g.get("started", time.perf_counter()),
            log_line=log_each,
        )
        return response


class AccessRecord(NamedTuple):
    """What the access line of one request says, as the request left it."""

    method: str | None
    path: str
    query: str
    route: str
    status: int
    body_bytes: int | None
    seconds: float
    cache: str | None
    remote: str | None
    agent: str | None = None  # the User-Agent: aggregators say who (and how many) they are


def record_request(
    environ: dict[str, Any],
    route: str,
    status: int,
    body_bytes: int | None,
    seconds: float,
    cache: str | None = None,
    *,
    log_line: bool,
) -> None:
    """Count a request by route and status, and (``log_line``) log it as one JSON line."""
    _requests_counter(route, status).inc()
    if log_line:
        record = AccessRecord(
            environ.get("REQUEST_METHOD"),
            get_path_info(environ),
            environ.get("QUERY_STRING", ""),
            route,
            status,
            body_bytes,
            seconds,
            cache,
            environ.get("REMOTE_ADDR"),
            environ.get("HTTP_USER_AGENT"),
        )
        _access_lines.write(record)


def access_line(record: AccessRecord) -> str:
    """The JSON access line of a request, secrets in its query string redacted.

    The very text ``json.dumps`` makes of these fields, written out field by field: four
    times as fast, and every line of a busy server is one."""
    path = record.path + (f"?{redacted(record.query)}" if record.query else "")
    body_bytes = "null" if record.body_bytes is None else int(record.body_bytes)
    return (
        f'{{"method": {_json_string(record.method)}, "path": {_json_string(path)}, '
        f'"route": {_json_string(record.route)}, "status": {int(record.status)}, '
        f'"bytes": {body_bytes}, "ms": {round(record.seconds * 1000, 3)!r}, '
        f'"cache": {_json_string(record.cache)}, "remote": {_json_string(record.remote)}, '
        f'"agent": {_json_string(record.agent)}}}'
    )


def _json_string(text: str | None) -> str:
    return "null" if text is None else encode_basestring_ascii(text)


class AccessLines:
    """Where access lines go: the feeds.access logger (INFO), or, once ``write_to`` is
    called, straight to a file descriptor from the flusher thread, past ``logging``."""

    def __init__(self) -> None:
        self.write: Callable[[AccessRecord], None] = self._log

    def write_to(self, fd: int) -> None:
        """Write this process's access lines to ``fd`` from now on (feeds.server.line_writer)."""
        self.write = LineWriter(fd, access_line).put

    @staticmethod
    def _log(record: AccessRecord) -> None:
        if access_log.isEnabledFor(logging.INFO):
            access_log.info(access_line(record))


_access_lines = AccessLines()
write_access_lines_to = _access_lines.write_to


@lru_cache(maxsize=1024)
def _requests_counter(route: str, status: int) -> DeferredCount:
    # prometheus_client looks labels up with a lock on every .labels(); the children are
    # fixed objects, so each is looked up once.
    return DeferredCount(REQUESTS.labels(route, str(status)))


def redacted(query: str) -> str:
    """``query`` with the value of every parameter that holds a secret, or looks like one,
    replaced by [redacted]; the names stay, so the line still says what was sent."""
    pairs = query.split("&")
    for index, pair in enumerate(pairs):
        name, equals, value = pair.partition("=")
        if not equals:  # a bare value: ?<token>
            name, value = "", name
        if value and (_names_a_secret(unquote_plus(name)) or _looks_random(unquote_plus(value))):
            pairs[index] = f"{name}{equals}{REDACTED}"
    return "&".join(pairs)


def _names_a_secret(name: str) -> bool:
    return any(word.lower() in SECRET_WORDS for word in _NAME_WORD.findall(name))


def _looks_random(value: str) -> bool:
    """Whether ``value`` looks like a random token: 16 or more characters of the token
    alphabet, with letters and digits, switching between digit, lower and upper case in at
    least a quarter of its places, as random strings do (a hex or base64 token about half
    of them) and words, dates and numbers do not."""
    if not _TOKEN_ALPHABET.fullmatch(value):
        return False
    kinds = [2 if c.isdigit() else 1 if c.isupper() else 0 for c in value if c.isalnum()]
    if 2 not in kinds or min(kinds) == 2:
        return False
    changes = sum(a != b for a, b in pairwise(kinds))
    return changes * 4 >= len(kinds) - 1
