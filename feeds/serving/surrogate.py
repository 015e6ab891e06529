"""Surrogate keys: the names under which caches in front of feeds (a CDN) file each feed
answer, so that one purge reaches every format and page of a feed scope.

Every feed answer carries ALL_FEEDS_KEY, and the key of each store scope it shows
(feeds.store.scopes.scope_key, made header-safe here): one, or for a combined feed each of
its categories'. The store moves the revisions of
exactly the scopes a write changes (all of them for a change any feed shows, such as a
category's name), so a sender that purges the key of each moved scope (ALL_FEEDS_KEY when
every scope moved) purges exactly the stale answers. Headers: ``Surrogate-Key`` (Fastly,
Varnish xkey; space-separated) and ``Cache-Tag`` (Cloudflare; comma-separated).
"""

from __future__ import annotations

import string
from collections.abc import Iterable

ALL_FEEDS_KEY = "feeds"
# Kept as they are in a key; every other byte is percent-encoded. Letters, digits and "-"
# are allowed by every CDN's tags (Akamai's refuse ":" and "/", Cloudflare's "," and
# spaces), and "." and "%" by all of them too, so keys never need quoting.
_KEPT = frozenset(string.ascii_letters + string.digits + "-")


def scope_surrogate_key(scope_key: str) -> str:
    """The surrogate key of a store scope: ``site`` → ``feeds.site``, ``cat:3/lang:pt-br``
    → ``feeds.cat-3.lang-pt-br``; every byte of a value other than an ASCII letter, digit
    or ``-`` percent-encoded (UTF-8), so that any key is ASCII and header-safe."""
    parts = [ALL_FEEDS_KEY]
    for part in scope_key.split("/"):
        name, _, value = part.partition(":")
        parts.append(f"{name}-{_encoded(value)}" if value else name)
    return ".".join(parts)


def surrogate_keys(scope_keys: Iterable[str]) -> tuple[str, ...]:
    """The keys of every answer of a feed of the store scopes ``scope_keys``: all feeds, and
    each scope (one, or each category's of a combined feed, so that a change to any of
    them purges it)."""
    return ALL_FEEDS_KEY, *(scope_surrogate_key(key) for key in scope_keys)


def _encoded(value: str) -> str:
    return "".join(
        chr(byte) if chr(byte) in _KEPT else f"%{byte:02X}" for byte in value.encode("utf-8")
    )
