"""The reads the service needs: the feeds', then the admin API's. Each is an index range
scan (or a lookup by key), whatever the store's size."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Select,
    func,
    select,
    union,
)
from sqlalchemy.orm import Session, selectinload

from feeds.serving.content import (
    Deletion,
    Enclosure,
    FeedContent,
    Image,
    ListedTerm,
    Person,
    PostRecord,
    Term,
)
from feeds.serving.spec import (
    ARCHIVE_FORMATS,
    MAX_POST_ID,
    FeedSpec,
    PageCursor,
    ScopeKind,
    UnknownArchive,
    UnknownCategory,
)
from feeds.store.archives import (
    archive_range,
    bound_position,
    newest_archive_number,
    subscription_size,
)
from feeds.store.cleaning import xml_safe
from feeds.store.keyset import past
from feeds.store.models import (
    TERM_MODELS,
    ArchiveBound,
    Author,
    Category,
    DeletedEntry,
    Post,
    PostStatus,
    ScopeEntry,
    ScopeRevision,
    Tag,
    post_categories,
    post_listing_date,
)
from feeds.store.scopes import KIND_PREFIX, feed_scopes, scope_parts

# What a post's every reader loads with it: its categories, tags, authors and enclosures.
POST_RELATIONS = (
    selectinload(Post.categories),
    selectinload(Post.tags),
    selectinload(Post.authors),
    selectinload(Post.enclosures),
)


def post_query() -> Select[Post]:
    """SELECT of posts with their categories, tags, authors and enclosures loaded."""
    return select(Post).options(*POST_RELATIONS)


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
    scopes: Sequence[str], now: datetime, limit: int, before: PageCursor | None = None
) -> Select[Post]:
    """SELECT of the ``limit`` newest posts visible at ``now`` in any of ``scopes`` (older
    than ``before``, for an older page).

    It orders by the scope index's own date column, so the database walks the index
    backwards from ``now`` (or the cursor) and stops after ``limit`` rows: no sort, no scan
    of the scope, at any depth. Several scopes (a combined feed) are a merge: each scope's
    own walk of at most ``limit`` rows, their union (a post in two of them once), and the
    newest ``limit`` of that.
    """
    if len(scopes) == 1:
        statement = select(Post).join(ScopeEntry, ScopeEntry.post_id == Post.id)
        statement = statement.where(*_newest_in(scopes[0], now, before))
        return statement.order_by(*_NEWEST_FIRST).limit(limit)
    walks = [_index_walk(scope, now, limit, before).subquery() for scope in scopes]
    merged = union(*(select(walk.c.published, walk.c.post_id) for walk in walks)).subquery()
    return (
        select(Post)
        .join(merged, merged.c.post_id == Post.id)
        .order_by(merged.c.published.desc(), merged.c.post_id.desc())
        .limit(limit)
    )


def _index_walk(
    scope: str, now: datetime, limit: int, before: PageCursor | None
) -> Select[datetime, int]:
    """The positions of the ``limit`` newest posts of one scope: a backwards range scan of
    its index rows, from ``now`` or from the cursor."""
    statement = select(ScopeEntry.published, ScopeEntry.post_id).where(
        *_newest_in(scope, now, before)
    )
    return statement.order_by(*_NEWEST_FIRST).limit(limit)


def _newest_in(scope: str, now: datetime, before: PageCursor | None) -> list[ColumnElement[bool]]:
    """The conditions of a walk down one scope's index: visible at ``now``, below ``before``."""
    conditions = [ScopeEntry.scope == scope, ScopeEntry.published <= now]
    if before is not None:
        conditions.append(past(before, ScopeEntry.published, ScopeEntry.post_id, older=True))
    return conditions


def feed_terms(session: Session, spec: FeedSpec) -> tuple[tuple[int, Term], ...]:
    """The id and the slug and name of each category, tag or author the feed names (none
    for the site's); UnknownCategory… as feeds.store.scopes.feed_scopes says."""
    if spec.kind is ScopeKind.SITE:
        return ()
    model = TERM_MODELS[spec.kind]
    # No stored slug holds what XML cannot (a NUL, which PostgreSQL refuses in a query).
    wanted = [slug for slug in spec.slugs if xml_safe(slug) == slug]
    rows = session.execute(select(model.id, model.slug, model.name).where(model.slug.in_(wanted)))
    found = {slug: (term_id, Term(slug, name)) for term_id, slug, name in rows}
    feed_scopes(spec, {slug: term_id for slug, (term_id, _) in found.items()})  # all known?
    return tuple(found[slug] for slug in spec.slugs)


def feed_content(
    session: Session,
    spec: FeedSpec,
    now: datetime,
    limit: int,
    deleted_window: timedelta,
    archive_size: int,
) -> FeedContent:
    """The terms, the latest published posts of the page, the cursor of the next (older)
    page, and, on the first page, the deletions within ``deleted_window``, of the feed
    ``spec`` at ``now``; for an archive, archive_content.

    A page holds ``limit`` posts, except the first page of a feed with archives (RFC 5005
    section 4), its subscription document: every post after its newest archive (at least
    ``limit``; feeds.store.archives.subscription_size, by ``archive_size``), in every
    format, and in Atom and RSS a link to that archive."""
    terms = feed_terms(session, spec)
    scopes = feed_scopes(spec, {term.slug: term_id for term_id, term in terms})
    named = tuple(term for _, term in terms)
    if spec.archive is not None:
        return archive_content(session, scopes[0], named, spec.archive)
    page_size, newest_archive = limit, None
    if spec.has_archives and spec.before is None:
        page_size, newest_archive = subscription_size(session, scopes[0], now, limit, archive_size)
    statement = latest_posts_statement(scopes, now, page_size + 1, spec.before).options(
        *POST_RELATIONS
    )
    posts = session.scalars(statement).all()
    next_page = None
    if len(posts) > page_size:
        posts = posts[:page_size]
        last = posts[-1]
        if last.published is None:
            raise RuntimeError("a post in a feed is published")
        next_page = PageCursor(last.published, last.id)
    records = tuple(post_record(post) for post in posts)
    if spec.before is not None:
        # An older page only changes with a write: scheduled posts are newer than any cursor.
        return FeedContent(named, records, next_page=next_page, scopes=scopes)
    since = now - deleted_window
    deletions = _recent_deletions(scopes, since, limit)
    next_due = _earliest(
        session,
        (
            select(func.min(ScopeEntry.published)).where(
                ScopeEntry.scope == scope, ScopeEntry.published > now
            )
            for scope in scopes
        ),
    )
    oldest_deletion = _earliest(
        session,
        (
            select(func.min(DeletedEntry.deleted)).where(
                DeletedEntry.scope == scope, DeletedEntry.deleted > since
            )
            for scope in scopes
        ),
    )
    changes = [next_due, oldest_deletion + deleted_window if oldest_deletion else None]
    return FeedContent(
        terms=named,
        posts=records,
        next_page=next_page,
        deletions=tuple(
            Deletion(entry_id, deleted, link)
            for deleted, entry_id, link in session.execute(deletions)
        ),
        valid_until=min((c for c in changes if c is not None), default=None),
        scopes=scopes,
        prev_archive=newest_archive if spec.format in ARCHIVE_FORMATS else None,
    )


def archive_content(
    session: Session, scope: str, terms: tuple[Term, ...], number: int
) -> FeedContent:
    """Sealed archive ``number`` of ``scope``, newest first: the index range between its
    bound and the previous one, and whether a newer archive is sealed; UnknownArchive if it
    is not sealed. Archives carry no tombstones: the subscription document does."""
    bounds = {
        bound.number: bound
        for bound in session.scalars(
            select(ArchiveBound).where(
                ArchiveBound.scope == scope,
                ArchiveBound.number.in_([number - 1, number, number + 1]),
            )
        )
    }
    if number not in bounds:
        newest = session.scalar(newest_archive_number(scope))
        sealed = f"its archives are 1 to {newest}" if newest else "it has none yet"
        raise UnknownArchive(f"no archive {number} of this feed ({sealed})")
    lower = bounds.get(number - 1)
    if number > 1 and lower is None:
        raise RuntimeError(f"archive {number - 1} of {scope} has its bound")
    statement = (
        post_query()
        .join(ScopeEntry, ScopeEntry.post_id == Post.id)
        .where(
            *archive_range(
                scope, bound_position(lower) if lower else None, bound_position(bounds[number])
            )
        )
        .order_by(*_NEWEST_FIRST)
    )
    return FeedContent(
        terms=terms,
        posts=tuple(post_record(post) for post in session.scalars(statement)),
        scopes=(scope,),
        prev_archive=number - 1 if number > 1 else None,
        next_archive=number + 1 if number + 1 in bounds else None,
        sealed=True,
    )


def _recent_deletions(
    scopes: Sequence[str], since: datetime, limit: int
) -> Select[datetime, str, str]:
    """The newest ``limit`` deletions after ``since`` in any of ``scopes``, newest first:
    a post deleted from several of them once (its tombstones share a time and a link)."""
    walks = [
        select(DeletedEntry.deleted, DeletedEntry.entry_id, DeletedEntry.link)
        .where(DeletedEntry.scope == scope, DeletedEntry.deleted > since)
        .order_by(DeletedEntry.deleted.desc())
        .limit(limit)
        for scope in scopes
    ]
    if len(walks) == 1:
        return walks[0]
    parts = [walk.subquery() for walk in walks]
    merged = union(*(select(p.c.deleted, p.c.entry_id, p.c.link) for p in parts)).subquery()
    return (
        select(merged.c.deleted, merged.c.entry_id, merged.c.link)
        .order_by(merged.c.deleted.desc(), merged.c.entry_id)
        .limit(limit)
    )


def _earliest(session: Session, statements: Iterable[Select[datetime]]) -> datetime | None:
    """The earliest of the times these one-scope MIN() reads give (each one index seek)."""
    times = [session.scalar(statement) for statement in statements]
    return min((time for time in times if time is not None), default=None)


def post_record(post: Post) -> PostRecord:
    """A published post (loaded with post_query's relations) as plain values."""
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
        image=post_image(post),
        enclosures=tuple(Enclosure(e.url, e.media_type, e.length) for e in post.enclosures),
    )


def term_slugs(
    session: Session, terms: Iterable[tuple[ScopeKind, int]]
) -> dict[tuple[ScopeKind, int], str]:
    """The slugs of those of these categories, tags and authors (kind, id) that still
    exist."""
    wanted: dict[ScopeKind, set[int]] = {}
    for kind, term_id in terms:
        wanted.setdefault(kind, set()).add(term_id)
    slugs = {}
    for kind, ids in wanted.items():
        model = TERM_MODELS[kind]
        rows = session.execute(select(model.id, model.slug).where(model.id.in_(ids)))
        slugs.update({(kind, term_id): slug for term_id, slug in rows})
    return slugs


def listed_terms(session: Session, now: datetime, tag_min_posts: int) -> list[ListedTerm]:
    """The tags and authors whose feeds the site lists, and in which languages: a tag's
    feed (of every language, or of one) once it has ``tag_min_posts`` posts visible at
    ``now``, an author's once it has one.

    Each scope the store ever had (its revision row) is probed in the index for its
    ``tag_min_posts``-th visible post: a seek and a walk of that many rows per scope, so the
    cost grows with the number of tags and authors, not of posts (counting every tagged
    post took 0.5 s at a million posts)."""
    listed = []
    for kind, least in ((ScopeKind.TAG, max(tag_min_posts, 1)), (ScopeKind.AUTHOR, 1)):
        prefix = f"{KIND_PREFIX[kind]}:"
        enough = (
            select(ScopeEntry.post_id)
            .where(ScopeEntry.scope == ScopeRevision.scope, ScopeEntry.published <= now)
            .order_by(ScopeEntry.published.desc())
            .limit(1)
            .offset(least - 1)
        )
        scopes = session.scalars(
            select(ScopeRevision.scope).where(
                ScopeRevision.scope > prefix,
                ScopeRevision.scope < prefix[:-1] + chr(ord(":") + 1),
                enough.exists(),
            )
        )
        languages: dict[int, list[str | None]] = {}
        for scope in scopes:
            _, term_id, language = scope_parts(scope)
            if term_id is not None:
                languages.setdefault(term_id, []).append(language)
        model = TERM_MODELS[kind]
        names = session.execute(select(model.id, model.slug, model.name).order_by(model.slug))
        listed += [
            ListedTerm(kind, Term(slug, name), tuple(sorted(languages[term_id], key=_language)))
            for term_id, slug, name in names
            if term_id in languages
        ]
    return listed


def _language(language: str | None) -> tuple[bool, str]:
    """Every language first, then the languages by code."""
    return language is not None, language or ""


def post_image(post: Post) -> Image | None:
    """The post's image, if it has one."""
    if post.image_url is None:
        return None
    return Image(post.image_url, post.image_alt or "", post.image_width, post.image_height)


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
