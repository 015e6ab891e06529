"""The feed index route. The feeds themselves are answered by feeds.web.feed_endpoint,
in front of Flask; their URL scheme is documented in feeds.spec."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from feeds.render.index import feed_index
from feeds.store import queries

blueprint = Blueprint("feeds", __name__)


def current_feed_index() -> dict[str, Any]:
    """The feed index of the store as it is now (the categories are read from it)."""
    with current_app.extensions["feeds.store"].session() as session:
        categories = {c.slug: c for c in queries.all_categories(session)}
    return feed_index(current_app.extensions["feeds.settings"], categories)


@blueprint.get("/feeds.json")
def feed_index_json() -> Response:
    """Every feed: its URL, title, scope, category, language and format."""
    response = jsonify(current_feed_index())
    response.cache_control.public = True
    response.cache_control.max_age = current_app.extensions["feeds.settings"].cache_max_age
    return response
