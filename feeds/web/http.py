"""HTTP for feeds the way aggregators expect it: validators, 304s, caching, gzip.

These work on the WSGI environ, so that a poll is answered with no request object built.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from werkzeug.datastructures import Accept
from werkzeug.http import is_resource_modified, parse_accept_header

from feeds.cache import Representation

Answer = tuple[int, list[tuple[str, str]], bytes]
"""A WSGI answer: status code, headers, body."""


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
    environ: dict[str, Any], representation: Representation, media_type: str, max_age: int
) -> Answer:
    """Status, headers and body answering a GET of ``representation``: a 200 with the feed,
    or a 304 with no body when the client's copy is current.

    Nothing is computed here: the bytes, their gzip form and the validators were made
    once when the feed was rendered. Each encoding has its own ETag, so that a cache
    never hands gzip bytes to a client that asked for identity."""
    gzipped = accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING", ""))
    etag = f"{representation.etag}-gzip" if gzipped else representation.etag
    headers = [
        ("ETag", f'"{etag}"'),
        ("Last-Modified", representation.last_modified_header),
        ("Cache-Control", f"public, max-age={max_age}"),
        ("Vary", "Accept-Encoding"),
    ]
    if client_copy_is_current(environ, etag, representation):
        return 304, headers, b""
    body = representation.gzip if gzipped else representation.identity
    if gzipped:
        headers.append(("Content-Encoding", "gzip"))
    headers.append(("Content-Type", media_type))
    headers.append(("Content-Length", str(len(body))))
    return 200, headers, body
