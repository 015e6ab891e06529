"""Writes to categories, tags and authors: the terms posts are filed under and written by.

As in feeds.store.writes, every function validates its input, moves the revisions a change
may show in, and flushes but never commits. A category's or an author's name may show in
any feed, so renaming one moves every scope's revision.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from feeds.settings import Settings
from feeds.store.cleaning import ascii_slug, first_free
from feeds.store.index import dialect_insert, live_scopes, reindex, touch_every_scope, touch_scopes
from feeds.store.models import Author, Base, Category, Post, Tag, post_categories
from feeds.store.queries import post_query
from feeds.store.validation import (
    AuthorInput,
    Conflict,
    InvalidInput,
    TermInput,
    clean_category_slug,
    clean_slug,
    clean_text,
    optional_email,
    optional_uri,
)

_Term = TypeVar("_Term", Category, Tag)


def create_category(session: Session, slug: str, name: str) -> Category:
    """A new category; Conflict if the slug is taken."""
    slug = clean_category_slug("slug", slug)
    if session.scalar(select(Category.id).where(Category.slug == slug)) is not None:
        raise Conflict("slug", f"category {slug!r} already exists")
    category = Category(slug=slug, name=clean_text("name", name, required=True))
    session.add(category)
    session.flush()
    touch_scopes(session, [], datetime.now(UTC), None)
    return category


def ensure_category(session: Session, slug: str, name: str) -> Category:
    """The category with this slug, created with this name if missing."""
    slug = clean_category_slug("slug", slug)
    category = stored_term(
        session, Category, TermInput(slug, clean_text("name", name, required=True))
    )
    touch_scopes(session, [], datetime.now(UTC), None)  # so that every process learns of it
    return category


def rename_category(
    session: Session, category: Category, slug: str | None = None, name: str | None = None
) -> None:
    """Change a category's slug or name. Every feed may show it, so every revision moves."""
    if slug is not None and slug != category.slug:
        slug = clean_category_slug("slug", slug)
        if session.scalar(select(Category.id).where(Category.slug == slug)) is not None:
            raise Conflict("slug", f"category {slug!r} already exists")
        category.slug = slug
    if name is not None:
        category.name = clean_text("name", name, required=True)
    session.flush()
    touch_every_scope(session, datetime.now(UTC))


def delete_category(
    session: Session, settings: Settings, category: Category, move_to: Category | None = None
) -> int:
    """Delete a category. Refused (Conflict) while posts use it, unless they move to
    ``move_to``. Returns how many posts moved."""
    post_ids = session.scalars(
        select(post_categories.c.post_id).where(post_categories.c.category_id == category.id)
    ).all()
    if post_ids and move_to is None:
        raise Conflict("category", f"{len(post_ids)} posts use {category.slug!r}; move them first")
    if move_to is not None and move_to.id == category.id:
        raise InvalidInput("move_to", "cannot move posts to the category being deleted")
    now = datetime.now(UTC)
    for post in session.scalars(post_query().where(Post.id.in_(post_ids))):
        old_scopes = live_scopes(post)
        post.categories = [c for c in post.categories if c.id != category.id]
        if move_to is not None and move_to not in post.categories:
            post.categories.append(move_to)
        session.flush()
        reindex(session, post, old_scopes, now, settings)
    session.delete(category)
    session.flush()
    touch_every_scope(session, now)
    return len(post_ids)


def create_author(
    session: Session,
    name: str,
    email: str | None = None,
    uri: str | None = None,
    slug: str | None = None,
) -> Author:
    """A new author; Conflict if the name or the slug is taken. Without a slug, one is made
    from the name."""
    name = clean_text("name", name, required=True)
    if session.scalar(select(Author.id).where(Author.name == name)) is not None:
        raise Conflict("name", f"author {name!r} already exists")
    if slug is None:
        slug = free_author_slug(session, name)
    else:
        slug = clean_slug("slug", slug)
        if session.scalar(select(Author.id).where(Author.slug == slug)) is not None:
            raise Conflict("slug", f"author slug {slug!r} is taken")
    author = Author(name=name, slug=slug, email=optional_email(email), uri=optional_uri("uri", uri))
    session.add(author)
    session.flush()
    return author


def update_author(
    session: Session,
    author: Author,
    name: str | None = None,
    email: str | None = None,
    uri: str | None = None,
) -> None:
    """Change an author's name, e-mail or URI. Every feed may show them, so every revision
    moves. The slug, and so the author's feed URL, stays."""
    if name is not None:
        name = clean_text("name", name, required=True)
        taken = session.scalar(select(Author.id).where(Author.name == name, Author.id != author.id))
        if taken is not None:
            raise Conflict("name", f"author {name!r} already exists")
        author.name = name
    if email is not None:
        author.email = optional_email(email)
    if uri is not None:
        author.uri = optional_uri("uri", uri)
    session.flush()
    touch_every_scope(session, datetime.now(UTC))


def stored_term(session: Session, model: type[_Term], term: TermInput) -> _Term:
    """The category or tag with this slug, created (with the given name) if missing."""
    _insert_if_missing(session, model, slug=term.slug, name=term.name or term.slug)
    return session.scalars(select(model).where(model.slug == term.slug)).one()


def stored_author(session: Session, data: AuthorInput) -> Author:
    """The author with this name, created if missing; a given e-mail or URI is recorded."""
    author = session.scalars(select(Author).where(Author.name == data.name)).one_or_none()
    if author is None:
        slug = free_author_slug(session, data.name)
        _insert_if_missing(session, Author, name=data.name, slug=slug)
        author = session.scalars(select(Author).where(Author.name == data.name)).one_or_none()
        if author is None:  # another writer took the slug for another name, just now
            raise Conflict("authors", f"author slug {slug!r} was just taken; send it again")
    if data.email is not None:
        author.email = data.email
    if data.uri is not None:
        author.uri = data.uri
    session.flush()
    return author


def free_author_slug(session: Session, name: str) -> str:
    """A slug for a new author: the name's (``author`` if it has no letters or digits), with
    ``-2``, ``-3``… when another author holds it."""
    return first_free(
        ascii_slug(name) or "author",
        lambda slug: session.scalar(select(Author.id).where(Author.slug == slug)) is not None,
    )


def _insert_if_missing(session: Session, model: type[Base], **values: str) -> None:
    """INSERT … ON CONFLICT DO NOTHING: two writers creating the same category, tag or author
    at once both succeed, instead of one failing on the unique key."""
    statement = dialect_insert(session)(model).values(**values).on_conflict_do_nothing()
    session.execute(statement)
