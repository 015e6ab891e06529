"""The feed index route. The feeds themselves are answered by feeds.web.feed_endpoint,
in front of Flask; their URL scheme is documented in feeds.serving.spec."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from feeds.render.index import feed_index
from feeds.store import queries
from feeds.web.app_state import app_state

blueprint = Blueprint("feeds", __name__)


def current_feed_index() -> dict[str, Any]:
    """The feed index of the store as it is now (the categories are read from it)."""
    with app_state().store.session() as session:
        categories = {c.slug: c for c in queries.all_categories(session)}
    return feed_index(app_state().settings, categories)


@blueprint.get("/feeds.json")
def feed_index_json() -> Response:
    """Every feed: its URL, title, scope, category, language and format."""
    response = jsonify(current_feed_index())
    response.cache_control.public = True
    response.cache_control.max_age = app_state().settings.cache_max_age
    return response
