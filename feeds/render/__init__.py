"""Rendering: what a feed says (describe → FeedDocument), then one writer per format.

No database and no Flask here: the same inputs always give the same bytes.

Adding a format:
1. a FeedFormat value in feeds.serving.spec (its file extension, media type and label);
2. a module here with ``write_<format>(document: FeedDocument) -> bytes``;
3. its entry in WRITERS below.
The cache, HTTP answers, the static export and the index then serve it like the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from feeds.render.atom import write_atom
from feeds.render.describe import describe, feed_title
from feeds.render.document import FeedDocument, Link
from feeds.render.jsonfeed import write_json
from feeds.render.page import write_page
from feeds.render.rss import write_rss
from feeds.serving.content import FeedContent
from feeds.serving.spec import FeedFormat, FeedSpec
from feeds.settings import Settings

WRITERS: dict[FeedFormat, Callable[[FeedDocument], bytes]] = {
    FeedFormat.ATOM: write_atom,
    FeedFormat.RSS: write_rss,
    FeedFormat.JSON: write_json,
    FeedFormat.HTML: write_page,
}


@dataclass(frozen=True)
class RenderedFeed:
    """A feed document, the time it last changed (its newest entry's update), the links
    its HTTP answers repeat (hubs and self, see FeedDocument.header_links) and the store
    scopes it shows (the key of the caches in front, feeds.serving.surrogate)."""

    body: bytes
    updated: datetime
    header_links: tuple[Link, ...] = ()
    scopes: tuple[str, ...] = ("site",)


def render_feed(spec: FeedSpec, settings: Settings, content: FeedContent) -> RenderedFeed:
    """The feed ``spec`` holding ``content``, in its format."""
    document = describe(spec, settings, content)
    return RenderedFeed(
        WRITERS[spec.format](document), document.updated, document.header_links, content.scopes
    )


__all__ = ["WRITERS", "FeedDocument", "RenderedFeed", "describe", "feed_title", "render_feed"]
