"""FeedSpec: which feed is asked for (scope, language, format), and its path in the URL scheme.

The URL scheme, the one place it is written down in code:

    /feeds/all.{atom,rss}                       every post, every language
    /feeds/category/<slug>.{atom,rss}           one category, every language
    /<lang>/feeds/all.{atom,rss}                one language
    /<lang>/feeds/category/<slug>.{atom,rss}    one category in one language
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from feeds.settings import Settings


class FeedFormat(StrEnum):
    """The syndication formats feeds emits; the value is the file extension."""

    ATOM = "atom"
    RSS = "rss"

    @property
    def media_type(self) -> str:
        """The Content-Type feed readers expect for this format."""
        return f"application/{self.value}+xml; charset=utf-8"


class FeedNotFound(LookupError):
    """A feed URL names something that does not exist; the message says what."""


class UnknownFormat(FeedNotFound):
    pass


class UnknownLanguage(FeedNotFound):
    pass


class UnknownCategory(FeedNotFound):
    pass


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """Which feed: an optional category, an optional language, and a format."""

    format: FeedFormat
    category: str | None = None
    language: str | None = None

    @classmethod
    def parse(
        cls, settings: Settings, fmt: str, category: str | None = None, language: str | None = None
    ) -> FeedSpec:
        """Turn the parts of a feed URL into a spec, refusing unknown formats and languages.

        Whether the category exists is for the store to say.
        """
        try:
            feed_format = FeedFormat(fmt)
        except ValueError:
            known = ", ".join(f.value for f in FeedFormat)
            raise UnknownFormat(f"unknown feed format {fmt!r} (known: {known})") from None
        if language is not None and language not in settings.languages:
            raise UnknownLanguage(f"unknown language {language!r}")
        return cls(feed_format, category, language)

    @property
    def path(self) -> str:
        """The path of this feed in the URL scheme above."""
        prefix = f"/{self.language}" if self.language else ""
        name = f"category/{self.category}" if self.category else "all"
        return f"{prefix}/feeds/{name}.{self.format.value}"

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


def every_feed(settings: Settings, category_slugs: Iterable[str]) -> list[FeedSpec]:
    """Every feed the site has: site, each language, each category, each category × language,
    each in every format."""
    return [
        FeedSpec(fmt, category, language)
        for category in [None, *category_slugs]
        for language in [None, *settings.languages]
        for fmt in FeedFormat
    ]
