"""The README documents every setting and every URL the service answers (in the manner of
Datasette's tests/test_docs.py): a new key or route fails here until it is written down."""

from __future__ import annotations

import re
from dataclasses import fields

import pytest
from flask import Flask

from feeds import create_app
from feeds.serving.spec import FeedFormat, FeedSpec, ScopeKind
from feeds.settings import Settings
from feeds.store import Store
from tests.conftest import REPO

README = (REPO / "README.md").read_text()
SETTINGS = [field.name for field in fields(Settings)]
CONFIGURATION = README.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
# The rows of the README's configuration table: | `key` | default | meaning |
CONFIGURATION_ROWS = re.findall(r"^\| `(\w+)` \|", CONFIGURATION, re.M)
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def documented_urls() -> list[tuple[str | None, list[str]]]:
    """Every URL path the README writes in a code span, split into segments, with the HTTP
    method written before it (`GET /api/posts`), if any. The shorthand "`/a/all.atom`,
    `.rss`" counts as both paths."""
    spans = re.findall(r"`([^`\n]+)`", README)
    spans += [base + tail for base, tail in re.findall(r"`([^`\n]+)\.\w+`, `(\.\w+)`", README)]
    urls = []
    for span in spans:
        found = re.fullmatch(r"(?:([A-Z]+) )?(/\S*)", span.strip())
        if found is None:
            continue
        method, path = found.groups()
        path = re.split(r"[?\[]", path, maxsplit=1)[0]  # a query or an optional part
        urls.append((method, path.split("/")))
    return urls


DOCUMENTED = documented_urls()


def covers(documented: list[str], rule: list[str]) -> bool:
    """Whether a documented path names a route's path: the same segments, where a
    placeholder (`<slug>`) or an example value (`atom`) stands for a variable part, and a
    final `…` for the rest."""
    for position, written in enumerate(documented):
        if written == "…":
            return position < len(rule)
        if position >= len(rule):
            return False
        part = rule[position]
        if part.startswith("<"):
            if not written or written == "…":
                return False
            continue
        if written != part:
            return False
    return len(documented) == len(rule)


def is_documented(path: str, method: str | None = None) -> bool:
    """Whether the README writes ``path`` (Flask rule syntax), with ``method`` before it if
    one is given."""
    rule = [re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", part) for part in path.split("/")]
    return any(
        covers(written, rule) for said, written in DOCUMENTED if method is None or said == method
    )


@pytest.fixture
def every_route_app(settings: Settings, store: Store) -> Flask:
    """The app with every optional route on: the admin API and the WordPress redirects."""
    return create_app(settings.replace(admin_token="t", wordpress_redirects=True))


@pytest.mark.parametrize("key", SETTINGS)
def test_every_setting_has_a_row_in_the_configuration_table(key: str) -> None:
    assert key in CONFIGURATION_ROWS, f"README.md, ## Configuration: add a row for `{key}`"


def test_the_configuration_table_names_only_real_settings() -> None:
    assert set(CONFIGURATION_ROWS) <= set(SETTINGS)


def test_every_flask_route_is_in_the_readme(every_route_app: Flask) -> None:
    missing = []
    for rule in every_route_app.url_map.iter_rules():
        methods = sorted((rule.methods or set()) - IGNORED_METHODS)
        for method in methods:
            # GET routes may be written bare (`/healthz`); any other method with its path.
            if not is_documented(rule.rule, method) and not (
                method == "GET" and is_documented(rule.rule)
            ):
                missing.append(f"{method} {rule.rule}")
    assert not missing, f"README.md does not mention: {', '.join(missing)}"


@pytest.mark.parametrize(
    ("kind", "slugs"),
    [
        (ScopeKind.SITE, ()),
        (ScopeKind.CATEGORY, ("<slug>",)),
        (ScopeKind.CATEGORY, ("<a>", "<b>")),
        (ScopeKind.TAG, ("<slug>",)),
        (ScopeKind.AUTHOR, ("<slug>",)),
    ],
)
@pytest.mark.parametrize("language", [None, "<lang>"])
def test_every_feed_url_of_the_scheme_is_in_the_readme(
    kind: ScopeKind, slugs: tuple[str, ...], language: str | None
) -> None:
    for fmt in FeedFormat:
        path = FeedSpec(fmt, kind, slugs, language).path
        assert is_documented(path), f"README.md does not mention the feed URL {path}"


def test_older_pages_query_is_in_the_readme() -> None:
    assert "?before=" in README


@pytest.mark.parametrize(
    ("path", "method", "documented"),
    [
        ("/api/posts/<int:post_id>", "PATCH", True),  # `PATCH /api/posts/<id>`
        ("/api/posts/<int:post_id>", "POST", False),
        ("/feed/<kind>/", None, True),  # `/feed/atom/`
        ("/<lang>/category/<path:category>/feed/<kind>/", None, True),  # `…/feed/…`
        ("/static/<path:filename>", None, True),  # `/static/feeds.css`
        ("/nowhere", None, False),
        ("/api/posts/<int:post_id>/comments", None, False),
    ],
)
def test_is_documented_reads_the_readme_as_people_write_it(
    path: str, method: str | None, documented: bool
) -> None:
    assert is_documented(path, method) is documented
