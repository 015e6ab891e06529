"""Absolute URLs of the site's pages and of the feeds, built in one place."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

from feeds.serving.spec import FeedSpec, ScopeKind
from feeds.settings import Settings

# Primary language subtags written right to left.
_RTL_LANGUAGES = frozenset(
    {"ar", "arc", "dv", "fa", "ha", "he", "khw", "ks", "ku", "ps", "ur", "yi"}
)

# What a URI holds as it is (RFC 3986 reserved and unreserved characters, and % of a
# percent-encoding already made); quote() keeps letters, digits and -._~ anyway.
_URI_CHARACTERS = ";/?:@&=+$,!*'()#[]%"


def as_uri(iri: str) -> str:
    """The ASCII URI an IRI stands for (RFC 3987 3.1): every other character percent-encoded
    as UTF-8. Documents carry a feed's URL as an IRI (a category slug may be Unicode);
    HTTP headers, and hub pings, carry this form of it."""
    return quote(iri, safe=_URI_CHARACTERS)


def link_header(links: Iterable[tuple[str, str]]) -> str:
    """An HTTP Link header value (RFC 8288) of (URL, rel) pairs:
    ``<https://hub.example/>; rel="hub", <https://…/feeds/all.atom>; rel="self"``."""
    return ", ".join(f'<{as_uri(url)}>; rel="{rel}"' for url, rel in links)


def text_direction(language: str) -> str:
    """``rtl`` for languages written right to left (Arabic, Hebrew, Persian…), else ``ltr``."""
    return "rtl" if language.split("-")[0].lower() in _RTL_LANGUAGES else "ltr"


class SiteLinks:
    """The absolute URLs feeds points to: blog pages (from config templates) and feeds."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def home(self, language: str | None = None) -> str:
        """The blog's home page in ``language`` (the default language's home if None)."""
        if language is None or language == self.settings.default_language:
            return self.settings.home_url
        return self.settings.language_home_url.format(lang=language)

    def post(self, slug: str, language: str) -> str:
        """The page of the post ``slug`` written in ``language``."""
        return self.settings.post_url.format(home=self.home(language), slug=slug, lang=language)

    def category(self, slug: str, language: str | None = None) -> str:
        """The listing page of a category, in ``language``."""
        return self._page(self.settings.category_url, slug, language)

    def tag(self, slug: str, language: str | None = None) -> str:
        """The listing page of a tag, in ``language``."""
        return self._page(self.settings.tag_url, slug, language)

    def author(self, slug: str, language: str | None = None) -> str:
        """The page of an author's posts, in ``language``."""
        return self._page(self.settings.author_url, slug, language)

    def scope_page(self, spec: FeedSpec) -> str:
        """The blog page a feed mirrors: its category's, tag's or author's listing, else
        (the site's feeds, and combined categories, which no page lists) the home page."""
        if len(spec.slugs) != 1:
            return self.home(spec.language)
        page = {
            ScopeKind.CATEGORY: self.category,
            ScopeKind.TAG: self.tag,
            ScopeKind.AUTHOR: self.author,
        }[spec.kind]
        return page(spec.slugs[0], spec.language)

    def _page(self, template: str, slug: str, language: str | None) -> str:
        return template.format(
            home=self.home(language), slug=slug, lang=language or self.settings.default_language
        )

    def feed(self, spec: FeedSpec) -> str:
        """The absolute URL of a feed, as a URI (a Unicode slug percent-encoded): the one
        form of it that the feed's id and self link, its Link header, the hubs' topic and
        /feeds.json all give, and that validators accept as an Atom id."""
        return as_uri(self.settings.base_url + spec.path)
