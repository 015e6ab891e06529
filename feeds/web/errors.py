"""Every error leaves as JSON in one shape, decided in one table, never as an HTML page.

``error_for`` is the table: from an exception to its status, one-line message and headers.
Flask's routes (through ``register_error_handlers``) and the feed endpoint (a WSGI layer in
front of Flask) both answer through it, so a feed, the feeds page, the index and the admin
API say the same thing about the same failure:

    {"error": "<one line>", "status": 503}             (+ "field" when one field is at fault)

A database that cannot be reached is a 503 with ``Retry-After`` on every route; anything
the table does not know is a bug: logged with its trace, answered 500.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from flask import Flask, Response, request
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from feeds.serving.links import as_uri
from feeds.serving.spec import BadCombination, BadPageCursor, FeedMoved, FeedNotFound
from feeds.store import StoreUnavailable
from feeds.store.validation import Conflict, InvalidInput
from feeds.web.http import NOSNIFF, Answer

log = logging.getLogger(__name__)

STORE_UNAVAILABLE = "the post store is unavailable; try again later"
INTERNAL_ERROR = "internal error"
LOST_A_RACE = "another change to the same post or name came first; send it again"
# How long a client should wait after a 503 before asking again. The service itself retries
# the database every fraction of a second (RevisionBoard), so this only paces the clients.
RETRY_AFTER_SECONDS = 30
RETRY_AFTER = ("Retry-After", str(RETRY_AFTER_SECONDS))


@dataclass(frozen=True, slots=True)
class ErrorAnswer:
    """How an error is answered: status, one-line message, the field at fault, headers."""

    status: int
    message: str
    field: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


def error_for(error: BaseException, where: str = "") -> ErrorAnswer:
    """The answer to ``error`` raised while answering ``where`` (a path, for the log).

    Failures of the store and bugs are logged here, once: a bug with its trace."""
    if isinstance(error, BadPageCursor):
        return ErrorAnswer(400, str(error), error.field)
    if isinstance(error, BadCombination):
        return ErrorAnswer(400, str(error), "category")
    if isinstance(error, FeedMoved):  # the one URL of a feed: caches and hubs see only it
        return ErrorAnswer(301, str(error), headers=(("Location", as_uri(error.spec.path)),))
    if isinstance(error, FeedNotFound):
        return ErrorAnswer(404, str(error))
    if isinstance(error, InvalidInput):
        return ErrorAnswer(409 if isinstance(error, Conflict) else 422, str(error), error.field)
    if isinstance(error, IntegrityError):  # a unique key taken between our check and commit
        log.warning("a write lost a race on %s: %s", where, error.orig)
        return ErrorAnswer(409, LOST_A_RACE)
    # StoreUnavailable: the database cannot be reached (the store translates the driver's
    # connection failures). OperationalError and InterfaceError: the driver's other
    # failures of the moment (a lock or statement timeout, an I/O error).
    if isinstance(error, StoreUnavailable | OperationalError | InterfaceError):
        log.error("%s: %s", where, _first_line(error))
        return ErrorAnswer(503, STORE_UNAVAILABLE, headers=(RETRY_AFTER,))
    if isinstance(error, HTTPException) and error.code is not None:
        # werkzeug's own answers: 404, 405 (keeping its Allow header), 413…
        if error.code >= 500:
            cause = getattr(error, "original_exception", None) or error
            log.error("error answering %s", where or "a request", exc_info=cause)
        headers = tuple(
            (name, value)
            for name, value in error.get_headers()
            if name.lower() not in ("content-type", "content-length")
        )
        message = INTERNAL_ERROR if error.code == 500 else error.description or error.name
        return ErrorAnswer(error.code, message, headers=headers)
    log.error("unexpected error answering %s", where or "a request", exc_info=error)
    return ErrorAnswer(500, INTERNAL_ERROR)


def error_body(status: int, message: str, field: str | None = None) -> bytes:
    """The JSON body of every error: ``{"error": message, "status": status}``, and
    ``"field"`` when one field is at fault. The message is made one line."""
    body: dict[str, object] = {"error": " ".join(message.split()), "status": status}
    if field is not None:
        body["field"] = field
    # backslashreplace keeps a lone surrogate echoed from the request valid JSON: \ud800.
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", "backslashreplace") + b"\n"


def error_answer(answer: ErrorAnswer) -> Answer:
    """``answer`` as a WSGI answer (status, headers, body), for the feed endpoint."""
    body = error_body(answer.status, answer.message, answer.field)
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        NOSNIFF,
        *answer.headers,
    ]
    return answer.status, headers, body


def error_response(answer: ErrorAnswer) -> Response:
    """``answer`` as a Flask response."""
    status, headers, body = error_answer(answer)
    return Response(body, status, headers=[h for h in headers if h[0] != "Content-Length"])


def register_error_handlers(app: Flask) -> None:
    """Answer every exception a route raises through ``error_for``."""

    @app.errorhandler(Exception)
    def answer_error(error: Exception) -> Response:
        return error_response(error_for(error, request.path))


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error) or type(error).__name__
    return text.splitlines()[0]
