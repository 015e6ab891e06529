"""The reads the service needs. Each is an index range scan, whatever the store's size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, literal, select, tuple_
from sqlalchemy.orm import Session, selectinload

from feeds.spec import FeedSpec, PageCursor, UnknownCategory
from feeds.store.models import Category, DeletedEntry, Post, ScopeEntry, scope_key
from feeds.store.types import UTCDateTime


@dataclass(frozen=True)
class FeedContent:
    """What a feed shows: its category (if it has one), its posts newest first, and the
    posts deleted from it lately (newest first); ``next_page`` is the cursor of the next,
    older page if there is one. ``valid_until`` is when it next changes
    with no write (a scheduled post falls due, a tombstone ages out), if ever."""

    category: Category | None
    posts: Sequence[Post]
    next_page: PageCursor | None = None
    deletions: Sequence[DeletedEntry] = ()
    valid_until: datetime | None = None


def category_by_slug(session: Session, slug: str) -> Category:
    """The category with this slug, or UnknownCategory."""
    category = session.scalar(select(Category).where(Category.slug == slug))
    if category is None:
        raise UnknownCategory(f"unknown category {slug!r}")
    return category


def latest_posts_statement(
    scope: str, now: datetime, limit: int, before: PageCursor | None = None
) -> Select[tuple[Post]]:
    """SELECT of the ``limit`` newest posts visible at ``now`` in ``scope`` (older than
    ``before``, for an older page).

    It orders by the scope index's own date column, so the database walks the index
    backwards from ``now`` (or the cursor) and stops after ``limit`` rows: no sort, no scan
    of the scope, at any depth.
    """
    statement = select(Post).join(ScopeEntry, ScopeEntry.post_id == Post.id)
    statement = statement.where(ScopeEntry.scope == scope, ScopeEntry.published <= now)
    if before is not None:
        statement = statement.where(
            tuple_(ScopeEntry.published, ScopeEntry.post_id)
            < tuple_(literal(before.published, UTCDateTime()), literal(before.post_id))
        )
    return statement.order_by(ScopeEntry.published.desc(), ScopeEntry.post_id.desc()).limit(limit)


def feed_content(
    session: Session, spec: FeedSpec, now: datetime, limit: int, deleted_window: timedelta
) -> FeedContent:
    """The category, the latest ``limit`` published posts of the page, the cursor of the next
    (older) page, and, on the first page, the deletions within ``deleted_window``, of the
    feed ``spec`` at ``now``."""
    category = category_by_slug(session, spec.category) if spec.category else None
    scope = scope_key(category.id if category else None, spec.language)
    statement = latest_posts_statement(scope, now, limit + 1, spec.before).options(
        selectinload(Post.categories), selectinload(Post.tags), selectinload(Post.authors)
    )
    posts = session.scalars(statement).all()
    next_page = None
    if len(posts) > limit:
        posts = posts[:limit]
        last = posts[-1]
        assert last.published is not None
        next_page = PageCursor(last.published, last.id)
    if spec.before is not None:
        # An older page only changes with a write: scheduled posts are newer than any cursor.
        return FeedContent(category, posts, next_page=next_page)
    in_window = (DeletedEntry.scope == scope, DeletedEntry.deleted > now - deleted_window)
    deletions = (
        select(DeletedEntry).where(*in_window).order_by(DeletedEntry.deleted.desc()).limit(limit)
    )
    next_due = session.scalar(
        select(func.min(ScopeEntry.published)).where(
            ScopeEntry.scope == scope, ScopeEntry.published > now
        )
    )
    oldest_deletion = session.scalar(select(func.min(DeletedEntry.deleted)).where(*in_window))
    changes = [next_due, oldest_deletion + deleted_window if oldest_deletion else None]
    return FeedContent(
        category=category,
        posts=posts,
        next_page=next_page,
        deletions=session.scalars(deletions).all(),
        valid_until=min((c for c in changes if c is not None), default=None),
    )


def all_categories(session: Session) -> Sequence[Category]:
    """Every category, by slug."""
    return session.scalars(select(Category).order_by(Category.slug)).all()
