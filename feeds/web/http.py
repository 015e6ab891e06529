"""HTTP for feeds the way aggregators expect it: validators, 304s, caching, gzip."""

from __future__ import annotations

from flask import Request, Response
from werkzeug.http import is_resource_modified

from feeds.cache import Representation


def wants_gzip(request: Request) -> bool:
    """Whether the client accepts a gzip-encoded answer (q > 0, by name or by *)."""
    return request.accept_encodings["gzip"] > 0


def representation_response(
    request: Request, representation: Representation, media_type: str, max_age: int
) -> Response:
    """A 200 with the feed, or a 304 with no body when the client's copy is current.

    Nothing is computed here: the bytes, their gzip form and the validators were made
    once when the feed was rendered. Each encoding has its own ETag, so that a cache
    never hands gzip bytes to a client that asked for identity. If-None-Match wins over
    If-Modified-Since (RFC 9110 13.2.2), as werkzeug's is_resource_modified implements.
    """
    gzipped = wants_gzip(request)
    etag = f"{representation.etag}-gzip" if gzipped else representation.etag
    headers = {
        "ETag": f'"{etag}"',
        "Last-Modified": representation.last_modified_header,
        "Cache-Control": f"public, max-age={max_age}",
        "Vary": "Accept-Encoding",
    }
    if not is_resource_modified(
        request.environ, etag=etag, last_modified=representation.last_modified
    ):
        return Response(status=304, headers=headers)
    body = representation.gzip if gzipped else representation.identity
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    return Response(body, headers=headers, content_type=media_type)
