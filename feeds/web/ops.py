"""Operations: liveness, readiness, Prometheus metrics, and one structured log line per request."""

from __future__ import annotations

import json
import logging
import time
from functools import lru_cache
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from prometheus_client import Counter
from werkzeug.wsgi import get_path_info

from feeds.metrics import REQUESTS, exposition
from feeds.store import StoreUnavailable

blueprint = Blueprint("ops", __name__)
access_log = logging.getLogger("feeds.access")


@blueprint.get("/healthz")
def healthz() -> Response:
    """Liveness: the process answers. No database access."""
    return jsonify({"status": "alive"})


@blueprint.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Readiness: the database answers and its schema is the one this feeds needs."""
    try:
        current_app.extensions["feeds.store"].check_schema()
    except StoreUnavailable as error:
        return jsonify({"status": "unready", "reason": str(error)}), 503
    return jsonify({"status": "ready"}), 200


@blueprint.get("/metrics")
def metrics() -> Response:
    """Prometheus metrics, in the text exposition format."""
    return Response(exposition(), content_type="text/plain; version=0.0.4; charset=utf-8")


def record_requests(app: Flask, log_each: bool) -> None:
    """Count every request Flask answers, and log each (``log_each``); feed URLs are
    recorded by FeedEndpoint."""

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
    """Count a request by route and status, and (``log_line``) log it as one JSON line on
    feeds.access."""
    _requests_counter(route, status).inc()
    if log_line and access_log.isEnabledFor(logging.INFO):
        query = environ.get("QUERY_STRING")
        access_log.info(
            json.dumps(
                {
                    "method": environ.get("REQUEST_METHOD"),
                    "path": get_path_info(environ) + (f"?{query}" if query else ""),
                    "route": route,
                    "status": status,
                    "bytes": body_bytes,
                    "ms": round(seconds * 1000, 3),
                    "cache": cache,
                    "remote": environ.get("REMOTE_ADDR"),
                }
            )
        )


@lru_cache(maxsize=1024)
def _requests_counter(route: str, status: int) -> Counter:
    # prometheus_client looks labels up with a lock on every .labels(); the children are
    # fixed objects, so each is looked up once.
    return REQUESTS.labels(route, str(status))
