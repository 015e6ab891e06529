"""The feeds page, for people and for feed readers: `/` in the default language, and
`/<lang>/` in each configured language.

Feed readers and browsers look for ``<link rel="alternate" type="application/atom+xml">``
(or ``application/rss+xml``, ``application/feed+json``) in a page's head. People read the
body: every feed by language, with its title (a link to its page), how many posts it
holds and when the newest was published, a link to each format, and its address with a
copy button. The feeds are those of the feed index that /feeds.json serves, so that the
page, the JSON and the feeds never disagree; their counts come from one read of the scope
index (feeds.store.activity). The page and its counts are made again after a write, at
most every ``feeds_page_refresh_seconds``; a scheduled post is counted from the first write
after it falls due.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, render_template, url_for
from flask.blueprints import BlueprintSetupState

from feeds.render.interface import interface
from feeds.render.page import COPY_SCRIPT
from feeds.serving.links import SiteLinks, text_direction
from feeds.serving.spec import FeedFormat, FeedNotFound, FeedSpec, ScopeKind
from feeds.settings import Settings
from feeds.store.activity import ScopeActivity, scope_activity
from feeds.store.revisions import RevisionView
from feeds.web.app_state import app_state
from feeds.web.http import NOSNIFF, PAGE_POLICY
from feeds.web.routes import cacheable_answer, current_feed_index, kept_per_revision

blueprint = Blueprint("pages", __name__)
# The kinds of term a feed of the index names (its key in the index entry: the kind's name).
_TERM_KINDS = (ScopeKind.CATEGORY, ScopeKind.TAG, ScopeKind.AUTHOR)


@dataclass(frozen=True)
class FeedRow:
    """One feed of the list: its title, the URL of each format and of its page, and its
    posts."""

    title: str
    urls: Mapping[str, str]
    page: str
    activity: ScopeActivity


@dataclass(frozen=True)
class LanguageGroup:
    """The feeds of one language (of every language: ``language`` and ``name`` None)."""

    language: str | None
    name: str | None
    direction: str
    rows: list[FeedRow]


@dataclass(frozen=True)
class PageLanguage:
    """Another language the feeds page is written in, and the page's URL in it."""

    language: str
    name: str
    url: str


@blueprint.get("/")
def feeds_page() -> Response:
    """Every feed, grouped by language, with the site and language feeds as autodiscovery
    links, in the default language; 304 when the client's copy is current."""
    return _directory(app_state().settings.default_language)


def language_feeds_page(lang: str) -> Response:
    """The feeds page in ``lang``, one of the configured languages (the only ones its rule
    takes)."""
    return _directory(lang)


@blueprint.record_once
def _language_rules(setup: BlueprintSetupState) -> None:
    """`/<lang>/` for each configured language and no other, so that any other path
    (``/nowhere``) stays unmatched, a 404 with no redirect to a slash."""
    languages = app_state(setup.app).settings.languages
    if languages:
        choices = ", ".join(f"'{code}'" for code in languages)
        setup.add_url_rule(f"/<any({choices}):lang>/", view_func=language_feeds_page)


@blueprint.after_app_request
def _security_headers(response: Response) -> Response:
    """nosniff on every answer Flask gives; on an HTML answer the page policy too (a CSP
    with nothing inline, no framing, no Referer). Feeds have theirs from FeedEndpoint."""
    response.headers.setdefault(*NOSNIFF)
    if response.mimetype == "text/html":
        for name, value in PAGE_POLICY:
            response.headers.setdefault(name, value)
    return response


def _directory(language: str) -> Response:
    """The feeds page in ``language``: written once per store revision and language (it
    lists every feed: thousands on a large store), then kept."""
    written = kept_per_revision(app_state().feeds_pages, dict)
    html = written.get(language)
    if html is None:
        html = written[language] = _write_directory(language)
    response = cacheable_answer(html, "text/html; charset=utf-8")
    response.headers["Content-Language"] = language
    return response


def _write_directory(language: str) -> str:
    """The feeds page with its interface, dates and numbers in ``language``."""
    state = app_state()
    settings = state.settings
    feeds = current_feed_index()["feeds"]
    ui = interface(language)
    return render_template(
        "feeds.html",
        settings=settings,
        language=language,
        direction=text_direction,
        ui=ui,
        _=ui.text,
        discovery=[feed for feed in feeds if feed["scope"] in ("site", "language")],
        groups=_groups(settings, feeds, state.service.revisions.view()),
        languages=_page_languages(settings, language),
        formats={fmt.value: fmt for fmt in FeedFormat},
        copy_script=COPY_SCRIPT,
    )


def _groups(
    settings: Settings, feeds: Iterable[Mapping[str, Any]], view: RevisionView
) -> list[LanguageGroup]:
    """The feeds of the index by language, each with its formats' URLs and its activity."""
    by_language: dict[str | None, dict[FeedSpec, dict[str, Any]]] = {}
    for feed in feeds:
        page = _page_of(feed)
        row = by_language.setdefault(page.language, {}).setdefault(
            page, {"title": feed["title"], "urls": {}}
        )
        row["urls"][feed["format"]] = feed["url"]
    pages = [page for rows in by_language.values() for page in rows]
    activity = kept_per_revision(app_state().feed_activity, lambda: _read_activity(view, pages))
    links = SiteLinks(settings)
    return [
        LanguageGroup(
            language,
            settings.languages[language] if language else None,
            text_direction(language or settings.default_language),
            [
                FeedRow(
                    row["title"],
                    row["urls"],
                    links.feed(page),
                    activity.get(page, ScopeActivity()),
                )
                for page, row in rows.items()
            ],
        )
        for language, rows in by_language.items()
    ]


def _page_of(feed: Mapping[str, Any]) -> FeedSpec:
    """The page (FeedFormat.HTML) of the feed of an index entry (feeds.render.index)."""
    for kind in _TERM_KINDS:
        slug = feed[kind.name.lower()]
        if slug is not None:
            return FeedSpec(FeedFormat.HTML, kind, (slug,), feed["language"])
    return FeedSpec(FeedFormat.HTML, language=feed["language"])


def _scope_of(view: RevisionView, spec: FeedSpec) -> str | None:
    """The scope key of a listed feed; None for a term made after ``view`` was read (the
    feed then shows no posts until the view knows it, a moment later)."""
    try:
        (scope,) = view.scopes_of(spec)
    except FeedNotFound:
        return None
    return scope


def _read_activity(view: RevisionView, pages: Iterable[FeedSpec]) -> dict[FeedSpec, ScopeActivity]:
    """The activity of each of these feeds' scopes, now (those with posts)."""
    scopes = {page: scope for page in pages if (scope := _scope_of(view, page)) is not None}
    with app_state().store.session() as session:
        counted = scope_activity(session, set(scopes.values()), datetime.now(UTC))
    return {page: counted[scope] for page, scope in scopes.items() if scope in counted}


def _page_languages(settings: Settings, language: str) -> list[PageLanguage]:
    """The feeds page in every configured language but ``language``: the default
    language's at `/`."""
    return [
        PageLanguage(
            code,
            name,
            url_for(".feeds_page")
            if code == settings.default_language
            else url_for(".language_feeds_page", lang=code),
        )
        for code, name in settings.languages.items()
        if code != language
    ]
