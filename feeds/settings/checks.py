"""The checks settings share: the error that names a key, and what a URL must be."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import urlsplit

# Characters a URL in an HTTP Link header (<…>) cannot hold as they are.
NOT_IN_A_LINK = frozenset('"<>\\^`{|}\x7f') | frozenset(map(chr, range(33)))


class ConfigError(Exception):
    """The configuration cannot be used; the message says which key and why."""


def require_absolute_url(name: str, url: str) -> None:
    """ConfigError unless ``url`` is an absolute http(s) URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{name}: {url!r} is not an absolute http(s) URL")


def require_header_safe_url(name: str, url: str) -> None:
    """ConfigError unless ``url`` can go in an HTTP header (a Link) as it is."""
    if not url.isascii() or any(c in NOT_IN_A_LINK for c in url):
        raise ConfigError(
            f"{name}: {url!r} must be ASCII, with no spaces, quotes or <>: percent-encode the rest"
        )


def refuse_unknown_keys(where: str, values: Mapping[str, Any], known: Collection[str]) -> None:
    """ConfigError naming the first key of ``values`` that is not in ``known``."""
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(f"{where}unknown key {unknown[0]!r} (known keys: {', '.join(known)})")
