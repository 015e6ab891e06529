"""The admin JSON API: create, change and delete posts, categories and authors.

Every request needs ``Authorization: Bearer <admin_token>``; without an admin token in the
settings the API is disabled and every /api URL answers 404. Every request that writes is
one transaction through ``feeds.store.writes``, so a change is stored whole or not at all.
Every error is JSON: ``{"error": "<one line>", "status": N, "field": "<name>"}``, with
``field`` only when one field is at fault.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from flask.blueprints import BlueprintSetupState
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge

from feeds.serving.links import SiteLinks
from feeds.settings import Settings
from feeds.store import Store
from feeds.store.cleaning import xml_safe
from feeds.store.models import Author, Category, Post, PostStatus, Tag, post_categories
from feeds.store.post_json import merged_with, post_from_json, post_to_json
from feeds.store.queries import post_query
from feeds.store.validation import InvalidInput
from feeds.store.writes import (
    WriteOutcome,
    create_author,
    create_category,
    create_post,
    delete_category,
    delete_post,
    rename_category,
    update_author,
    update_post,
    upsert_post,
)
from feeds.web.app_state import app_state
from feeds.web.auth import AuthRefused, check_bearer
from feeds.web.errors import ErrorAnswer, error_response

blueprint = Blueprint("api", __name__, url_prefix="/api")
log = logging.getLogger(__name__)

DISABLED = "admin API disabled: set FEEDS_ADMIN_TOKEN or FEEDS_ADMIN_TOKEN_FILE"
# The header that says what a write did to the post: created, updated or unchanged.
OUTCOME_HEADER = "Feeds-Outcome"
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# Larger ids cannot be database integers; looking them up would fail instead of finding none.
MAX_ID = 2**63 - 1


class ApiError(Exception):
    """A request the API refuses: its HTTP status, a one-line message, the field at fault."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


# --- access ----------------------------------------------------------------------------


@blueprint.record
def _warn_when_disabled(state: BlueprintSetupState) -> None:
    """Say once, when the app is created, that the API answers nothing without a token."""
    if not app_state(state.app).settings.admin_token:
        log.warning(DISABLED)


# An app-wide hook, because a blueprint's own hooks do not run for URLs that match none of
# its routes: /api/nonsense and a wrong method must be refused for want of a token too.
@blueprint.before_app_request
def _authorize() -> Response | None:
    """Refuse an /api request that lacks the admin token (401), has a wrong one (403), or
    comes from a client that failed too often (429)."""
    prefix = blueprint.url_prefix or ""
    if request.path != prefix and not request.path.startswith(prefix + "/"):
        return None
    expected = _settings().admin_token
    if not expected:
        return error_answer(404, DISABLED)
    try:
        check_bearer(
            request.headers.get("Authorization", ""),
            expected,
            request.remote_addr or "",
            app_state().auth_failures,
        )
    except AuthRefused as refusal:
        answer = error_answer(refusal.status, refusal.message)
        if refusal.status == 401:
            answer.headers["WWW-Authenticate"] = "Bearer"
        if refusal.retry_after is not None:
            answer.headers["Retry-After"] = str(refusal.retry_after)
        return answer
    return None


# --- posts -----------------------------------------------------------------------------


@blueprint.get("/posts")
def list_posts() -> Response:
    """A page of posts, newest id first, with the cursor of the next page (or null)."""
    params = _query_params({*_POST_FILTERS, "limit", "cursor"})
    limit = _limit(params.get("limit"))
    statement = post_query().where(*_post_conditions(params)).order_by(Post.id.desc())
    if "cursor" in params:
        statement = statement.where(Post.id < _id_from_cursor(params["cursor"]))
    with _store().session() as session:
        # One row more than asked says whether there is a next page.
        posts = session.scalars(statement.limit(limit + 1)).all()
        page = [post_to_json(post, _links()) for post in posts[:limit]]
    cursor = _cursor_after(posts[limit - 1].id) if len(posts) > limit else None
    return jsonify({"posts": page, "next_cursor": cursor})


@blueprint.post("/posts")
def add_post() -> Response:
    """Create a post: 201 with its JSON and its URL in Location."""
    data = post_from_json(_json_body())
    with _transaction() as session:
        post = create_post(session, _settings(), data)
        return _post_answer(post, WriteOutcome.CREATED)


@blueprint.get("/posts/<int:post_id>")
def get_post(post_id: int) -> Response:
    """One post."""
    with _store().session() as session:
        return jsonify(post_to_json(_post_or_404(session, post_id), _links()))


@blueprint.put("/posts/<int:post_id>")
def replace_post(post_id: int) -> Response:
    """Replace a post by the whole post in the body; a field left out takes its default."""
    return _change_post(post_id, lambda _post, body: body)


@blueprint.patch("/posts/<int:post_id>")
def patch_post(post_id: int) -> Response:
    """Change only the fields the body names."""
    return _change_post(post_id, lambda post, body: merged_with(post, _links(), body))


@blueprint.delete("/posts/<int:post_id>")
def remove_post(post_id: int) -> Response:
    """Delete a post; its feeds announce the deletion for a while (tombstones)."""
    with _transaction() as session:
        delete_post(session, _settings(), _post_or_404(session, post_id))
    return _no_content()


@blueprint.put("/posts/external/<path:external_id>")
def upsert(external_id: str) -> Response:
    """Create or update the post with this external id: what a CMS sends on every save."""
    body = _json_body()
    external_id = external_id.strip()
    if not external_id:
        raise InvalidInput("external_id", "must not be empty")
    if body.get("external_id") not in (None, external_id):
        raise InvalidInput("external_id", "differs from the external id in the URL")
    data = post_from_json({**body, "external_id": external_id})
    with _transaction() as session:
        post, outcome = upsert_post(session, _settings(), data)
        return _post_answer(post, outcome)


def _change_post(
    post_id: int, document: Callable[[Post, dict[str, Any]], Mapping[str, Any]]
) -> Response:
    """Update a post to ``document(post, body)``; the answer says whether anything changed."""
    body = _json_body()
    with _transaction() as session:
        post = _post_or_404(session, post_id)
        changed = update_post(session, _settings(), post, post_from_json(document(post, body)))
        return _post_answer(post, WriteOutcome.UPDATED if changed else WriteOutcome.UNCHANGED)


def _post_answer(post: Post, outcome: WriteOutcome) -> Response:
    """The post's JSON, with the outcome in its header; a created post answers 201."""
    answer = jsonify(post_to_json(post, _links()))
    answer.headers[OUTCOME_HEADER] = outcome.value
    if outcome is WriteOutcome.CREATED:
        return _created(answer, url_for("api.get_post", post_id=post.id))
    return answer


def _post_or_404(session: Session, post_id: int) -> Post:
    """The post with this id, loaded with its relations, or 404."""
    post = None
    if post_id <= MAX_ID:
        post = session.scalar(post_query().where(Post.id == post_id))
    if post is None:
        raise ApiError(404, f"no post with id {post_id}")
    return post


# --- listing posts ---------------------------------------------------------------------


def _status_condition(value: str) -> ColumnElement[bool]:
    return Post.status == _choice("status", value, [status.value for status in PostStatus])


def _language_condition(value: str) -> ColumnElement[bool]:
    return Post.language == _choice("language", value, list(_settings().languages))


_POST_FILTERS: dict[str, Callable[[str], ColumnElement[bool]]] = {
    "status": _status_condition,
    "language": _language_condition,
    "category": lambda slug: Post.categories.any(Category.slug == slug),
    "tag": lambda slug: Post.tags.any(Tag.slug == slug),
    "author": lambda name: Post.authors.any(Author.name == name),
    "external_id": lambda external_id: Post.external_id == external_id,
}


def _post_conditions(params: Mapping[str, str]) -> list[ColumnElement[bool]]:
    """The WHERE conditions of the filters given in the query string."""
    return [condition(params[name]) for name, condition in _POST_FILTERS.items() if name in params]


def _choice(name: str, value: str, choices: list[str]) -> str:
    if value not in choices:
        raise ApiError(400, f"{name} must be one of {', '.join(choices)}", name)
    return value


def _limit(value: str | None) -> int:
    """The page size asked for: 1 to MAX_LIMIT, DEFAULT_LIMIT if not given."""
    if value is None:
        return DEFAULT_LIMIT
    if not (value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_LIMIT):
        raise ApiError(400, f"limit must be a whole number from 1 to {MAX_LIMIT}", "limit")
    return int(value)


def _cursor_after(post_id: int) -> str:
    """The opaque cursor of the page after the post ``post_id``."""
    return base64.urlsafe_b64encode(str(post_id).encode()).decode().rstrip("=")


def _id_from_cursor(cursor: str) -> int:
    """The post id a cursor stands for; 400 if it is not one this API gave."""
    try:
        text = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        text = b""
    if not (text.isdigit() and 0 < int(text) <= MAX_ID):
        raise ApiError(400, "cursor is not one this API gave; start again without it", "cursor")
    return int(text)


# --- categories ------------------------------------------------------------------------


@blueprint.get("/categories")
def list_categories() -> Response:
    """Every category by slug, with how many posts (drafts too) it holds."""
    with _store().session() as session:
        rows = session.execute(_categories_counted().order_by(Category.slug)).all()
    return jsonify({"categories": [_category_json(*row) for row in rows]})


@blueprint.get("/categories/<slug>")
def get_category(slug: str) -> Response:
    """One category."""
    with _store().session() as session:
        return _category_answer(session, _category_or_404(session, slug))


@blueprint.post("/categories")
def add_category() -> Response:
    """Create a category from {"slug", "name"}: 201."""
    fields = _fields(_json_body(), required=("slug", "name"))
    with _transaction() as session:
        category = create_category(session, fields["slug"], fields["name"])
        answer = _category_answer(session, category)
    return _created(answer, url_for("api.get_category", slug=category.slug))


@blueprint.patch("/categories/<slug>")
def change_category(slug: str) -> Response:
    """Rename a category: a new slug, a new name, or both."""
    fields = _fields(_json_body(), optional=("slug", "name"))
    with _transaction() as session:
        category = _category_or_404(session, slug)
        rename_category(session, category, **fields)
        return _category_answer(session, category)


@blueprint.delete("/categories/<slug>")
def remove_category(slug: str) -> Response:
    """Delete a category; 409 while posts use it, unless ?move_to=<slug> moves them there."""
    move_to = _query_params({"move_to"}).get("move_to")
    with _transaction() as session:
        category = _category_or_404(session, slug)
        target = _category_or_404(session, move_to, "move_to") if move_to is not None else None
        delete_category(session, _settings(), category, target)
    return _no_content()


def _categories_counted() -> Select[Category, int]:
    """SELECT of categories with the number of posts in each."""
    return (
        select(Category, func.count(post_categories.c.post_id))
        .outerjoin(post_categories, post_categories.c.category_id == Category.id)
        .group_by(Category.id)
    )


def _category_answer(session: Session, category: Category) -> Response:
    """A category's JSON, its post count read afresh."""
    row = session.execute(_categories_counted().where(Category.id == category.id)).one()
    return jsonify(_category_json(*row))


def _category_json(category: Category, post_count: int) -> dict[str, Any]:
    return {"slug": category.slug, "name": category.name, "post_count": post_count}


def _category_or_404(session: Session, slug: str, field: str | None = None) -> Category:
    """The category with this slug, or 404 (naming ``field`` if the slug came from it)."""
    category = None
    if xml_safe(slug) == slug:  # no stored slug holds what XML cannot (NUL, to PostgreSQL)
        category = session.scalar(select(Category).where(Category.slug == slug))
    if category is None:
        raise ApiError(404, f"unknown category {slug!r}", field)
    return category


# --- authors ---------------------------------------------------------------------------

_AUTHOR_FIELDS = ("name", "email", "uri")


@blueprint.get("/authors")
def list_authors() -> Response:
    """Every author, by name."""
    with _store().session() as session:
        authors = session.scalars(select(Author).order_by(Author.name)).all()
        return jsonify({"authors": [_author_json(author) for author in authors]})


@blueprint.get("/authors/<int:author_id>")
def get_author(author_id: int) -> Response:
    """One author."""
    with _store().session() as session:
        return jsonify(_author_json(_author_or_404(session, author_id)))


@blueprint.post("/authors")
def add_author() -> Response:
    """Create an author from {"name", "email"?, "uri"?}: 201."""
    fields = _fields(_json_body(), required=("name",), optional=_AUTHOR_FIELDS[1:])
    with _transaction() as session:
        author = create_author(session, **fields)
        answer = jsonify(_author_json(author))
    return _created(answer, url_for("api.get_author", author_id=author.id))


@blueprint.patch("/authors/<int:author_id>")
def change_author(author_id: int) -> Response:
    """Change an author's name, e-mail or URI; "" or null removes the e-mail or URI."""
    fields = _fields(_json_body(), optional=_AUTHOR_FIELDS)
    with _transaction() as session:
        author = _author_or_404(session, author_id)
        update_author(session, author, **fields)
        return jsonify(_author_json(author))


def _author_json(author: Author) -> dict[str, Any]:
    return {"id": author.id, "name": author.name, "email": author.email, "uri": author.uri}


def _author_or_404(session: Session, author_id: int) -> Author:
    author = session.get(Author, author_id) if author_id <= MAX_ID else None
    if author is None:
        raise ApiError(404, f"no author with id {author_id}")
    return author


# --- requests --------------------------------------------------------------------------


def _json_body() -> dict[str, Any]:
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


def _fields(
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


def _query_params(allowed: Collection[str]) -> dict[str, str]:
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


def _no_content() -> Response:
    """A 204: no body, so no Content-Type (Flask would say text/html)."""
    answer = Response(status=204)
    del answer.headers["Content-Type"]
    return answer


def _created(answer: Response, location: str) -> Response:
    """``answer`` as the 201 of a new resource found at ``location``."""
    answer.status_code = 201
    answer.headers["Location"] = location
    return answer


@contextmanager
def _transaction() -> Iterator[Session]:
    """A write transaction: what is written inside is stored whole, or not at all.

    On SQLite it waits its turn behind other writers (Store.writing) instead of failing."""
    with _store().writing() as session, session.begin():
        yield session


def _store() -> Store:
    return app_state().store


def _settings() -> Settings:
    return app_state().settings


def _links() -> SiteLinks:
    return SiteLinks(_settings())


# --- errors ----------------------------------------------------------------------------
# The store's refusals (InvalidInput, Conflict), lost races and an unreachable database are
# answered by feeds.web.errors, the same for every route; only ApiError is the API's own.


def error_answer(status: int, message: str, field: str | None = None) -> Response:
    """The API's JSON error: {"error", "status"}, and "field" when one field is at fault."""
    return error_response(ErrorAnswer(status, message, field))


@blueprint.errorhandler(ApiError)
def _refused(error: ApiError) -> Response:
    return error_answer(error.status, error.message, error.field)
