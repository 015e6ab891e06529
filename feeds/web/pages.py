"""The HTML page that makes the feeds easy to find: `/`, with autodiscovery links.

Feed readers and browsers look for ``<link rel="alternate" type="application/atom+xml">``
(or ``application/rss+xml``, ``application/feed+json``) in a page's head; people read the
list in its body. Both come from the feed index that /feeds.json serves, so that the page,
the JSON and the feeds never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, render_template

from feeds.render.index import EVERY_LANGUAGE
from feeds.serving.links import text_direction
from feeds.serving.spec import FeedFormat
from feeds.settings import Settings
from feeds.web.app_state import app_state
from feeds.web.http import NOSNIFF, PAGE_POLICY
from feeds.web.routes import cacheable_answer, current_feed_index

blueprint = Blueprint("pages", __name__)


@dataclass(frozen=True)
class FeedRow:
    """One feed of the list, in every format: its title and the URL of each format."""

    title: str
    urls: Mapping[str, str]


@dataclass(frozen=True)
class LanguageGroup:
    """The feeds of one language (or of every language: ``language`` None)."""

    language: str | None
    name: str
    direction: str
    rows: list[FeedRow]


@blueprint.get("/")
def feeds_page() -> Response:
    """Every feed, grouped by language, with the site and language feeds as autodiscovery
    links; 304 when the client's copy is current."""
    settings = app_state().settings
    feeds = current_feed_index()["feeds"]
    html = render_template(
        "feeds.html",
        settings=settings,
        discovery=[feed for feed in feeds if feed["scope"] in ("site", "language")],
        groups=list(_groups(settings, feeds)),
        formats={fmt.value: fmt for fmt in FeedFormat},
    )
    return cacheable_answer(html, "text/html; charset=utf-8")


@blueprint.after_app_request
def _security_headers(response: Response) -> Response:
    """nosniff on every answer Flask gives; on an HTML answer the page policy too (a CSP
    with nothing inline, no framing, no Referer). Feeds have theirs from FeedEndpoint."""
    response.headers.setdefault(*NOSNIFF)
    if response.mimetype == "text/html":
        for name, value in PAGE_POLICY:
            response.headers.setdefault(name, value)
    return response


def _groups(settings: Settings, feeds: Iterable[Mapping[str, Any]]) -> Iterable[LanguageGroup]:
    by_language: dict[str | None, dict[tuple[Any, ...], dict[str, Any]]] = {}
    for feed in feeds:
        scopes = by_language.setdefault(feed["language"], {})
        scope = (feed["category"], feed["tag"], feed["author"])
        row = scopes.setdefault(scope, {"title": feed["title"], "urls": {}})
        row["urls"][feed["format"]] = feed["url"]
    for language, scopes in by_language.items():
        name = settings.languages[language] if language else EVERY_LANGUAGE
        direction = text_direction(language or settings.default_language)
        rows = [FeedRow(row["title"], row["urls"]) for row in scopes.values()]
        yield LanguageGroup(language, name, direction, rows)
