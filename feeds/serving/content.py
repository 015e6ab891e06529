"""What a feed shows, as the store read it: plain values with no database behind them.

The store's queries fill these in; describing a feed (feeds.render) reads only them, so
rendering never touches the database and never needs its models.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from feeds.serving.spec import PageCursor


@dataclass(frozen=True, slots=True)
class Term:
    """A category or a tag: its slug and its display name."""

    slug: str
    name: str


@dataclass(frozen=True, slots=True)
class Person:
    """An author of a post."""

    name: str
    email: str | None = None
    uri: str | None = None


@dataclass(frozen=True, slots=True)
class PostRecord:
    """A published post as feeds show it. ``entry_id`` never changes."""

    id: int
    entry_id: str
    slug: str
    title: str
    summary: str
    content_html: str
    language: str
    published: datetime
    updated: datetime
    categories: tuple[Term, ...] = ()
    tags: tuple[Term, ...] = ()
    authors: tuple[Person, ...] = ()


@dataclass(frozen=True, slots=True)
class Deletion:
    """A post deleted from a feed's scope (an RFC 6721 tombstone): its entry id, when, and
    the address it had."""

    entry_id: str
    deleted: datetime
    link: str


@dataclass(frozen=True, slots=True)
class FeedContent:
    """What a feed shows: its category (if it has one), its posts newest first, and the
    posts deleted from it lately (newest first); ``next_page`` is the cursor of the next,
    older page if there is one. ``valid_until`` is when it next changes with no write (a
    scheduled post falls due, a tombstone ages out), if ever. ``scope`` is the store's key
    of the feed scope it was read from (feeds.store.index.scope_key).

    RFC 5005 archives: ``prev_archive`` is the number of the archive before this document
    (on a subscription document, the newest archive), ``next_archive`` the one after (on an
    archive document); ``sealed`` says this is an archive whose range is sealed, which
    only an edit of one of its posts changes."""

    category: Term | None
    posts: tuple[PostRecord, ...]
    next_page: PageCursor | None = None
    deletions: tuple[Deletion, ...] = ()
    valid_until: datetime | None = None
    scope: str = "site"
    prev_archive: int | None = None
    next_archive: int | None = None
    sealed: bool = False
