"""Whatever the write path accepts renders, in every feed holding it, and never carries
script-capable markup to readers; what it cannot keep safely it refuses, naming the field."""

from __future__ import annotations

import html
from typing import Any

import lxml.html
import pytest
from flask.testing import FlaskClient
from lxml import etree

from feeds.store import validation
from tests.conftest import parse_feed
from tests.test_api import BEARER, assert_error, new_post

FEEDS_OF_A_TECH_POST = [
    f"{language}/feeds/{scope}.{fmt}"
    for language in ("", "/en")
    for scope in ("all", "category/tech")
    for fmt in ("atom", "rss")
]
SCRIPT_CAPABLE = ("script", "iframe", "object", "embed", "style")


def entry_html(body: bytes) -> list[str]:
    """Every HTML fragment the feed hands readers: Atom content and summary, RSS
    description and content:encoded."""
    root = etree.fromstring(body)
    paths = (
        "//*[local-name()='entry']/*[local-name()='content' or local-name()='summary']/text()",
        "//item/description/text()",
        "//item/*[local-name()='encoded']/text()",
    )
    return [str(text) for path in paths for text in root.xpath(path)]


def assert_no_live_markup(fragment: str) -> None:
    if not fragment.strip():
        return
    for element in lxml.html.fragment_fromstring(fragment, create_parent="div").iter():
        assert element.tag not in SCRIPT_CAPABLE, fragment
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), fragment
            assert not value.strip().lower().startswith("javascript:"), fragment


def assert_every_feed_renders_and_is_safe(api: FlaskClient) -> list[Any]:
    entries = []
    for path in FEEDS_OF_A_TECH_POST:
        response = api.get(path)
        assert response.status_code == 200, (path, response.data[:300])
        entries += parse_feed(response.data).entries
        for fragment in entry_html(response.data):
            assert_no_live_markup(fragment)
    return entries


@pytest.mark.parametrize(
    "content", ["<p>&#1;</p>", "<p>&#xFFFE;</p>", "<p>a&#x1F;b&#0;c</p>", "<p>&#xD800;</p>"]
)
def test_character_references_xml_cannot_hold_never_break_a_feed(
    api: FlaskClient, content: str
) -> None:
    post = new_post(api, content_html=content)
    assert post["content_html"].startswith("<p>")
    assert assert_every_feed_renders_and_is_safe(api)


def test_a_raw_summary_never_reaches_readers_as_markup_when_there_is_no_content(
    api: FlaskClient,
) -> None:
    new_post(api, summary="<img src=x onerror=alert(1)>", content_html="")
    entries = assert_every_feed_renders_and_is_safe(api)
    # It is shown as the text it is, never as an element
    assert all("onerror" not in (e.get("content") or [{}])[0].get("value", "") for e in entries)
    assert all(html.unescape(e.summary) == "<img src=x onerror=alert(1)>" for e in entries)


def test_content_the_cleaner_empties_leaves_no_content_element(api: FlaskClient) -> None:
    new_post(api, summary="<script>alert(1)</script>", content_html="<script>alert(1)</script>")
    entries = assert_every_feed_renders_and_is_safe(api)
    assert all("content" not in entry for entry in entries)


def test_more_categories_than_allowed_are_refused_with_422(
    api: FlaskClient, api_settings: Any
) -> None:
    many = [f"c{number}" for number in range(api_settings.max_terms_per_post + 1)]
    for field in ("categories", "tags", "authors"):
        body = {"title": "T", "language": "en", field: many}
        response = api.post("/api/posts", json=body, headers=BEARER)
        assert "max_terms_per_post" in assert_error(response, 422, field)
    assert api.get("/api/posts").get_json()["posts"] == []


def test_the_most_categories_allowed_render_in_every_feed(
    api: FlaskClient, api_settings: Any
) -> None:
    slugs = ["tech", *(f"c{n}" for n in range(api_settings.max_terms_per_post - 1))]
    new_post(api, categories=slugs)
    entries = assert_every_feed_renders_and_is_safe(api)
    assert all(len(entry.tags) == len(slugs) for entry in entries)


def test_text_that_would_not_render_after_cleaning_is_refused_naming_the_field(
    api: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The invariant check after cleaning: were the cleaner ever to let a character through
    that XML cannot hold, the write is refused, not stored to break every feed."""
    monkeypatch.setattr(validation, "clean_html", lambda fragment, _base: fragment + "\x01")
    response = api.post("/api/posts", json={"title": "T", "language": "en", "content_html": "x"})
    assert_error(response, 422, "content_html")
    assert api.get("/feeds/all.atom").status_code == 200
    assert api.get("/api/posts").get_json()["posts"] == []
