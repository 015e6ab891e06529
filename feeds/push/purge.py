"""Cache purges: tell the caches in front of feeds which answers are stale.

Three kinds, as configured in ``[[purges]]``:

- ``url``: one request per changed feed URL (every format of each changed scope's first
  page) to a URL template, with the method the cache takes: ``PURGE`` for Varnish or
  nginx's cache purge module, ``POST`` or ``GET`` for others. ``{url}`` is the feed's
  absolute URL, ``{path}`` its path.
- ``fastly``: purge by surrogate key, ``POST <api_url>/service/<service_id>/purge`` with the
  keys in a ``Surrogate-Key`` header (at most 256 a request), authenticated by a
  ``Fastly-Key`` header; ``soft`` marks the answers stale instead of dropping them.
- ``cloudflare``: purge by cache tag, ``POST <api_url>/zones/<zone_id>/purge_cache`` with
  ``{"tags": [...]}`` (at most 30 a request), authenticated by a bearer token.

Keys and tags are those every feed answer carries (feeds/serving/surrogate.py): a changed
scope's key reaches every format, language variant and page cached under it, which a purge
by URL cannot (older pages have URLs of their own). Tokens come from the environment
variable the config names, never from the config file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from feeds.push.sender import ChangedFeed, send
from feeds.serving.links import SiteLinks
from feeds.serving.surrogate import scope_surrogate_key
from feeds.settings.tables import Purge

FASTLY_KEYS_PER_REQUEST = 256
CLOUDFLARE_TAGS_PER_REQUEST = 30


class UrlPurge:
    """A purge request per changed feed URL, to ``template`` with ``method``."""

    def __init__(self, purge: Purge, links: SiteLinks, timeout: float) -> None:
        self.name, self.template, self.method = purge.name, purge.url, purge.method
        self.links, self.timeout = links, timeout

    def announce(self, feeds: Sequence[ChangedFeed]) -> None:
        """Purge the first page of every feed of each changed scope, one request each."""
        specs = dict.fromkeys(spec for feed in feeds for spec in feed.specs)
        for spec in specs:
            target = self.template.format(url=self.links.feed(spec), path=spec.path)
            send(self.method, target, self.timeout)


class FastlyPurge:
    """Fastly's purge by surrogate key."""

    def __init__(self, purge: Purge, token: str, timeout: float) -> None:
        self.name, self.soft = purge.name, purge.soft
        self.endpoint = f"{purge.url.rstrip('/')}/service/{purge.service_id}/purge"
        self.token, self.timeout = token, timeout

    def announce(self, feeds: Sequence[ChangedFeed]) -> None:
        """Purge the changed scopes' keys, FASTLY_KEYS_PER_REQUEST a request."""
        keys = [scope_surrogate_key(feed.scope) for feed in feeds]
        headers = {"Fastly-Key": self.token, "Accept": "application/json"}
        if self.soft:
            headers["Fastly-Soft-Purge"] = "1"
        for start in range(0, len(keys), FASTLY_KEYS_PER_REQUEST):
            chunk = keys[start : start + FASTLY_KEYS_PER_REQUEST]
            send(
                "POST",
                self.endpoint,
                self.timeout,
                b"",
                {**headers, "Surrogate-Key": " ".join(chunk)},
            )


class CloudflarePurge:
    """Cloudflare's purge by cache tag."""

    def __init__(self, purge: Purge, token: str, timeout: float) -> None:
        self.name = purge.name
        self.endpoint = f"{purge.url.rstrip('/')}/zones/{purge.zone_id}/purge_cache"
        self.token, self.timeout = token, timeout

    def announce(self, feeds: Sequence[ChangedFeed]) -> None:
        """Purge the changed scopes' tags, CLOUDFLARE_TAGS_PER_REQUEST a request."""
        tags = [scope_surrogate_key(feed.scope) for feed in feeds]
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        for start in range(0, len(tags), CLOUDFLARE_TAGS_PER_REQUEST):
            body = json.dumps({"tags": tags[start : start + CLOUDFLARE_TAGS_PER_REQUEST]})
            send("POST", self.endpoint, self.timeout, body.encode(), headers)
