"""The feed index: every listed feed's URL, title, scope, terms, language and format."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from feeds.render.describe import feed_title
from feeds.serving.content import ListedTerm, Term
from feeds.serving.links import SiteLinks
from feeds.serving.spec import SYNDICATION_FORMATS, FeedFormat, FeedSpec, ScopeKind, every_feed
from feeds.settings import Settings

# What lists of feeds by language call the feeds of every language.
EVERY_LANGUAGE = "Every language"


def feed_index(
    settings: Settings, categories: Mapping[str, Term], listed: Sequence[ListedTerm] = ()
) -> dict[str, Any]:
    """The document served as /feeds.json: the site, its home page, and every listed feed
    (feeds.serving.spec.every_feed): the site's, each category's, and each ``listed`` tag's
    and author's, with the blog page each mirrors (``home_page_url``, as JSON Feed names
    it)."""
    links = SiteLinks(settings)
    terms = {(ScopeKind.CATEGORY, slug): term for slug, term in categories.items()}
    terms |= {(item.kind, item.term.slug): item.term for item in listed}
    feeds = []
    for spec in listed_feeds(settings, categories, listed):
        named = [terms[spec.kind, slug] for slug in spec.slugs]
        feeds.append(
            {
                "url": links.feed(spec),
                "home_page_url": links.scope_page(spec),
                "title": feed_title(settings, spec, named),
                "scope": spec.scope,
                **{kind.name.lower(): None for kind in _TERM_KINDS},
                **{spec.kind.name.lower(): slug for slug in spec.slugs},
                "language": spec.language,
                "format": spec.format.value,
                "content_type": spec.format.media_type,
            }
        )
    return {"site": settings.site_title, "home": settings.home_url, "feeds": feeds}


def listed_feeds(
    settings: Settings,
    category_slugs: Iterable[str],
    listed: Iterable[ListedTerm],
    formats: Sequence[FeedFormat] = SYNDICATION_FORMATS,
) -> list[FeedSpec]:
    """Every feed the site lists (feeds.serving.spec.every_feed), with these tags and
    authors, in ``formats``."""
    terms = ((item.kind, item.term.slug, item.languages) for item in listed)
    return every_feed(settings, category_slugs, terms, formats)


_TERM_KINDS = (ScopeKind.CATEGORY, ScopeKind.TAG, ScopeKind.AUTHOR)
