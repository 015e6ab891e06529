"""HTTP for feeds the way aggregators expect it: validators, 304s, caching, gzip.

These work on the WSGI environ, so that a poll is answered with no request object built.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from werkzeug.datastructures import Accept
from werkzeug.http import is_resource_modified, parse_accept_header

from feeds.serving.cache import Representation

Answer = tuple[int, list[tuple[str, str]], bytes]
"""A WSGI answer: status code, headers, body."""

# Every answer: a browser must not read a feed or a JSON body as anything else (HTML).
NOSNIFF = ("X-Content-Type-Options", "nosniff")
# HTML answers (the feeds page): nothing inline, nothing from elsewhere, its own stylesheet
# only; never in a frame (frame-ancestors, and X-Frame-Options for browsers without CSP 2);
# no Referer sent from it.
PAGE_POLICY = (
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'",
    ),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
)
# The header that marks a feed answered from the cache while the store cannot be reached.
STALE_HEADER = ("Feeds-Stale", "store-unavailable")


def feed_cache_control(max_age: int, stale_if_error: int) -> str:
    """The Cache-Control of every feed answer: public, ``max_age`` seconds, and (RFC 5861)
    ``stale-if-error``: a cache in front of feeds may keep serving its copy that long after
    it went stale when feeds answers with an error, as feeds does itself."""
    value = f"public, max-age={max_age}"
    return f"{value}, stale-if-error={stale_if_error}" if stale_if_error > 0 else value


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
    cache_control: str,
    stale_seconds: int | None = None,
) -> Answer:
    """Status, headers and body answering a GET of ``representation``: a 200 with the feed,
    or a 304 with no body when the client's copy is current.

    Nothing is computed here: the bytes, their gzip form and the validators were made
    once when the feed was rendered. Each encoding has its own ETag, so that a cache
    never hands gzip bytes to a client that asked for identity.

    ``stale_seconds``: the representation is served while the store cannot be reached,
    this long after it was last known current; the answer says so (``Feeds-Stale``) and
    gives that time as its ``Age`` (RFC 9111 5.1), so that a cache in front counts its
    freshness from then, not from now."""
    gzipped = accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING", ""))
    etag = f"{representation.etag}-gzip" if gzipped else representation.etag
    headers = [
        ("ETag", f'"{etag}"'),
        ("Last-Modified", representation.last_modified_header),
        ("Cache-Control", cache_control),
        ("Vary", "Accept-Encoding"),
        NOSNIFF,
    ]
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
