"""The feed index routes (/feeds.json, /feeds.opml), and the feed URLs as Flask knows them.

The feeds themselves are answered by feeds.web.feed_endpoint, in front of Flask (their URL
scheme is feeds.serving.spec's); Flask holds them as build-only rules of the endpoint
``feeds.feed``, so that ``url_for`` builds them, ``flask routes`` lists them, and the metrics'
route label names a real endpoint."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request

from feeds.render.index import feed_index
from feeds.render.opml import OPML_MEDIA_TYPE, opml_document
from feeds.store import queries
from feeds.web.app_state import KeptPerRevision, Made, app_state
from feeds.web.http import cache_control

blueprint = Blueprint("feeds", __name__)
FEED_RULES = (
    "/feeds/all.<format>",
    "/feeds/<any(category,tag,author):kind>/<slug>.<format>",
    "/<lang>/feeds/all.<format>",
    "/<lang>/feeds/<any(category,tag,author):kind>/<slug>.<format>",
    "/feeds/all/archive/<int:archive>.<format>",
    "/feeds/category/<slug>/archive/<int:archive>.<format>",
)
for _rule in FEED_RULES:
    blueprint.add_url_rule(_rule, endpoint="feed", build_only=True)


def current_feed_index() -> dict[str, Any]:
    """The feed index of the store as it is now: read from it once per store revision (the
    tags and authors listed come from counting index rows), then kept."""
    return kept_per_revision(app_state().feed_index, _read_feed_index)


def kept_per_revision(kept: KeptPerRevision[Made], make: Callable[[], Made]) -> Made:
    """What ``make`` answers for the store as it is now, kept in ``kept``."""
    return kept.get(app_state().service.revisions.view().store_revision, make)


def _read_feed_index() -> dict[str, Any]:
    state = app_state()
    with state.store.session() as session:
        categories = {c.slug: c for c in queries.all_categories(session)}
        listed = queries.listed_terms(session, datetime.now(UTC), state.settings.tag_feed_min_posts)
    return feed_index(state.settings, categories, listed)


@blueprint.get("/feeds.json")
def feed_index_json() -> Response:
    """Every feed: its URL, title, scope, category, language and format."""
    response = jsonify(current_feed_index())
    response.headers["Cache-Control"] = cache_control(app_state().settings)
    return response


@blueprint.get("/feeds.opml")
def feed_index_opml() -> Response:
    """Every listed feed (in Atom) as an OPML 2.0 subscription list, grouped by language and
    scope; 304 when the client's copy is current."""
    state = app_state()
    document = opml_document(state.settings, current_feed_index(), state.service.site_updated())
    return cacheable_answer(document, OPML_MEDIA_TYPE)


def cacheable_answer(body: str | bytes, content_type: str) -> Response:
    """A 200 of ``body`` with the feeds' Cache-Control and an ETag of its bytes, or a 304
    when the request's validators match it."""
    response = Response(body, content_type=content_type)
    response.headers["Cache-Control"] = cache_control(app_state().settings)
    response.add_etag()
    response.make_conditional(request)  # changes the response itself (and returns it)
    return response
