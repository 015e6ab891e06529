"""The admin API's categories and authors."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, url_for
from sqlalchemy.orm import Session

from feeds.store import queries
from feeds.store.models import Author, Category
from feeds.store.taxonomy import (
    create_author,
    create_category,
    delete_category,
    rename_category,
    update_author,
)
from feeds.web.api import blueprint
from feeds.web.api.requests import (
    ApiError,
    created,
    current_settings,
    current_store,
    json_body,
    no_content,
    query_params,
    string_fields,
    transaction,
)


@blueprint.get("/categories")
def list_categories() -> Response:
    """Every category by slug, with how many posts (drafts too) it holds."""
    with current_store().session() as session:
        counted = queries.categories_with_post_counts(session)
        return jsonify({"categories": [_category_json(*row) for row in counted]})


@blueprint.get("/categories/<slug>")
def get_category(slug: str) -> Response:
    """One category."""
    with current_store().session() as session:
        return _category_answer(session, _category_or_404(session, slug))


@blueprint.post("/categories")
def add_category() -> Response:
    """Create a category from {"slug", "name"}: 201."""
    fields = string_fields(json_body(), required=("slug", "name"))
    with transaction() as session:
        category = create_category(session, fields["slug"], fields["name"])
        answer = _category_answer(session, category)
    return created(answer, url_for("api.get_category", slug=category.slug))


@blueprint.patch("/categories/<slug>")
def change_category(slug: str) -> Response:
    """Rename a category: a new slug, a new name, or both."""
    fields = string_fields(json_body(), optional=("slug", "name"))
    with transaction() as session:
        category = _category_or_404(session, slug)
        rename_category(session, category, **fields)
        return _category_answer(session, category)


@blueprint.delete("/categories/<slug>")
def remove_category(slug: str) -> Response:
    """Delete a category; 409 while posts use it, unless ?move_to=<slug> moves them there."""
    move_to = query_params({"move_to"}).get("move_to")
    with transaction() as session:
        category = _category_or_404(session, slug)
        target = _category_or_404(session, move_to, "move_to") if move_to is not None else None
        delete_category(session, current_settings(), category, target)
    return no_content()


def _category_answer(session: Session, category: Category) -> Response:
    """A category's JSON, its post count read afresh."""
    return jsonify(_category_json(category, queries.category_post_count(session, category)))


def _category_json(category: Category, post_count: int) -> dict[str, Any]:
    return {"slug": category.slug, "name": category.name, "post_count": post_count}


def _category_or_404(session: Session, slug: str, field: str | None = None) -> Category:
    """The category with this slug, or 404 (naming ``field`` if the slug came from it)."""
    category = queries.find_category(session, slug)
    if category is None:
        raise ApiError(404, f"unknown category {slug!r}", field)
    return category


_AUTHOR_FIELDS = ("name", "email", "uri", "slug")


@blueprint.get("/authors")
def list_authors() -> Response:
    """Every author, by name."""
    with current_store().session() as session:
        authors = queries.all_authors(session)
        return jsonify({"authors": [_author_json(author) for author in authors]})


@blueprint.get("/authors/<int:author_id>")
def get_author(author_id: int) -> Response:
    """One author."""
    with current_store().session() as session:
        return jsonify(_author_json(_author_or_404(session, author_id)))


@blueprint.post("/authors")
def add_author() -> Response:
    """Create an author from {"name", "email"?, "uri"?, "slug"?}: 201. The slug names the
    author's feeds; without one it is made from the name."""
    fields = string_fields(json_body(), required=("name",), optional=_AUTHOR_FIELDS[1:])
    with transaction() as session:
        author = create_author(session, **fields)
        answer = jsonify(_author_json(author))
    return created(answer, url_for("api.get_author", author_id=author.id))


@blueprint.patch("/authors/<int:author_id>")
def change_author(author_id: int) -> Response:
    """Change an author's name, e-mail or URI; "" or null removes the e-mail or URI."""
    fields = string_fields(json_body(), optional=_AUTHOR_FIELDS[:3])
    with transaction() as session:
        author = _author_or_404(session, author_id)
        update_author(session, author, **fields)
        return jsonify(_author_json(author))


def _author_json(author: Author) -> dict[str, Any]:
    return {
        "id": author.id,
        "name": author.name,
        "slug": author.slug,
        "email": author.email,
        "uri": author.uri,
    }


def _author_or_404(session: Session, author_id: int) -> Author:
    author = queries.find_author(session, author_id)
    if author is None:
        raise ApiError(404, f"no author with id {author_id}")
    return author
