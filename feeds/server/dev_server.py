"""Flask's own server for `feeds serve` (not --production), answering its own errors as
JSON: werkzeug's request handler answers what never reaches the app (a request line too
long, a malformed request) with Python's HTML error page."""

from __future__ import annotations

from http import HTTPStatus

from werkzeug.serving import WSGIRequestHandler

from feeds.web.errors import error_body


class JsonErrorRequestHandler(WSGIRequestHandler):
    """werkzeug's handler, with the JSON error body of every other answer of feeds."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Answer ``code`` before the request reached the app (414, 400…), as JSON."""
        phrase = HTTPStatus(code).phrase if code in HTTPStatus._value2member_map_ else ""
        body = error_body(code, message or phrase or "error")
        self.send_response(code, message)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(body)
