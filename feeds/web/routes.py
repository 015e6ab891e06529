"""The feed index route, and the feed URLs as Flask knows them.

The feeds themselves are answered by feeds.web.feed_endpoint, in front of Flask (their URL
scheme is feeds.serving.spec's); Flask holds them as build-only rules of the endpoint
``feeds.feed``, so that ``url_for`` builds them, ``flask routes`` lists them, and the metrics'
route label names a real endpoint."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from feeds.render.index import feed_index
from feeds.store import queries
from feeds.web.app_state import app_state
from feeds.web.http import cache_control

blueprint = Blueprint("feeds", __name__)
FEED_RULES = (
    "/feeds/all.<format>",
    "/feeds/category/<slug>.<format>",
    "/<lang>/feeds/all.<format>",
    "/<lang>/feeds/category/<slug>.<format>",
    "/feeds/all/archive/<int:archive>.<format>",
    "/feeds/category/<slug>/archive/<int:archive>.<format>",
)
for _rule in FEED_RULES:
    blueprint.add_url_rule(_rule, endpoint="feed", build_only=True)


def current_feed_index() -> dict[str, Any]:
    """The feed index of the store as it is now (the categories are read from it)."""
    with app_state().store.session() as session:
        categories = {c.slug: c for c in queries.all_categories(session)}
    return feed_index(app_state().settings, categories)


@blueprint.get("/feeds.json")
def feed_index_json() -> Response:
    """Every feed: its URL, title, scope, category, language and format."""
    response = jsonify(current_feed_index())
    response.headers["Cache-Control"] = cache_control(app_state().settings)
    return response
