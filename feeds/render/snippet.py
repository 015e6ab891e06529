"""Autodiscovery snippets: the ``<link rel="alternate">`` tags a publisher pastes into the
head of a blog page (its home, a language's home, a category's, tag's or author's page), so
that a browser or feed reader given the page's address finds its feeds. ``feeds snippet``
prints one; /feeds/snippet.html shows them all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from html import escape

from feeds.render.describe import feed_title
from feeds.serving.content import Term
from feeds.serving.links import SiteLinks
from feeds.serving.spec import SYNDICATION_FORMATS, FeedFormat, FeedSpec, ScopeKind
from feeds.settings import Settings


@dataclass(frozen=True)
class PageSnippet:
    """What one blog page pastes: the page (its heading and address) and its tags."""

    heading: str
    page_url: str
    tags: str


def discovery_tags(settings: Settings, scope: FeedSpec, terms: Sequence[Term]) -> str:
    """The ``<link rel="alternate">`` tags of the feed ``scope`` (whatever its format), one
    a line, one per format: its media type, the feed's title (``terms``: the category, tag
    or author it names), its absolute URL, and ``hreflang`` for a feed of one language;
    every attribute HTML-escaped."""
    links = SiteLinks(settings)
    lines = []
    for fmt in SYNDICATION_FORMATS:
        spec = replace(scope, format=fmt)
        attributes = {
            "rel": "alternate",
            "type": fmt.mime_type,
            "title": feed_title(settings, spec, terms),
            "href": links.feed(spec),
        }
        if spec.language is not None:
            attributes["hreflang"] = spec.language
        written = " ".join(
            f'{name}="{escape(value, quote=True)}"' for name, value in attributes.items()
        )
        lines.append(f"<link {written}>")
    return "\n".join(lines)


def page_snippets(settings: Settings, categories: Iterable[Term]) -> list[PageSnippet]:
    """The snippets of the home page, of each language's home and of each category's page
    (its feeds of every language)."""
    links = SiteLinks(settings)
    site = FeedSpec(FeedFormat.ATOM)
    pages: list[tuple[str, FeedSpec, tuple[Term, ...]]] = [("Home page", site, ())]
    pages += [
        (f"Home page in {name}", replace(site, language=code), ())
        for code, name in settings.languages.items()
    ]
    pages += [
        (
            f"Category page: {term.name}",
            FeedSpec(FeedFormat.ATOM, ScopeKind.CATEGORY, (term.slug,)),
            (term,),
        )
        for term in categories
    ]
    return [
        PageSnippet(heading, links.scope_page(spec), discovery_tags(settings, spec, terms))
        for heading, spec, terms in pages
    ]
