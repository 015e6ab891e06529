"""The reads the service needs. Each is an index range scan, whatever the store's size."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Select, func, literal, select, tuple_
from sqlalchemy.orm import Session, selectinload

from feeds.serving.content import Deletion, FeedContent, Person, PostRecord, Term
from feeds.serving.spec import FeedSpec, PageCursor, UnknownCategory
from feeds.store.index import scope_key
from feeds.store.models import Category, DeletedEntry, Post, ScopeEntry
from feeds.store.types import UTCDateTime


def post_query() -> Select[Post]:
    """SELECT of posts with their categories, tags and authors loaded."""
    return select(Post).options(
        selectinload(Post.categories), selectinload(Post.tags), selectinload(Post.authors)
    )


def find_post(session: Session, language: str, slug: str) -> Post | None:
    """The post with this slug in this language, if there is one."""
    return session.scalar(post_query().where(Post.language == language, Post.slug == slug))


def category_by_slug(session: Session, slug: str) -> Category:
    """The category with this slug, or UnknownCategory."""
    category = session.scalar(select(Category).where(Category.slug == slug))
    if category is None:
        raise UnknownCategory(f"unknown category {slug!r}")
    return category


def latest_posts_statement(
    scope: str, now: datetime, limit: int, before: PageCursor | None = None
) -> Select[Post]:
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
        if last.published is None:
            raise RuntimeError("a post in a feed is published")
        next_page = PageCursor(last.published, last.id)
    records = tuple(post_record(post) for post in posts)
    term = Term(category.slug, category.name) if category else None
    if spec.before is not None:
        # An older page only changes with a write: scheduled posts are newer than any cursor.
        return FeedContent(term, records, next_page=next_page, scope=scope)
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
        category=term,
        posts=records,
        next_page=next_page,
        deletions=tuple(
            Deletion(d.entry_id, d.deleted, d.link) for d in session.scalars(deletions)
        ),
        valid_until=min((c for c in changes if c is not None), default=None),
        scope=scope,
    )


def post_record(post: Post) -> PostRecord:
    """A published post (loaded with its categories, tags and authors) as plain values."""
    if post.published is None:
        raise RuntimeError("a post in a feed is published")
    return PostRecord(
        id=post.id,
        entry_id=post.entry_id,
        slug=post.slug,
        title=post.title,
        summary=post.summary,
        content_html=post.content_html,
        language=post.language,
        published=post.published,
        updated=post.updated,
        categories=tuple(Term(c.slug, c.name) for c in post.categories),
        tags=tuple(Term(t.slug, t.name) for t in post.tags),
        authors=tuple(Person(a.name, a.email, a.uri) for a in post.authors),
    )


def all_categories(session: Session) -> Sequence[Term]:
    """Every category, by slug."""
    rows = session.execute(select(Category.slug, Category.name).order_by(Category.slug))
    return [Term(slug, name) for slug, name in rows]
