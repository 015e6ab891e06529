"""HTTP for feeds the way aggregators expect it: validators, 304s, caching, gzip.

These work on the WSGI environ, so that a poll is answered with no request object built.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from werkzeug.datastructures import Accept
from werkzeug.http import is_resource_modified, parse_accept_header

from feeds.render.page import script_source
from feeds.serving.cache import Representation
from feeds.settings import Settings

Answer = tuple[int, list[tuple[str, str]], bytes]
"""A WSGI answer: status code, headers, body."""

# Every answer: a browser must not read a feed or a JSON body as anything else (HTML).
NOSNIFF = ("X-Content-Type-Options", "nosniff")
# HTML answers (the pages): nothing inline but the copy button's script, allowed by its
# hash; nothing from elsewhere, their own stylesheet only; never in a frame (frame-ancestors,
# and X-Frame-Options for browsers without CSP 2); no Referer sent from them.
PAGE_POLICY = (
    (
        "Content-Security-Policy",
        f"default-src 'none'; script-src {script_source()}; style-src 'self'; "
        "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
)
# The header that marks a feed answered from the cache while the store cannot be reached.
STALE_HEADER = ("Feeds-Stale", "store-unavailable")


def cache_control(settings: Settings) -> str:
    """The ``Cache-Control`` of every cacheable answer (feeds, the feeds page, /feeds.json).

    Clients keep it ``cache_max_age`` seconds, shared caches (a CDN, a proxy)
    ``shared_max_age`` (s-maxage), never longer than clients, since nothing tells them of
    a change; then (RFC 5861) any cache may answer with its stale copy for
    ``stale_while_revalidate_seconds`` while it fetches a new one, and for
    ``stale_if_error_seconds`` while feeds answers with an error, as feeds does itself."""
    shared_max_age = min(settings.shared_max_age, settings.cache_max_age)
    lifetimes = f"public, max-age={settings.cache_max_age}, s-maxage={shared_max_age}"
    return ", ".join([lifetimes, *_stale_directives(settings)])


def feed_cache_control(settings: Settings) -> tuple[tuple[str, str], ...]:
    """The caching headers of every feed answer, made once per process: ``Cache-Control``;
    ``CDN-Cache-Control`` (RFC 9213), only with ``cdn_max_age``: the CDN, which is purged
    on change (Surrogate-Key, Cache-Tag), may hold a feed that long instead; ``Vary``
    (feed_vary)."""
    headers = [("Cache-Control", cache_control(settings))]
    if settings.cdn_max_age > 0:
        cdn_lifetime = f"public, max-age={settings.cdn_max_age}"
        headers.append(
            ("CDN-Cache-Control", ", ".join([cdn_lifetime, *_stale_directives(settings)]))
        )
    headers.append(feed_vary(settings))
    return tuple(headers)


def immutable_cache_control(settings: Settings) -> tuple[tuple[str, str], ...]:
    """The caching headers of a sealed archive (RFC 5005): its range never moves, so any
    cache may keep it a year and need not revalidate it; an edit inside it is announced by a
    purge of its scope's key, and a deletion by the subscription document's tombstone."""
    return (("Cache-Control", "public, max-age=31536000, immutable"), feed_vary(settings))


def feed_vary(settings: Settings) -> tuple[str, str]:
    """``Vary`` of a feed URL's answers: the gzip and identity answers are cached apart,
    and, with ``browser_pages``, so are a browser's navigations (Sec-Fetch-Dest), which get
    the feed's page instead of the feed."""
    if settings.browser_pages:
        return ("Vary", f"Accept-Encoding, {NAVIGATION_HEADER}")
    return ("Vary", "Accept-Encoding")


# A browser's request sends ``Sec-Fetch-Dest: document`` when it loads a page into a tab
# (Fetch Metadata): a person clicked a link or typed the address. Feed readers, curl and
# fetch() never do.
NAVIGATION_HEADER = "Sec-Fetch-Dest"
NAVIGATION_ENVIRON = "HTTP_SEC_FETCH_DEST"


def page_for_people_headers(settings: Settings) -> tuple[tuple[str, str], ...]:
    """The headers of the feed's page given at the feed's own URL: no cache may keep it
    (``private, no-store``), so that none can ever hand it to a feed reader; ``Vary``; the
    page policy."""
    return (("Cache-Control", "private, no-store"), feed_vary(settings), *PAGE_POLICY)


def _stale_directives(settings: Settings) -> list[str]:
    stale = []
    if settings.stale_while_revalidate_seconds > 0:
        stale.append(f"stale-while-revalidate={settings.stale_while_revalidate_seconds}")
    if settings.stale_if_error_seconds > 0:
        stale.append(f"stale-if-error={settings.stale_if_error_seconds}")
    return stale


@lru_cache(maxsize=512)
def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding value accepts gzip (q > 0, by name or by ``*``).

    Pollers send a handful of distinct values, so each is parsed once."""
    return parse_accept_header(accept_encoding, Accept)["gzip"] > 0


def client_copy_is_current(
    environ: dict[str, Any], etag: str, representation: Representation
) -> bool:
    """Whether the request's validators match ``representation`` (answer 304).

    If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2), as werkzeug's
    is_resource_modified implements; the usual poll, ``If-None-Match`` with exactly the
    current ETag, is recognised without parsing."""
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match is None and "HTTP_IF_MODIFIED_SINCE" not in environ:
        return False
    if if_none_match == f'"{etag}"':
        return True
    return not is_resource_modified(environ, etag=etag, last_modified=representation.last_modified)


def representation_answer(
    environ: dict[str, Any],
    representation: Representation,
    media_type: str,
    cache_control: tuple[tuple[str, str], ...],
    stale_seconds: int | None = None,
) -> Answer:
    """Status, headers and body answering a GET of ``representation``: a 200 with the feed,
    or a 304 with no body when the client's copy is current.

    Nothing is computed here: the bytes, their gzip form, the validators and the other
    headers were made once when the feed was rendered, and ``cache_control`` (from
    feed_cache_control) once per process. Each encoding has its own ETag, so that a cache
    never hands gzip bytes to a client that asked for identity. A 304 carries every header
    of the 200 but those of the body (RFC 9110 15.4.5), so that a cache that revalidates
    keeps its Cache-Control, Link and surrogate keys current.

    ``stale_seconds``: the representation is served while the store cannot be reached,
    this long after it was last known current; the answer says so (``Feeds-Stale``) and
    gives that time as its ``Age`` (RFC 9111 5.1), so that a cache in front counts its
    freshness from then, not from now."""
    gzipped = accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING", ""))
    etag = f"{representation.etag}-gzip" if gzipped else representation.etag
    headers = [("ETag", f'"{etag}"'), *representation.headers, *cache_control, NOSNIFF]
    if stale_seconds is not None:
        headers.append(STALE_HEADER)
        headers.append(("Age", str(stale_seconds)))
    if client_copy_is_current(environ, etag, representation):
        return 304, headers, b""
    body = representation.gzip if gzipped else representation.identity
    if gzipped:
        headers.append(("Content-Encoding", "gzip"))
    headers.append(("Content-Type", media_type))
    headers.append(("Content-Length", str(len(body))))
    return 200, headers, body
