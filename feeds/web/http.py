"""HTTP for feeds the way aggregators expect it: validators, 304s, caching, gzip."""

from __future__ import annotations

import gzip
import hashlib

from flask import Request, Response

from feeds.render import RenderedFeed

GZIP_LEVEL = 6


def wants_gzip(request: Request) -> bool:
    """Whether the client accepts a gzip-encoded answer (q > 0, by name or by *)."""
    return request.accept_encodings["gzip"] > 0


def feed_response(
    request: Request, rendered: RenderedFeed, media_type: str, max_age: int
) -> Response:
    """A 200 with the feed, or a 304 with no body when the client's copy is current.

    Each encoding has its own ETag, so that a cache never hands gzip bytes to a client
    that asked for identity. If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2),
    which werkzeug's make_conditional implements.
    """
    tag = hashlib.sha256(rendered.body).hexdigest()[:32]
    body = rendered.body
    response = Response(content_type=media_type)
    if wants_gzip(request):
        body = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
        tag += "-gzip"
        response.content_encoding = "gzip"
    response.set_data(body)
    response.set_etag(tag)
    response.last_modified = rendered.updated
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    response.vary.add("Accept-Encoding")
    response.make_conditional(request)
    if response.status_code == 304:
        del response.headers["Content-Encoding"]
    return response
