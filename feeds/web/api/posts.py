"""The admin API's posts: create, read, replace, patch, upsert by external id, delete, list."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Response, jsonify, url_for
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from feeds.store.models import Author, Category, Post, PostStatus, Tag
from feeds.store.post_json import merged_with, post_from_json, post_to_json
from feeds.store.queries import post_query
from feeds.store.validation import InvalidInput
from feeds.store.writes import WriteOutcome, create_post, delete_post, update_post, upsert_post
from feeds.web.api import blueprint
from feeds.web.api.requests import (
    MAX_ID,
    ApiError,
    choice,
    created,
    current_settings,
    current_store,
    cursor_after,
    id_from_cursor,
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
    """A page of posts, newest id first, with the cursor of the next page (or null)."""
    params = query_params({*_POST_FILTERS, "limit", "cursor"})
    limit = page_size(params.get("limit"))
    statement = post_query().where(*_post_conditions(params)).order_by(Post.id.desc())
    if "cursor" in params:
        statement = statement.where(Post.id < id_from_cursor(params["cursor"]))
    with current_store().session() as session:
        # One row more than asked says whether there is a next page.
        posts = session.scalars(statement.limit(limit + 1)).all()
        page = [post_to_json(post, site_links()) for post in posts[:limit]]
    cursor = cursor_after(posts[limit - 1].id) if len(posts) > limit else None
    return jsonify({"posts": page, "next_cursor": cursor})


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
    post = None
    if post_id <= MAX_ID:
        post = session.scalar(post_query().where(Post.id == post_id))
    if post is None:
        raise ApiError(404, f"no post with id {post_id}")
    return post


# --- listing posts ---------------------------------------------------------------------


def _status_condition(value: str) -> ColumnElement[bool]:
    return Post.status == choice("status", value, [status.value for status in PostStatus])


def _language_condition(value: str) -> ColumnElement[bool]:
    return Post.language == choice("language", value, list(current_settings().languages))


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
