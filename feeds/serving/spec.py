"""FeedSpec: which feed is asked for (scope, language, format), and its path in the URL scheme.

The URL scheme, the one place it is written down in code:

    /feeds/all.{atom,rss}                       every post, every language
    /feeds/category/<slug>.{atom,rss}           one category, every language
    /<lang>/feeds/all.{atom,rss}                one language
    /<lang>/feeds/category/<slug>.{atom,rss}    one category in one language
    /feeds/all/archive/<n>.{atom,rss}           archive n of the site feed (RFC 5005)
    /feeds/category/<slug>/archive/<n>.{atom,rss}   archive n of a category's feed
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from urllib.parse import parse_qs

from feeds.settings import Settings
from feeds.text import printable


class FeedFormat(StrEnum):
    """The syndication formats feeds emits; the value is the file extension."""

    ATOM = "atom"
    RSS = "rss"

    @property
    def mime_type(self) -> str:
        """The format's media type, as links name it (``application/atom+xml``)."""
        return f"application/{self.value}+xml"

    @property
    def media_type(self) -> str:
        """The Content-Type feed readers expect for this format."""
        return f"{self.mime_type}; charset=utf-8"

    @property
    def label(self) -> str:
        """The format's name as people know it: Atom, RSS."""
        return _FORMAT_LABELS[self]


_FORMAT_LABELS = {FeedFormat.ATOM: "Atom", FeedFormat.RSS: "RSS"}


class FeedNotFound(LookupError):
    """A feed URL names something that does not exist; the message says what."""


class UnknownFormat(FeedNotFound):
    pass


class UnknownLanguage(FeedNotFound):
    pass


class UnknownCategory(FeedNotFound):
    pass


class UnknownArchive(FeedNotFound):
    pass


class BadPageCursor(ValueError):
    """A query parameter (``field``: ``before`` on feeds) that is not a page cursor feeds made."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


@dataclass(frozen=True, slots=True, order=True)
class PageCursor:
    """Where an older page of a feed starts: below this (published, post id) position.

    Pages are keyset pages (RFC 5005 paged feeds): reading any page is the same index range
    scan as reading the first, however deep it is.
    """

    published: datetime
    post_id: int

    @classmethod
    def parse(cls, text: str, field: str = "before") -> PageCursor:
        """The cursor written by ``str(cursor)``: ``<microseconds since 1970>-<post id>``,
        the microseconds negative for a post dated before 1970. BadPageCursor, naming the
        query parameter ``field``, for anything else or for a position no post can have."""
        found = _CURSOR.fullmatch(text)
        if found is None:
            raise BadPageCursor(field, f"{printable(text)!r} is not a page cursor")
        micros, post_id = int(found["micros"]), int(found["post_id"])
        if not (_MIN_MICROS <= micros <= _MAX_MICROS and 0 < post_id <= MAX_POST_ID):
            raise BadPageCursor(field, f"{text!r} is out of range")
        return cls(_EPOCH + timedelta(microseconds=micros), post_id)

    def __str__(self) -> str:
        return f"{(self.published - _EPOCH) // timedelta(microseconds=1)}-{self.post_id}"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR = re.compile(r"(?P<micros>-?[0-9]{1,19})-(?P<post_id>[0-9]{1,19})", re.ASCII)
# The positions a post can have: a date from year 1 to 9999, a database integer id.
_MIN_MICROS = (datetime.min.replace(tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)
_MAX_MICROS = (datetime.max.replace(tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)
MAX_POST_ID = 2**63 - 1
_FEED_PATH = re.compile(
    r"(?:/(?P<language>[^/]+))?/feeds/(?:all|category/(?P<category>[^/]+))"
    r"(?:/archive/(?P<archive>[^/]+))?\.(?P<format>[^/]+)"
)
# Archive numbers as feeds writes them: no sign, no leading zero, and below 10**9, which
# every database's integer holds.
_ARCHIVE_NUMBER = re.compile(r"[1-9][0-9]{0,8}", re.ASCII)


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """Which feed: an optional category, an optional language, a format, and a page
    (the newest posts when ``before`` is None, else those older than the cursor), or, with
    ``archive``, that numbered archive document of the site or category feed."""

    format: FeedFormat
    category: str | None = None
    language: str | None = None
    before: PageCursor | None = None
    archive: int | None = None

    @classmethod
    def parse(
        cls,
        settings: Settings,
        fmt: str,
        category: str | None = None,
        language: str | None = None,
        before: str | None = None,
        archive: str | None = None,
    ) -> FeedSpec:
        """Turn the parts of a feed URL into a spec, refusing unknown formats and languages,
        (BadPageCursor) a malformed page cursor, and (UnknownArchive) an archive number
        feeds never writes or an archive of a feed that has none.

        Whether the category, or the archive, exists is for the store to say.
        """
        try:
            feed_format = FeedFormat(fmt)
        except ValueError:
            known = ", ".join(f.value for f in FeedFormat)
            raise UnknownFormat(f"unknown feed format {fmt!r} (known: {known})") from None
        if language is not None and language not in settings.languages:
            raise UnknownLanguage(f"unknown language {language!r}")
        cursor = PageCursor.parse(before) if before is not None else None
        number = _archive_number(archive, feed_format, language, cursor)
        return cls(feed_format, category, language, cursor, number)

    @classmethod
    def from_url(cls, settings: Settings, path: str, query: str = "") -> FeedSpec | None:
        """The spec of a feed URL (its path and query string), None for a path outside the
        feed URL scheme. The query's ``before`` is the page cursor.

        Only configured languages prefix feed URLs: ``/api/feeds/all.atom`` is not a feed.
        Refuses, like ``parse``, unknown formats and a malformed cursor."""
        found = _FEED_PATH.fullmatch(path)
        if found is None or (found["language"] and found["language"] not in settings.languages):
            return None
        before = parse_qs(query).get("before") if query else None
        return cls.parse(
            settings,
            found["format"],
            found["category"],
            found["language"],
            before[0] if before else None,
            found["archive"],
        )

    @property
    def path(self) -> str:
        """The path of this feed in the URL scheme above (with ``?before=`` for older pages)."""
        prefix = f"/{self.language}" if self.language else ""
        name = f"category/{self.category}" if self.category else "all"
        if self.archive is not None:
            name += f"/archive/{self.archive}"
        page = f"?before={self.before}" if self.before else ""
        return f"{prefix}/feeds/{name}.{self.format.value}{page}"

    def page(self, before: PageCursor | None) -> FeedSpec:
        """The same feed, at another page (None: the first, newest page)."""
        return replace(self, before=before)

    def at_archive(self, number: int | None) -> FeedSpec:
        """The same feed's archive ``number``; None: its subscription document (the first
        page, which RFC 5005 archive documents call ``current``)."""
        return replace(self, before=None, archive=number)

    @property
    def scope(self) -> str:
        """What the feed covers, in one word: site, category, language or category+language."""
        if self.category and self.language:
            return "category+language"
        if self.category:
            return "category"
        if self.language:
            return "language"
        return "site"


# The formats archive documents come in (RFC 5005 defines them for Atom and RSS 2.0).
ARCHIVE_FORMATS = frozenset({FeedFormat.ATOM, FeedFormat.RSS})


def _archive_number(
    text: str | None, feed_format: FeedFormat, language: str | None, before: PageCursor | None
) -> int | None:
    """The archive number of a feed URL (None: not an archive); UnknownArchive for one
    feeds never writes, UnknownFormat for an archive in a format archives do not come in,
    BadPageCursor for a page of an archive."""
    if text is None:
        return None
    if _ARCHIVE_NUMBER.fullmatch(text) is None:
        raise UnknownArchive(f"no archive {printable(text)!r}: archives are numbered from 1")
    if language is not None:
        raise UnknownArchive("only the site and category feeds (every language) have archives")
    if feed_format not in ARCHIVE_FORMATS:
        known = ", ".join(sorted(f.value for f in ARCHIVE_FORMATS))
        raise UnknownFormat(f"archives come as {known}, not {feed_format.value!r}")
    if before is not None:
        raise BadPageCursor("before", "an archive is one document, not paged")
    return int(text)


def every_feed(settings: Settings, category_slugs: Iterable[str]) -> list[FeedSpec]:
    """Every feed the site has: site, each language, each category, each category × language,
    each in every format."""
    return [
        FeedSpec(fmt, category, language)
        for category in [None, *category_slugs]
        for language in [None, *settings.languages]
        for fmt in FeedFormat
    ]
