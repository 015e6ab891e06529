"""The admin API's posts: create, read, replace, patch, upsert by external id, delete, list."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any

from flask import Response, jsonify, url_for
from sqlalchemy.orm import Session

from feeds.serving.spec import PageCursor
from feeds.store import queries
from feeds.store.models import Post, PostStatus
from feeds.store.post_json import merged_with, post_from_json, post_to_json
from feeds.store.queries import PostFilters
from feeds.store.validation import InvalidInput
from feeds.store.writes import WriteOutcome, create_post, delete_post, update_post, upsert_post
from feeds.web.api import blueprint
from feeds.web.api.requests import (
    ApiError,
    choice,
    created,
    current_settings,
    current_store,
    json_body,
    no_content,
    page_size,
    query_params,
    site_links,
    transaction,
)

# The header that says what a write did to the post: created, updated or unchanged.
OUTCOME_HEADER = "Feeds-Outcome"


@blueprint.get("/posts")
def list_posts() -> Response:
    """A page of posts of every status, newest first, with the cursor of the next page (or
    null): the feeds' page cursor, ``?cursor=`` where a feed says ``?before=``."""
    params = query_params({*_FILTERS, "limit", "cursor"})
    limit = page_size(params.get("limit"))
    filters = _post_filters(params)
    before = PageCursor.parse(params["cursor"], "cursor") if "cursor" in params else None
    with current_store().session() as session:
        page = queries.list_posts(session, filters, limit, before)
        posts = [post_to_json(post, site_links()) for post in page.posts]
    cursor = str(page.next_page) if page.next_page else None
    return jsonify({"posts": posts, "next_cursor": cursor})


@blueprint.post("/posts")
def add_post() -> Response:
    """Create a post: 201 with its JSON and its URL in Location."""
    data = post_from_json(json_body())
    with transaction() as session:
        post = create_post(session, current_settings(), data)
        return _post_answer(post, WriteOutcome.CREATED)


@blueprint.get("/posts/<int:post_id>")
def get_post(post_id: int) -> Response:
    """One post."""
    with current_store().session() as session:
        return jsonify(post_to_json(_post_or_404(session, post_id), site_links()))


@blueprint.put("/posts/<int:post_id>")
def replace_post(post_id: int) -> Response:
    """Replace a post by the whole post in the body; a field left out takes its default."""
    return _change_post(post_id, lambda _post, body: body)


@blueprint.patch("/posts/<int:post_id>")
def patch_post(post_id: int) -> Response:
    """Change only the fields the body names."""
    return _change_post(post_id, lambda post, body: merged_with(post, site_links(), body))


@blueprint.delete("/posts/<int:post_id>")
def remove_post(post_id: int) -> Response:
    """Delete a post; its feeds announce the deletion for a while (tombstones)."""
    with transaction() as session:
        delete_post(session, current_settings(), _post_or_404(session, post_id))
    return no_content()


@blueprint.put("/posts/external/<path:external_id>")
def upsert(external_id: str) -> Response:
    """Create or update the post with this external id: what a CMS sends on every save."""
    body = json_body()
    external_id = external_id.strip()
    if not external_id:
        raise InvalidInput("external_id", "must not be empty")
    if body.get("external_id") not in (None, external_id):
        raise InvalidInput("external_id", "differs from the external id in the URL")
    data = post_from_json({**body, "external_id": external_id})
    with transaction() as session:
        post, outcome = upsert_post(session, current_settings(), data)
        return _post_answer(post, outcome)


def _change_post(
    post_id: int, document: Callable[[Post, dict[str, Any]], Mapping[str, Any]]
) -> Response:
    """Update a post to ``document(post, body)``; the answer says whether anything changed."""
    body = json_body()
    with transaction() as session:
        post = _post_or_404(session, post_id)
        changed = update_post(
            session, current_settings(), post, post_from_json(document(post, body))
        )
        return _post_answer(post, WriteOutcome.UPDATED if changed else WriteOutcome.UNCHANGED)


def _post_answer(post: Post, outcome: WriteOutcome) -> Response:
    """The post's JSON, with the outcome in its header; a created post answers 201."""
    answer = jsonify(post_to_json(post, site_links()))
    answer.headers[OUTCOME_HEADER] = outcome.value
    if outcome is WriteOutcome.CREATED:
        return created(answer, url_for("api.get_post", post_id=post.id))
    return answer


def _post_or_404(session: Session, post_id: int) -> Post:
    """The post with this id, loaded with its relations, or 404."""
    post = queries.find_post_by_id(session, post_id)
    if post is None:
        raise ApiError(404, f"no post with id {post_id}")
    return post


# --- listing posts ---------------------------------------------------------------------


_FILTERS = frozenset(field.name for field in fields(PostFilters))
_STATUSES = [status.value for status in PostStatus]


def _post_filters(params: Mapping[str, str]) -> PostFilters:
    """The listing's filters in the query string; 400 for a status or language the site
    does not have."""
    status, language = params.get("status"), params.get("language")
    languages = list(current_settings().languages)
    return PostFilters(
        status=None if status is None else PostStatus(choice("status", status, _STATUSES)),
        language=None if language is None else choice("language", language, languages),
        category=params.get("category"),
        tag=params.get("tag"),
        author=params.get("author"),
        external_id=params.get("external_id"),
    )
