"""FeedDocument: what a feed says, as plain values, whatever the format that writes it.

``describe`` (feeds.render.describe) decides it; each writer only serialises it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from feeds.serving.content import Enclosure, Image, Person


@dataclass(frozen=True, slots=True)
class Link:
    """A typed link: ``rel`` is self, alternate, first, next, hub…; ``hreflang`` the
    language of what it points to, ``title`` what people call it."""

    href: str
    rel: str
    media_type: str | None = None
    hreflang: str | None = None
    title: str | None = None


@dataclass(frozen=True, slots=True)
class Category:
    """A category of an entry: its term (slug), its label, and the scheme it belongs to."""

    term: str
    label: str
    scheme: str | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry. ``summary`` is plain text; ``content_html`` is cleaned HTML (empty when
    the post has none), already marked with its direction for right-to-left languages.
    ``image`` is the post's own picture; ``enclosures`` the files that go with it, in order."""

    id: str
    title: str
    link: Link
    published: datetime
    updated: datetime
    summary: str
    content_html: str
    language: str
    authors: tuple[Person, ...]
    categories: tuple[Category, ...]
    image: Image | None = None
    enclosures: tuple[Enclosure, ...] = ()


@dataclass(frozen=True, slots=True)
class Tombstone:
    """An entry deleted from the feed (RFC 6721): its id, when, and where it was."""

    ref: str
    when: datetime
    link: str


@dataclass(frozen=True, slots=True)
class FeedDocument:
    """A whole feed: its identity, title, language, links, update time, entries (newest
    first) and tombstones.

    ``links`` holds every feed-level link: self (the document's own URL), alternate (the
    blog page it mirrors), hub (each WebSub hub, on the first page), first/next for
    RFC 5005 pages, and current/prev-archive/next-archive for RFC 5005 archives;
    ``archive`` marks an archive document (``<fh:archive/>``).

    ``page`` is the feed's own HTML page, in its language (``rel="alternate"
    type="text/html" hreflang``), and ``versions`` the feed to subscribe to in each format
    and, for a first page, its other languages' pages: what the page offers people, with a link
    to ``service_url``, the root of feeds' own URLs (where every feed is listed).
    """

    id: str
    title: str
    subtitle: str
    language: str
    direction: str
    updated: datetime
    links: tuple[Link, ...]
    author: Person
    generator: str
    ttl_minutes: int
    entries: tuple[Entry, ...]
    page: Link
    service_url: str
    versions: tuple[Link, ...] = ()
    tombstones: tuple[Tombstone, ...] = ()
    archive: bool = False

    def link(self, rel: str) -> Link | None:
        """The first link with this relation, if any."""
        return next((link for link in self.links if link.rel == rel), None)

    @property
    def header_links(self) -> tuple[Link, ...]:
        """The links an HTTP answer repeats in its Link header (WebSub discovery): each hub,
        then self."""
        return tuple(link for link in self.links if link.rel == "hub") + tuple(
            link for link in self.links if link.rel == "self"
        )
