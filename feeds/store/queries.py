"""The reads the service needs: the feeds', then the admin API's. Each is an index range
scan (or a lookup by key), whatever the store's size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, selectinload

from feeds.serving.content import Deletion, FeedContent, Person, PostRecord, Term
from feeds.serving.spec import MAX_POST_ID, FeedSpec, PageCursor, UnknownArchive, UnknownCategory
from feeds.store.archives import archive_range, bound_position, is_archive_scope, last_archive_bound
from feeds.store.cleaning import xml_safe
from feeds.store.index import scope_key
from feeds.store.keyset import past
from feeds.store.models import (
    ArchiveBound,
    Author,
    Category,
    DeletedEntry,
    Post,
    PostStatus,
    ScopeEntry,
    Tag,
    post_categories,
    post_listing_date,
)


def post_query() -> Select[Post]:
    """SELECT of posts with their categories, tags and authors loaded."""
    return select(Post).options(
        selectinload(Post.categories), selectinload(Post.tags), selectinload(Post.authors)
    )


def find_post(session: Session, language: str, slug: str) -> Post | None:
    """The post with this slug in this language, if there is one."""
    return session.scalar(post_query().where(Post.language == language, Post.slug == slug))


def find_category(session: Session, slug: str) -> Category | None:
    """The category with this slug, if there is one."""
    if xml_safe(slug) != slug:  # no stored slug holds what XML cannot (NUL, to PostgreSQL)
        return None
    return session.scalar(select(Category).where(Category.slug == slug))


def category_by_slug(session: Session, slug: str) -> Category:
    """The category with this slug, or UnknownCategory."""
    category = find_category(session, slug)
    if category is None:
        raise UnknownCategory(f"unknown category {slug!r}")
    return category


_NEWEST_FIRST = (ScopeEntry.published.desc(), ScopeEntry.post_id.desc())


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
            past(before, ScopeEntry.published, ScopeEntry.post_id, older=True)
        )
    return statement.order_by(*_NEWEST_FIRST).limit(limit)


def feed_content(
    session: Session, spec: FeedSpec, now: datetime, limit: int, deleted_window: timedelta
) -> FeedContent:
    """The category, the latest ``limit`` published posts of the page, the cursor of the next
    (older) page, and, on the first page, the deletions within ``deleted_window`` and the
    newest archive, of the feed ``spec`` at ``now``; for an archive, archive_content."""
    category = category_by_slug(session, spec.category) if spec.category else None
    scope = scope_key(category.id if category else None, spec.language)
    term = Term(category.slug, category.name) if category else None
    if spec.archive is not None:
        return archive_content(session, scope, term, spec.archive, now, limit)
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
    if spec.before is not None:
        # An older page only changes with a write: scheduled posts are newer than any cursor.
        return FeedContent(term, records, next_page=next_page, scope=scope)
    in_window = (DeletedEntry.scope == scope, DeletedEntry.deleted > now - deleted_window)
    deletions = (
        select(DeletedEntry).where(*in_window).order_by(DeletedEntry.deleted.desc()).limit(limit)
    )
    oldest_deletion = session.scalar(select(func.min(DeletedEntry.deleted)).where(*in_window))
    changes = [
        _next_due(session, scope, now),
        oldest_deletion + deleted_window if oldest_deletion else None,
    ]
    newest_archive = (
        archive_shelf(session, scope, now, limit).newest if is_archive_scope(scope) else None
    )
    return FeedContent(
        category=term,
        posts=records,
        next_page=next_page,
        deletions=tuple(
            Deletion(d.entry_id, d.deleted, d.link) for d in session.scalars(deletions)
        ),
        valid_until=min((c for c in changes if c is not None), default=None),
        scope=scope,
        prev_archive=newest_archive,
    )


@dataclass(frozen=True, slots=True)
class ArchiveShelf:
    """A scope's archives at one moment: its last bound (None before the first is sealed)
    and whether the open archive, after it, holds posts."""

    last_bound: ArchiveBound | None
    open_holds_posts: bool

    @property
    def sealed(self) -> int:
        """How many archives are sealed."""
        return self.last_bound.number if self.last_bound else 0

    @property
    def newest(self) -> int | None:
        """The archive a subscription document links to: the open one if it holds posts,
        else the newest sealed one; None while the subscription document holds every post."""
        return self.sealed + 1 if self.open_holds_posts else self.sealed or None

    @property
    def count(self) -> int:
        """How many archive documents there are: the sealed ones, then the open one, which
        exists (empty, maybe) once one is sealed, as the next-archive of the last sealed:
        a sealed archive's links, like its range, are then fixed when it is sealed."""
        return self.sealed + 1 if self.sealed or self.open_holds_posts else 0


def archive_shelf(session: Session, scope: str, now: datetime, feed_size: int) -> ArchiveShelf:
    """The archives of ``scope`` at ``now``, with subscription documents of ``feed_size``
    posts: the open archive holds posts when more than ``feed_size`` posts follow the last
    bound (a walk of at most feed_size + 1 index rows)."""
    last = last_archive_bound(session, scope)
    beyond_window = (
        select(ScopeEntry.post_id)
        .where(*_open_archive(scope, last, now))
        .order_by(*_NEWEST_FIRST)
        .offset(feed_size)
        .limit(1)
    )
    return ArchiveShelf(last, session.scalar(beyond_window) is not None)


def _open_archive(
    scope: str, last: ArchiveBound | None, now: datetime
) -> list[ColumnElement[bool]]:
    """The posts of ``scope`` after its last bound visible at ``now``: newest first, the
    subscription document's, then the open archive's."""
    return archive_range(scope, after=bound_position(last) if last else None, now=now)


def _next_due(session: Session, scope: str, now: datetime) -> datetime | None:
    """When the next scheduled post of ``scope`` falls due, if one is waiting."""
    return session.scalar(
        select(func.min(ScopeEntry.published)).where(
            ScopeEntry.scope == scope, ScopeEntry.published > now
        )
    )


def archive_content(
    session: Session, scope: str, category: Term | None, number: int, now: datetime, feed_size: int
) -> FeedContent:
    """Archive ``number`` of ``scope`` (whose subscription documents hold ``feed_size``
    posts) at ``now``, newest first; UnknownArchive if it does not exist.

    A sealed archive is the index range between its bound and the previous one; the open
    one, the posts after the last bound that the subscription document no longer shows.
    Archives carry no tombstones: the subscription document does."""
    shelf = archive_shelf(session, scope, now, feed_size)
    if number > shelf.count:
        raise UnknownArchive(f"no archive {number} of this feed (it has {shelf.count})")
    sealed = number <= shelf.sealed
    statement = (
        post_query().join(ScopeEntry, ScopeEntry.post_id == Post.id).order_by(*_NEWEST_FIRST)
    )
    if not sealed:
        statement = statement.where(*_open_archive(scope, shelf.last_bound, now)).offset(feed_size)
    else:
        lower = session.get(ArchiveBound, (scope, number - 1)) if number > 1 else None
        upper = session.get(ArchiveBound, (scope, number))
        if upper is None or (number > 1 and lower is None):
            raise RuntimeError(f"archive {number} of {scope} has its bounds")
        after = bound_position(lower) if lower else None
        statement = statement.where(*archive_range(scope, after, bound_position(upper)))
    posts = session.scalars(statement)
    return FeedContent(
        category=category,
        posts=tuple(post_record(post) for post in posts),
        valid_until=None if sealed else _next_due(session, scope, now),
        scope=scope,
        prev_archive=number - 1 if number > 1 else None,
        next_archive=number + 1 if sealed else None,
        sealed=sealed,
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


# --- the admin API's reads -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PostFilters:
    """What a listing of posts is narrowed to; None: anything. The caller checks that a
    status or language is one the site has (another would only match nothing)."""

    status: PostStatus | None = None
    language: str | None = None
    category: str | None = None  # a slug
    tag: str | None = None  # a slug
    author: str | None = None  # a name
    external_id: str | None = None


@dataclass(frozen=True, slots=True)
class PostPage:
    """A page of a listing, and where the next one starts (None on the last page)."""

    posts: Sequence[Post]
    next_page: PageCursor | None


def list_posts(
    session: Session, filters: PostFilters, limit: int, before: PageCursor | None = None
) -> PostPage:
    """The ``limit`` newest posts of every status matching ``filters`` (below ``before``,
    for a later page), loaded with their relations.

    Newest by ``post_listing_date`` (a draft without a date stands at its creation), then by
    id: a walk back along ix_posts_listing, keyset-paged with the feeds' own cursors.
    """
    statement = post_query().add_columns(post_listing_date).where(*_conditions(filters))
    if before is not None:
        statement = statement.where(past(before, post_listing_date, Post.id, older=True))
    statement = statement.order_by(post_listing_date.desc(), Post.id.desc())
    # One row more than asked says whether there is a next page.
    rows = session.execute(statement.limit(limit + 1)).all()
    next_page = None
    if len(rows) > limit:
        rows = rows[:limit]
        last, listed = rows[-1]
        next_page = PageCursor(listed, last.id)
    return PostPage([post for post, _listed in rows], next_page)


def _conditions(filters: PostFilters) -> list[ColumnElement[bool]]:
    """The WHERE conditions of the filters that are set."""
    candidates = (
        (filters.status, Post.status == filters.status),
        (filters.language, Post.language == filters.language),
        (filters.category, Post.categories.any(Category.slug == filters.category)),
        (filters.tag, Post.tags.any(Tag.slug == filters.tag)),
        (filters.author, Post.authors.any(Author.name == filters.author)),
        (filters.external_id, Post.external_id == filters.external_id),
    )
    return [condition for value, condition in candidates if value is not None]


def find_post_by_id(session: Session, post_id: int) -> Post | None:
    """The post with this id, loaded with its relations, if there is one."""
    if not _is_database_id(post_id):
        return None
    return session.scalar(post_query().where(Post.id == post_id))


def find_author(session: Session, author_id: int) -> Author | None:
    """The author with this id, if there is one."""
    return session.get(Author, author_id) if _is_database_id(author_id) else None


def all_authors(session: Session) -> Sequence[Author]:
    """Every author, by name."""
    return session.scalars(select(Author).order_by(Author.name)).all()


def categories_with_post_counts(session: Session) -> Sequence[tuple[Category, int]]:
    """Every category, by slug, with how many posts (drafts too) it holds."""
    statement = (
        select(Category, func.count(post_categories.c.post_id))
        .outerjoin(post_categories, post_categories.c.category_id == Category.id)
        .group_by(Category.id)
        .order_by(Category.slug)
    )
    return [(category, count) for category, count in session.execute(statement)]


def category_post_count(session: Session, category: Category) -> int:
    """How many posts (drafts too) ``category`` holds."""
    count = select(func.count()).where(post_categories.c.category_id == category.id)
    return session.scalar(count) or 0


def _is_database_id(value: int) -> bool:
    """Whether ``value`` fits an id column; looking up a larger one would fail, not find none."""
    return 0 < value <= MAX_POST_ID
