"""The post store's tables, as SQLAlchemy 2 typed models.

Relationships are ``lazy="raise"``: every query says what it loads, so that rendering a
feed can never issue a hidden query per entry.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from feeds.serving.spec import ScopeKind
from feeds.store.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class PostStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


def _post_link_table(name: str, column: str, target: str) -> Table:
    """A many-to-many table from posts to ``target``, indexed both ways."""
    return Table(
        name,
        Base.metadata,
        Column("post_id", ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
        Column(column, ForeignKey(target, ondelete="CASCADE"), primary_key=True),
        Index(f"ix_{name}_{column}", column),
    )


post_categories = _post_link_table("post_categories", "category_id", "categories.id")
post_authors = _post_link_table("post_authors", "author_id", "authors.id")
post_tags = _post_link_table("post_tags", "tag_id", "tags.id")


class Category(Base):
    __tablename__ = "categories"
    # Ids never reused (see Post): a category's feed scopes (cat:<id>) keep their revisions
    # and tombstones after it is deleted, and must not pass to a new category.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class Tag(Base):
    """A free-form label (WordPress tags): shown as a category of the entry, and a feed scope
    of its own."""

    __tablename__ = "tags"
    __table_args__ = {"sqlite_autoincrement": True}  # ids never reused: feed scopes tag:<id>

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class Author(Base):
    __tablename__ = "authors"
    # Ids never reused: /api/authors/<id>, and the feed scopes author:<id>.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # The author's feed URL's word (/feeds/author/<slug>.atom), made from the name once.
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    uri: Mapped[str | None] = mapped_column(String(2000))


class Post(Base):
    """A blog post. ``entry_id`` is its feed identity: set once, never changed."""

    __tablename__ = "posts"
    # On SQLite, AUTOINCREMENT: a deleted post's id is never handed out again, so an old
    # /api/posts/<id> URL cannot come to name another post (PostgreSQL's sequences never do).
    __table_args__ = (UniqueConstraint("language", "slug"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(2000), unique=True)
    # The publisher's own id for the post (a CMS key), for upserts; optional.
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(1000))
    summary: Mapped[str] = mapped_column(Text, default="")
    content_html: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(35))
    status: Mapped[PostStatus] = mapped_column(
        Enum(
            PostStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]
        )
    )
    published: Mapped[datetime | None]
    updated: Mapped[datetime]
    created: Mapped[datetime]
    # The post's image: columns, not a table, since a post has at most one and every feed
    # shows it; no join or extra query for it. Width and height in pixels, if known.
    image_url: Mapped[str | None] = mapped_column(String(2000))
    image_alt: Mapped[str | None] = mapped_column(String(1000))
    image_width: Mapped[int | None] = mapped_column(Integer)
    image_height: Mapped[int | None] = mapped_column(Integer)

    categories: Mapped[list[Category]] = relationship(
        secondary=post_categories, lazy="raise", order_by=Category.slug
    )
    authors: Mapped[list[Author]] = relationship(
        secondary=post_authors, lazy="raise", order_by=Author.name
    )
    tags: Mapped[list[Tag]] = relationship(secondary=post_tags, lazy="raise", order_by=Tag.slug)
    # Deleted with the post by the database (ON DELETE CASCADE), without loading them.
    enclosures: Mapped[list[PostEnclosure]] = relationship(
        lazy="raise",
        order_by="PostEnclosure.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @validates("entry_id")
    def _keep_entry_id(self, _key: str, entry_id: str) -> str:
        if self.entry_id is not None and entry_id != self.entry_id:
            raise ValueError("a post's entry id never changes")
        return entry_id


class PostEnclosure(Base):
    """A file that goes with a post (RSS <enclosure>, Atom rel="enclosure"), in its order."""

    __tablename__ = "post_enclosures"

    post_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    media_type: Mapped[str] = mapped_column(String(255))
    length: Mapped[int | None] = mapped_column(BigInteger)  # bytes, if known


# Where the admin API lists a post, newest first: its publication date or, for a draft
# without one, when it was created; posts at the same time by id. Indexed, so that every page
# of the listing is one index range scan (a keyset page, like the feeds' older pages).
post_listing_date = func.coalesce(Post.published, Post.created)
Index("ix_posts_listing", post_listing_date, Post.id)


class ScopeEntry(Base):
    """One row per (feed scope, visible post): the index every feed query reads.

    A published post has a row in the site scope, and in the scope of each of its
    categories, tags and authors, each alone and with its language. Drafts have none. Reading the
    latest N posts of any scope is then one range scan of the primary key, newest first,
    whatever the store's size; a future-dated row is skipped by the same range condition
    until it is due.
    """

    __tablename__ = "scope_entries"

    scope: Mapped[str] = mapped_column(String(300), primary_key=True)
    published: Mapped[datetime] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )

    # In SQLite the primary key is then the table itself, ordered: one B-tree, no rowid.
    __table_args__ = (Index("ix_scope_entries_post_id", "post_id"), {"sqlite_with_rowid": False})


class DeletedEntry(Base):
    """A deleted post's tombstone in each scope it was in (RFC 6721 at:deleted-entry).

    Keyed like ScopeEntry, so that a feed reads its recent deletions with the same range scan.
    """

    __tablename__ = "deleted_entries"
    __table_args__ = (
        Index("ix_deleted_entries_entry_id", "entry_id"),
        {"sqlite_with_rowid": False},
    )

    scope: Mapped[str] = mapped_column(String(300), primary_key=True)
    deleted: Mapped[datetime] = mapped_column(primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(2000), primary_key=True)
    link: Mapped[str] = mapped_column(String(2000))


class ArchiveBound(Base):
    """Where a scope's sealed archive ``number`` ends (RFC 5005 archived feeds).

    Archive n holds the scope's ScopeEntry rows after archive n-1's bound, up to and
    including its own (``last_published``, ``last_post_id``), ascending. A bound is written
    once, when the scope has enough posts after the previous one (feeds.store.archives),
    and never moves: the archive keeps its URL and its range for ever.
    """

    __tablename__ = "archive_bounds"
    __table_args__ = {"sqlite_with_rowid": False}

    scope: Mapped[str] = mapped_column(String(300), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_published: Mapped[datetime]
    last_post_id: Mapped[int] = mapped_column(Integer)
    sealed: Mapped[datetime]


class ScopeRevision(Base):
    """How many times a scope's content changed, and when it last did.

    Every write moves the revision of each scope it touches, and of the ``store`` scope.
    """

    __tablename__ = "scope_revisions"

    scope: Mapped[str] = mapped_column(String(300), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)
    changed: Mapped[datetime]


class OutboxChange(Base):
    """A feed scope a write changed, for the senders (WebSub hubs, cache purges) to announce.

    Written in the write's own transaction (feeds/store/index.py::touch_scopes), so that a
    crash between the write and the announcement loses nothing; each sender reads the rows
    past its own cursor (OutboxTarget).
    """

    __tablename__ = "outbox_changes"
    __table_args__ = {"sqlite_autoincrement": True}  # ids only grow: cursors rely on it

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(300))
    recorded: Mapped[datetime]


class OutboxTarget(Base):
    """One sender's progress through the outbox: its cursor, its retries, and its lease.

    A sender claims its target with a conditional UPDATE of ``leased_until`` (one process
    at a time, on SQLite and PostgreSQL alike, without holding a transaction open across
    the HTTP request), delivers the changes past ``delivered_id``, and moves the cursor.
    """

    __tablename__ = "outbox_targets"

    name: Mapped[str] = mapped_column(String(300), primary_key=True)
    delivered_id: Mapped[int] = mapped_column(Integer)
    delivered: Mapped[int] = mapped_column(Integer, default=0)  # changes delivered, ever
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # failed tries of the next batch
    next_attempt: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    leased_until: Mapped[datetime | None]
    leased_by: Mapped[str | None] = mapped_column(String(200))


class OutboxFailure(Base):
    """Changes a sender gave up on after its last try: kept for the CLI and /metrics."""

    __tablename__ = "outbox_failures"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(String(300), index=True)
    first_id: Mapped[int] = mapped_column(Integer)
    last_id: Mapped[int] = mapped_column(Integer)
    scopes: Mapped[str] = mapped_column(Text)  # space-separated
    attempts: Mapped[int] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(Text)
    failed: Mapped[datetime]


class StoreMeta(Base):
    """Facts about the store as a whole (``wordpress_imported``), as text."""

    __tablename__ = "store_meta"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class SubscriberReport(Base):
    """The latest subscriber count an aggregator reported for a feed on a day (UTC): one row
    per (feed, service, the service's feed id, day), whoever wrote it (feeds.store.subscribers)."""

    __tablename__ = "subscriber_reports"
    __table_args__ = {"sqlite_with_rowid": False}

    feed: Mapped[str] = mapped_column(String(500), primary_key=True)
    service: Mapped[str] = mapped_column(String(100), primary_key=True)
    service_feed_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    subscribers: Mapped[int] = mapped_column(Integer)
    reported: Mapped[datetime]


class FeedReader(Base):
    """A reader that polled a feed on a day (UTC) without reporting a count: a keyed hash
    of its address and User-Agent under that day's key, never the address itself."""

    __tablename__ = "feed_readers"
    __table_args__ = {"sqlite_with_rowid": False}

    feed: Mapped[str] = mapped_column(String(500), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    reader: Mapped[str] = mapped_column(String(64), primary_key=True)


STORE_SCOPE = "store"
# StoreMeta key, set to "yes" once a WordPress export has been imported.
WORDPRESS_IMPORTED = "wordpress_imported"
# StoreMeta key: the time up to which scheduled posts that fell due were announced.
OUTBOX_DUE_UNTIL = "outbox_due_until"
# StoreMeta key prefix of each day's reader hash key: subscriber_key:2026-12-14.
SUBSCRIBER_KEY_PREFIX = "subscriber_key:"

# The table of each kind of term a feed scope names.
TERM_MODELS: dict[ScopeKind, type[Category] | type[Tag] | type[Author]] = {
    ScopeKind.CATEGORY: Category,
    ScopeKind.TAG: Tag,
    ScopeKind.AUTHOR: Author,
}
