"""Operations: liveness, readiness, Prometheus metrics, and one structured log line per request."""

from __future__ import annotations

import json
import logging
import time

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request

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


def record_requests(app: Flask) -> None:
    """Count every request by route and status, and log it as one JSON line."""

    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _record(response: Response) -> Response:
        route = request.url_rule.endpoint if request.url_rule else "unmatched"
        REQUESTS.labels(route, str(response.status_code)).inc()
        if access_log.isEnabledFor(logging.INFO):
            elapsed = time.perf_counter() - g.get("started", time.perf_counter())
            access_log.info(
                json.dumps(
                    {
                        "method": request.method,
                        "path": request.full_path.rstrip("?"),
                        "route": route,
                        "status": response.status_code,
                        "bytes": response.calculate_content_length(),
                        "ms": round(elapsed * 1000, 3),
                        "cache": g.get("cache"),
                        "remote": request.remote_addr,
                    },
                    ensure_ascii=False,
                )
            )
        return response
