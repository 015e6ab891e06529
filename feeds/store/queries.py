"""The reads the service needs. Each is an index range scan, whatever the store's size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from feeds.spec import FeedSpec, UnknownCategory
from feeds.store.models import Category, DeletedEntry, Post, ScopeEntry, scope_key


@dataclass(frozen=True)
class FeedContent:
    """What a feed shows: its category (if it has one), its posts newest first, and the
    posts deleted from it lately (newest first)."""

    category: Category | None
    posts: Sequence[Post]
    deletions: Sequence[DeletedEntry] = ()


def category_by_slug(session: Session, slug: str) -> Category:
    """The category with this slug, or UnknownCategory."""
    category = session.scalar(select(Category).where(Category.slug == slug))
    if category is None:
        raise UnknownCategory(f"unknown category {slug!r}")
    return category


def latest_posts_statement(scope: str, now: datetime, limit: int) -> Select[tuple[Post]]:
    """SELECT of the ``limit`` newest posts visible at ``now`` in ``scope``.

    It orders by the scope index's own date column, so the database walks the index
    backwards from ``now`` and stops after ``limit`` rows: no sort, no scan of the scope.
    """
    return (
        select(Post)
        .join(ScopeEntry, ScopeEntry.post_id == Post.id)
        .where(ScopeEntry.scope == scope, ScopeEntry.published <= now)
        .order_by(ScopeEntry.published.desc(), ScopeEntry.post_id.desc())
        .limit(limit)
    )


def feed_content(
    session: Session, spec: FeedSpec, now: datetime, limit: int, deleted_since: datetime
) -> FeedContent:
    """The category, the latest ``limit`` published posts, and the deletions since
    ``deleted_since`` of the feed ``spec`` at ``now``."""
    category = category_by_slug(session, spec.category) if spec.category else None
    scope = scope_key(category.id if category else None, spec.language)
    statement = latest_posts_statement(scope, now, limit).options(
        selectinload(Post.categories), selectinload(Post.tags), selectinload(Post.authors)
    )
    deletions = (
        select(DeletedEntry)
        .where(DeletedEntry.scope == scope, DeletedEntry.deleted > deleted_since)
        .order_by(DeletedEntry.deleted.desc())
        .limit(limit)
    )
    return FeedContent(category, session.scalars(statement).all(), session.scalars(deletions).all())


def all_categories(session: Session) -> Sequence[Category]:
    """Every category, by slug."""
    return session.scalars(select(Category).order_by(Category.slug)).all()
