"""Every error leaves as JSON with a one-line message, never as an HTML page or a 500 trace."""

from __future__ import annotations

import json
import logging

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from feeds.spec import BadPageCursor, FeedNotFound
from feeds.store import StoreUnavailable

log = logging.getLogger(__name__)


STORE_UNAVAILABLE = "the post store is unavailable; try again later"


def error_body(status: int, message: str) -> bytes:
    """The JSON body of every error: ``{"error": message, "status": status}``."""
    return json.dumps({"error": message, "status": status}, ensure_ascii=False).encode() + b"\n"


def error_response(status: int, message: str) -> tuple[Response, int]:
    """A Flask response with the JSON error body."""
    return Response(error_body(status, message), status, mimetype="application/json"), status


def register_error_handlers(app: Flask) -> None:
    """Answer feed lookups, HTTP errors and database outages with JSON."""

    @app.errorhandler(BadPageCursor)
    def bad_cursor(error: BadPageCursor) -> tuple[Response, int]:
        return error_response(400, str(error))

    @app.errorhandler(FeedNotFound)
    def feed_not_found(error: FeedNotFound) -> tuple[Response, int]:
        return error_response(404, str(error))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response, int]:
        response, status = error_response(error.code or 500, error.description or error.name)
        for name, value in error.get_headers():  # keeps Allow on a 405, for example
            if name.lower() != "content-type":
                response.headers[name] = value
        return response, status

    @app.errorhandler(StoreUnavailable)
    def store_unavailable(error: StoreUnavailable) -> tuple[Response, int]:
        log.error("%s", error)
        return error_response(503, STORE_UNAVAILABLE)
