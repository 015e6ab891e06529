"""The feed index: every feed's URL, title, scope, category, language and format."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from feeds.render.describe import feed_title
from feeds.serving.content import Term
from feeds.serving.links import SiteLinks
from feeds.serving.spec import every_feed
from feeds.settings import Settings


def feed_index(settings: Settings, categories: Mapping[str, Term]) -> dict[str, Any]:
    """The document served as /feeds.json: the site, its home page, and every feed."""
    links = SiteLinks(settings)
    feeds = [
        {
            "url": links.feed(spec),
            "title": feed_title(settings, spec, categories.get(spec.category or "")),
            "scope": spec.scope,
            "category": spec.category,
            "language": spec.language,
            "format": spec.format.value,
            "content_type": spec.format.media_type,
        }
        for spec in every_feed(settings, categories)
    ]
    return {"site": settings.site_title, "home": settings.home_url, "feeds": feeds}
