"""What a feed shows, as the store read it: plain values with no database behind them.

The store's queries fill these in; describing a feed (feeds.render) reads only them, so
rendering never touches the database and never needs its models.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from feeds.serving.spec import PageCursor, ScopeKind


@dataclass(frozen=True, slots=True)
class Term:
    """A category, a tag or an author: its slug and its display name."""

    slug: str
    name: str


@dataclass(frozen=True, slots=True)
class Person:
    """An author of a post."""

    name: str
    email: str | None = None
    uri: str | None = None


@dataclass(frozen=True, slots=True)
class Image:
    """A post's image: an absolute http(s) URL, its alt text, and its size in pixels if known."""

    url: str
    alt: str = ""
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class Enclosure:
    """A file that goes with a post (a podcast's audio): absolute http(s) URL, media type
    (``audio/mpeg``) and length in bytes if known."""

    url: str
    media_type: str
    length: int | None = None


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
    image: Image | None = None
    enclosures: tuple[Enclosure, ...] = ()


@dataclass(frozen=True, slots=True)
class Deletion:
    """A post deleted from a feed's scope (an RFC 6721 tombstone): its entry id, when, and
    the address it had."""

    entry_id: str
    deleted: datetime
    link: str


@dataclass(frozen=True, slots=True)
class FeedContent:
    """What a feed shows: the categories, tag or author it is of (none for the site's), its
    posts newest first, and the posts deleted from it lately (newest first); ``next_page``
    is the cursor of the next, older page if there is one. ``valid_until`` is when it next
    changes with no write (a scheduled post falls due, a tombstone ages out), if ever.
    ``scopes`` are the store's keys of the feed scopes it was read from
    (feeds.store.scopes): one, or one per category of a combined feed.

    RFC 5005 archives: ``prev_archive`` is the number of the archive before this document
    (on a subscription document, the newest sealed one), ``next_archive`` the one after it
    if it is sealed; ``sealed`` says this is a sealed archive, whose range never moves
    (only an edit of one of its posts changes it)."""

    terms: tuple[Term, ...]
    posts: tuple[PostRecord, ...]
    next_page: PageCursor | None = None
    deletions: tuple[Deletion, ...] = ()
    valid_until: datetime | None = None
    scopes: tuple[str, ...] = ("site",)
    prev_archive: int | None = None
    next_archive: int | None = None
    sealed: bool = False

    @property
    def final(self) -> bool:
        """Whether this is an archive whose bytes are final: sealed, and linking the next
        one, so that no link is left to add (caches may keep it for good)."""
        return self.sealed and self.next_archive is not None


@dataclass(frozen=True, slots=True)
class ListedTerm:
    """A category, tag or author whose feeds the site lists, in these languages (None: the
    feed of every language)."""

    kind: ScopeKind
    term: Term
    languages: tuple[str | None, ...]
