"""The feed index route. The feeds themselves are answered by feeds.web.feed_endpoint,
in front of Flask; their URL scheme is documented in feeds.spec."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from feeds.render.index import feed_index
from feeds.store import Store, queries

blueprint = Blueprint("feeds", __name__)


def _store() -> Store:
    return current_app.extensions["feeds.store"]


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
