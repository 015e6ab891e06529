"""WebSub publishing: tell a hub which feeds changed, so that it pushes them to subscribers.

The W3C recommendation leaves the publish request to the hub. The common form, which this
sends, is a form POST of ``hub.mode=publish`` with the feed URLs in a repeated parameter:
``hub.url`` (Google's hub, Superfeedr; many URLs a request) or ``hub.topic`` (websub.rocks,
Flask-WebSub; set ``batch = 1`` for hubs that take one). Any 2xx is taken as accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from feeds.push.sender import ChangedFeed, send
from feeds.serving.links import SiteLinks
from feeds.settings.tables import Hub


class WebSubHub:
    """One hub: its URL, the parameter that carries feed URLs, and how many go in a request."""

    def __init__(self, hub: Hub, links: SiteLinks, timeout: float) -> None:
        self.name = hub.name
        self.url, self.param, self.batch = hub.url, hub.param, hub.batch
        self.links, self.timeout = links, timeout

    def announce(self, feeds: Sequence[ChangedFeed]) -> None:
        """POST the feeds' URLs to the hub, ``batch`` a request."""
        topics = (spec for feed in feeds for spec in feed.specs if spec.format.syndication)
        urls = list(dict.fromkeys(self.links.feed(spec) for spec in topics))
        for start in range(0, len(urls), self.batch):
            fields = [("hub.mode", "publish")]
            fields += [(self.param, url) for url in urls[start : start + self.batch]]
            send(
                "POST",
                self.url,
                self.timeout,
                urlencode(fields).encode("ascii"),
                {"Content-Type": "application/x-www-form-urlencoded"},
            )
