"""The feed routes: turn a URL into a FeedSpec, then answer with the feed.

The URL scheme itself is documented in feeds.spec.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, jsonify, request

from feeds.render.index import feed_index
from feeds.service import FeedService
from feeds.spec import FeedSpec
from feeds.store import Store, queries
from feeds.web.http import representation_response

blueprint = Blueprint("feeds", __name__)


def _store() -> Store:
    return current_app.extensions["feeds.store"]


@blueprint.get("/feeds/all.<fmt>")
@blueprint.get("/feeds/category/<category>.<fmt>")
@blueprint.get("/<lang>/feeds/all.<fmt>")
@blueprint.get("/<lang>/feeds/category/<category>.<fmt>")
def feed(fmt: str, category: str | None = None, lang: str | None = None) -> Response:
    """One feed, newest first; 404 for an unknown format, language or category."""
    service: FeedService = current_app.extensions["feeds.service"]
    spec = FeedSpec.parse(service.settings, fmt, category, lang, request.args.get("before"))
    representation, hit = service.representation(spec)
    g.cache = "hit" if hit else "miss"
    return representation_response(
        request, representation, spec.format.media_type, service.settings.cache_max_age
    )


@blueprint.get("/feeds.json")
def feed_index_json() -> Response:
    """Every feed: its URL, title, scope, category, language and format."""
    settings = current_app.extensions["feeds.settings"]
    with _store().session() as session:
        categories = {c.slug: c for c in queries.all_categories(session)}
    response = jsonify(feed_index(settings, categories))
    response.cache_control.public = True
    response.cache_control.max_age = settings.cache_max_age
    return response
