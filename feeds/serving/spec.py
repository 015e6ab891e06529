"""FeedSpec: which feed is asked for (scope, language, format), and its path in the URL scheme.

The URL scheme, the one place it is written down in code:

    /feeds/all.{atom,rss,json}                       every post, every language
    /feeds/category/<slug>.{atom,rss,json}           one category, every language
    /feeds/category/<a>+<b>.{atom,rss,json}          posts in any of these categories
    /feeds/tag/<slug>.{atom,rss,json}                one tag
    /feeds/author/<slug>.{atom,rss,json}             one author
    /<lang>/feeds/…                             any of the above, in one language
    /feeds/all/archive/<n>.{atom,rss}                archive n of the site feed (RFC 5005)
    /feeds/category/<slug>/archive/<n>.{atom,rss}    archive n of one category's feed

Each of them also as ``.html``: the feed's page, for people (feeds.render.page).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from urllib.parse import parse_qs

from feeds.settings import Settings
from feeds.text import printable


class FeedFormat(StrEnum):
    """The formats a feed comes in: the syndication formats, and its HTML page for people;
    the value is the file extension."""

    ATOM = "atom"
    RSS = "rss"
    JSON = "json"
    HTML = "html"

    @property
    def syndication(self) -> bool:
        """Whether feed readers read this format (every one but the HTML page)."""
        return self is not FeedFormat.HTML

    @property
    def mime_type(self) -> str:
        """The format's media type, as links name it (``application/atom+xml``)."""
        return _MIME_TYPES[self]

    @property
    def media_type(self) -> str:
        """The Content-Type feed readers expect for this format."""
        return f"{self.mime_type}; charset=utf-8"

    @property
    def label(self) -> str:
        """The format's name as people know it: Atom, RSS, JSON Feed."""
        return _FORMAT_LABELS[self]


_MIME_TYPES = {
    FeedFormat.ATOM: "application/atom+xml",
    FeedFormat.RSS: "application/rss+xml",
    FeedFormat.JSON: "application/feed+json",
    FeedFormat.HTML: "text/html",
}
_FORMAT_LABELS = {
    FeedFormat.ATOM: "Atom",
    FeedFormat.RSS: "RSS",
    FeedFormat.JSON: "JSON Feed",
    FeedFormat.HTML: "HTML",
}
# The formats feed readers subscribe to, in the order lists of feeds give them.
SYNDICATION_FORMATS = tuple(fmt for fmt in FeedFormat if fmt.syndication)
# The formats archive documents come in (RFC 5005 defines them for Atom and RSS 2.0), and
# their pages.
ARCHIVE_FORMATS = frozenset({FeedFormat.ATOM, FeedFormat.RSS, FeedFormat.HTML})


class FeedNotFound(LookupError):
    """A feed URL names something that does not exist; the message says what."""


class UnknownFormat(FeedNotFound):
    pass


class UnknownLanguage(FeedNotFound):
    pass


class UnknownCategory(FeedNotFound):
    pass


class UnknownTag(FeedNotFound):
    pass


class UnknownAuthor(FeedNotFound):
    pass


class BadCombination(ValueError):
    """A combined category feed that cannot be: too many categories, one named twice or
    unknown, an empty slug."""


class FeedMoved(Exception):
    """A feed asked for by a URL other than its own (categories out of their canonical
    order): ``spec`` is the same feed, at its one URL."""

    def __init__(self, spec: FeedSpec) -> None:
        super().__init__(f"this feed's URL is {spec.path}")
        self.spec = spec


class ScopeKind(StrEnum):
    """What a feed covers; the value is the word its URL uses."""

    SITE = "all"
    CATEGORY = "category"
    TAG = "tag"
    AUTHOR = "author"


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
    r"(?:/(?P<language>[^/]+))?/feeds/"
    r"(?:all|(?P<kind>category|tag|author)/(?P<slugs>[^/]+))"
    r"(?:/archive/(?P<archive>[^/]+))?\.(?P<format>[^/]+)"
)
# Joins the categories of a combined feed in its URL; category slugs never hold it.
COMBINING = "+"
# Archive numbers as feeds writes them: no sign, no leading zero, and below 10**9, which
# every database's integer holds.
_ARCHIVE_NUMBER = re.compile(r"[1-9][0-9]{0,8}", re.ASCII)


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """Which feed: what it covers (``kind``, and the slugs of its category, categories, tag
    or author), an optional language, a format, and a page (the newest posts when
    ``before`` is None, else those older than the cursor), or, with ``archive``, that
    numbered archive document of the site or a category feed."""

    format: FeedFormat
    kind: ScopeKind = ScopeKind.SITE
    slugs: tuple[str, ...] = ()
    language: str | None = None
    before: PageCursor | None = None
    archive: int | None = None

    @classmethod
    def parse(
        cls,
        settings: Settings,
        fmt: str,
        kind: ScopeKind = ScopeKind.SITE,
        slugs: str | None = None,
        language: str | None = None,
        before: str | None = None,
        archive: str | None = None,
    ) -> FeedSpec:
        """Turn the parts of a feed URL into a spec, refusing unknown formats and languages,
        (BadPageCursor) a malformed page cursor, (BadCombination) categories combined
        beyond ``max_combined_categories``, named twice or left empty, and (UnknownArchive)
        an archive number feeds never writes or an archive of a feed that has none;
        FeedMoved when the categories are not in their canonical (sorted) order.

        Whether the categories, tag, author or archive exist is for the store to say.
        """
        try:
            feed_format = FeedFormat(fmt)
        except ValueError:
            known = ", ".join(f.value for f in FeedFormat)
            raise UnknownFormat(f"unknown feed format {fmt!r} (known: {known})") from None
        if language is not None and language not in settings.languages:
            raise UnknownLanguage(f"unknown language {language!r}")
        cursor = PageCursor.parse(before) if before is not None else None
        names = _slugs_of(settings, kind, slugs) if slugs is not None else ()
        spec = cls(feed_format, kind, names, language, cursor)
        if archive is not None:
            spec = replace(spec, archive=_archive_number(archive, spec))
        if names != tuple(sorted(names)):
            raise FeedMoved(replace(spec, slugs=tuple(sorted(names))))
        return spec

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
            ScopeKind(found["kind"] or ScopeKind.SITE),
            found["slugs"],
            found["language"],
            before[0] if before else None,
            found["archive"],
        )

    @property
    def path(self) -> str:
        """The path of this feed in the URL scheme above (with ``?before=`` for older pages)."""
        prefix = f"/{self.language}" if self.language else ""
        name = f"{self.kind.value}/{COMBINING.join(self.slugs)}" if self.slugs else "all"
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

    def as_format(self, fmt: FeedFormat) -> FeedSpec:
        """The same feed (page, archive) in another format."""
        return replace(self, format=fmt)

    @property
    def combined(self) -> bool:
        """Whether the feed combines several categories."""
        return len(self.slugs) > 1

    @property
    def has_archives(self) -> bool:
        """Whether this feed's scope has RFC 5005 archives: the site's and each single
        category's, in every language. Archives are linked and served in ARCHIVE_FORMATS;
        the first page holds the same posts in every format."""
        return (
            self.kind in (ScopeKind.SITE, ScopeKind.CATEGORY)
            and len(self.slugs) <= 1
            and self.language is None
        )

    @property
    def scope(self) -> str:
        """What the feed covers, in one word: site, category, categories (combined), tag or
        author, with ``+language`` for one language (``language`` alone for the site's)."""
        if self.kind is ScopeKind.SITE:
            return "language" if self.language else "site"
        word = "categories" if self.combined else self.kind.name.lower()
        return f"{word}+language" if self.language else word


def _archive_number(text: str, spec: FeedSpec) -> int:
    """The archive number of a feed URL; UnknownArchive for one feeds never writes or an
    archive of a feed that has none, UnknownFormat for a format archives do not come in,
    BadPageCursor for a page of an archive."""
    if _ARCHIVE_NUMBER.fullmatch(text) is None:
        raise UnknownArchive(f"no archive {printable(text)!r}: archives are numbered from 1")
    if spec.format not in ARCHIVE_FORMATS:
        known = ", ".join(sorted(f.value for f in ARCHIVE_FORMATS))
        raise UnknownFormat(f"archives come as {known}, not {spec.format.value!r}")
    if not spec.has_archives:
        raise UnknownArchive(
            "only the site feed and single-category feeds (every language) have archives"
        )
    if spec.before is not None:
        raise BadPageCursor("before", "an archive is one document, not paged")
    return int(text)


def _slugs_of(settings: Settings, kind: ScopeKind, text: str) -> tuple[str, ...]:
    """The slugs a feed URL names: one, or for categories up to the configured number
    joined by ``+``."""
    if kind is not ScopeKind.CATEGORY or COMBINING not in text:
        return (text,)
    slugs = tuple(text.split(COMBINING))
    limit = settings.max_combined_categories
    if len(slugs) > limit:
        raise BadCombination(f"a feed combines at most {limit} categories, not {len(slugs)}")
    if "" in slugs:
        raise BadCombination(f"{printable(text)!r} names an empty category")
    repeated = sorted({slug for slug in slugs if slugs.count(slug) > 1})
    if repeated:
        raise BadCombination(f"category {printable(repeated[0])!r} is named twice")
    return slugs


def every_feed(
    settings: Settings,
    category_slugs: Iterable[str],
    listed: Iterable[tuple[ScopeKind, str, Iterable[str | None]]] = (),
    formats: Sequence[FeedFormat] = SYNDICATION_FORMATS,
) -> list[FeedSpec]:
    """Every feed the site lists, in ``formats``: the site's and each category's, alone
    and in each language; then each ``listed`` (kind, slug, languages) tag or author in
    those languages (None: every language). Combined category feeds are not listed: there
    are too many combinations."""
    languages = [None, *settings.languages]
    scopes = [
        (ScopeKind.SITE, (), languages),
        *((ScopeKind.CATEGORY, (slug,), languages) for slug in category_slugs),
        *((kind, (slug,), list(in_languages)) for kind, slug, in_languages in listed),
    ]
    return [
        FeedSpec(fmt, kind, slugs, language)
        for kind, slugs, in_languages in scopes
        for language in in_languages
        for fmt in formats
    ]
