"""Every error leaves as JSON with a one-line message, never as an HTML page or a 500 trace."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from feeds.spec import BadPageCursor, FeedNotFound
from feeds.store import StoreUnavailable

log = logging.getLogger(__name__)


def error_response(status: int, message: str) -> tuple[Response, int]:
    """A JSON error body: ``{"error": message, "status": status}``."""
    return jsonify({"error": message, "status": status}), status


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
        return error_response(503, "the post store is unavailable; try again later")
