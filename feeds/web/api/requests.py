"""Reading the admin API's requests: the JSON body, the query string, the page size, and
the answers every route shares (201, 204, a write transaction)."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from flask import Response, current_app, request
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge

from feeds.serving.links import SiteLinks
from feeds.settings import Settings
from feeds.store import Store
from feeds.store.cleaning import xml_safe
from feeds.store.validation import InvalidInput
from feeds.web.app_state import app_state
from feeds.web.errors import ErrorAnswer, error_response

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class ApiError(Exception):
    """A request the API refuses: its HTTP status, a one-line message, the field at fault."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


# --- requests --------------------------------------------------------------------------


def json_body() -> dict[str, Any]:
    """The request's JSON object (the write path cleans what XML cannot hold)."""
    if not request.is_json:
        raise ApiError(415, "the body must be JSON, sent as Content-Type: application/json")
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    too_large = ApiError(413, f"the body is larger than {limit} bytes")
    try:
        data = request.get_data()
    except RequestEntityTooLarge:
        raise too_large from None
    # Werkzeug cuts a streamed (chunked) body at the limit without a word, so a streamed
    # body that fills the limit may have been longer.
    if request.content_length is None and len(data) >= limit:
        raise too_large
    try:
        body = json.loads(data)
    except RecursionError:
        raise ApiError(400, "malformed JSON body: nested too deeply") from None
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError
        raise ApiError(400, f"malformed JSON body: {error}") from None
    if not isinstance(body, dict):
        raise InvalidInput("body", "must be a JSON object")
    return body


def string_fields(
    body: Mapping[str, Any], required: tuple[str, ...] = (), optional: tuple[str, ...] = ()
) -> dict[str, str]:
    """The string fields of a small body (a category, an author); null stands for ""."""
    unknown = sorted(set(body) - {*required, *optional})
    if unknown:
        raise InvalidInput(unknown[0], "unknown field")
    for name in required:
        if body.get(name) in (None, ""):
            raise InvalidInput(name, "is required")
    for name, value in body.items():
        if value is not None and not isinstance(value, str):
            raise InvalidInput(name, "must be a string")
    return {name: value or "" for name, value in body.items()}


def query_params(allowed: Collection[str]) -> dict[str, str]:
    """The query string as a dict; 400 for a parameter not in ``allowed`` or given twice."""
    for name in request.args:
        if name not in allowed:
            raise ApiError(400, f"unknown query parameter {name!r}", name)
        if len(request.args.getlist(name)) > 1:
            raise ApiError(400, f"{name} is given more than once", name)
        if xml_safe(request.args[name]) != request.args[name]:
            # No stored value holds one, and PostgreSQL refuses NUL in a parameter.
            raise ApiError(400, f"{name} must not contain control characters", name)
    return request.args.to_dict()


def no_content() -> Response:
    """A 204: no body, so no Content-Type (Flask would say text/html)."""
    answer = Response(status=204)
    del answer.headers["Content-Type"]
    return answer


def created(answer: Response, location: str) -> Response:
    """``answer`` as the 201 of a new resource found at ``location``."""
    answer.status_code = 201
    answer.headers["Location"] = location
    return answer


@contextmanager
def transaction() -> Iterator[Session]:
    """A write transaction: what is written inside is stored whole, or not at all.

    On SQLite it waits its turn behind other writers (Store.writing) instead of failing."""
    with current_store().writing() as session, session.begin():
        yield session


def current_store() -> Store:
    return app_state().store


def current_settings() -> Settings:
    return app_state().settings


def site_links() -> SiteLinks:
    return SiteLinks(current_settings())


def choice(name: str, value: str, choices: list[str]) -> str:
    if value not in choices:
        raise ApiError(400, f"{name} must be one of {', '.join(choices)}", name)
    return value


def page_size(value: str | None) -> int:
    """The page size asked for: 1 to MAX_LIMIT, DEFAULT_LIMIT if not given."""
    if value is None:
        return DEFAULT_LIMIT
    if not (value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_LIMIT):
        raise ApiError(400, f"limit must be a whole number from 1 to {MAX_LIMIT}", "limit")
    return int(value)


def error_answer(status: int, message: str, field: str | None = None) -> Response:
    """The API's JSON error: {"error", "status"}, and "field" when one field is at fault."""
    return error_response(ErrorAnswer(status, message, field))
