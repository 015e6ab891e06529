"""WordPress's feed URLs, answered with a 301 to the matching feed once a WordPress export
has been imported, so that readers who subscribed to the old blog keep their subscription.

    {prefix}/feed/                   → /feeds/all.rss   (also /feed/rss2/, /feed/rss/, /feed/rdf/)
    {prefix}/feed/atom/              → /feeds/all.atom
    {prefix}/category/<slug>/feed/   → /feeds/category/<slug>.rss (…/feed/atom/ → .atom)
    {prefix}/tag/<slug>/feed/        → /feeds/tag/<slug>.rss (likewise)
    /<lang>{prefix}/feed/…           → /<lang>/feeds/…  (and the category forms)

``{prefix}`` is the config key ``wordpress_prefix`` (``/blog`` when WordPress lived there).
Nested categories (/category/parent/child/feed/) go to the last one's feed.
"""

from __future__ import annotations

from flask import Blueprint, jsonify
from werkzeug.wrappers import Response

from feeds.serving.links import SiteLinks
from feeds.serving.spec import FeedNotFound, FeedSpec, ScopeKind
from feeds.settings import Settings
from feeds.store.models import WORDPRESS_IMPORTED, StoreMeta
from feeds.web.app_state import app_state

FORMAT_OF_KIND = {"": "rss", "rss2": "rss", "rss": "rss", "rdf": "rss", "atom": "atom"}


def wordpress_blueprint(settings: Settings) -> Blueprint:
    """The redirect routes for WordPress feed URLs under ``settings.wordpress_prefix``."""
    blueprint = Blueprint("wordpress", __name__)
    prefix = settings.wordpress_prefix
    for language_part in ("", "/<lang>"):
        for scope_part in ("", "/category/<path:category>", "/tag/<tag>"):
            for kind_part in ("/feed/", "/feed/<kind>/"):
                blueprint.add_url_rule(
                    f"{language_part}{prefix}{scope_part}{kind_part}",
                    view_func=old_feed_url,
                    strict_slashes=False,
                )
    return blueprint


def old_feed_url(
    kind: str = "", category: str | None = None, tag: str | None = None, lang: str | None = None
) -> tuple[Response, int, dict[str, str]]:
    """301 to the feed that replaces a WordPress feed URL (404 before a WordPress import)."""
    settings = app_state().settings
    if kind not in FORMAT_OF_KIND:
        raise FeedNotFound(f"unknown WordPress feed type {kind!r}")
    if not _wordpress_imported():
        raise FeedNotFound("no WordPress export has been imported, so there is no old feed here")
    if tag is not None:
        scope, slug = ScopeKind.TAG, tag
    elif category is not None:
        scope, slug = ScopeKind.CATEGORY, category.rstrip("/").rsplit("/", 1)[-1]
    else:
        scope, slug = ScopeKind.SITE, None
    spec = FeedSpec.parse(settings, FORMAT_OF_KIND[kind], scope, slug, lang)
    location = SiteLinks(settings).feed(spec)
    # A JSON body like every other answer of feeds (Flask's redirect() writes an HTML page).
    return jsonify({"location": location, "status": 301}), 301, {"Location": location}


def _wordpress_imported() -> bool:
    with app_state().store.session() as session:
        fact = session.get(StoreMeta, WORDPRESS_IMPORTED)
    return fact is not None and fact.value == "yes"
