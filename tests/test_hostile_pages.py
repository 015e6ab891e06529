"""Hostile text in every page (issue 14, safe pages): titles, summaries, category, tag and
author names that hold markup, event handlers and ``javascript:`` links are stored through
the admin API, then every HTML answer is read back: what was stored shows as text, and
nothing in it became an element, an attribute, a script or a link."""

from __future__ import annotations

from collections.abc import Iterator

import feedparser
import lxml.html
import pytest
from flask.testing import FlaskClient

from feeds.render.page import COPY_SCRIPT
from tests.test_api import new_post

HOSTILE = (
    '<script>alert("title")</script>',
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(2)",
    "</title><script>alert(3)</script>",
    "' onmouseover='alert(4)",
)
CATEGORY_NAME = "Evil " + HOSTILE[1] + HOSTILE[2]
AUTHOR_NAME = "Mallory " + HOSTILE[0]
TAG = "evil-tag"
TAG_NAME = HOSTILE[3] + " tag"


@pytest.fixture
def hostile(api: FlaskClient) -> Iterator[FlaskClient]:
    created = api.post("/api/categories", json={"slug": "evil", "name": CATEGORY_NAME})
    assert created.status_code == 201, created.json
    author = api.post("/api/authors", json={"name": AUTHOR_NAME, "slug": "mallory"})
    assert author.status_code == 201, author.json
    for number, text in enumerate(HOSTILE * 2):  # enough posts to list the tag's feeds
        new_post(
            api,
            title=f"{text} #{number}",
            summary=f"Summary {text}",
            content_html=f"<p>{text}</p>",
            categories=["evil"],
            authors=[AUTHOR_NAME],
            tags=[{"slug": TAG, "name": TAG_NAME}],
            slug=f"evil-{number}",
        )
    yield api


def test_a_javascript_link_is_refused_where_a_url_is_stored(api: FlaskClient) -> None:
    author = api.post("/api/authors", json={"name": "Eve", "uri": "javascript:alert(1)"})
    assert author.status_code == 422 and author.is_json
    image = {"url": "javascript:alert(1)", "alt": "x"}
    post = api.post("/api/posts", json={"title": "t", "language": "en", "image": image})
    assert post.status_code == 422 and post.is_json


def pages(client: FlaskClient) -> list[tuple[str, dict[str, str]]]:
    navigation = {"Sec-Fetch-Dest": "document", "Sec-Fetch-Mode": "navigate"}
    listed = [feed["url"] for feed in client.get("/feeds.json").get_json()["feeds"]]
    feeds = [url.split("//", 1)[1].split("/", 1)[1] for url in listed]
    paths = {"/" + path.rsplit(".", 1)[0] + ".html" for path in feeds if "evil" in path}
    paths |= {"/feeds/author/mallory.html", "/feeds/all.html", "/ar/feeds/all.html"}
    assert "/feeds/category/evil.html" in paths and f"/feeds/tag/{TAG}.html" in paths
    return [
        ("/", {}),
        ("/feeds/snippet.html", {}),
        ("/feeds/category/evil.atom", navigation),
        ("/feeds/author/mallory.rss", navigation),
        *((path, {}) for path in sorted(paths)),
    ]


def test_no_page_turns_stored_text_into_markup(hostile: FlaskClient) -> None:
    seen_as_text = set()
    for path, headers in pages(hostile):
        response = hostile.get(path, headers=headers)
        assert response.status_code == 200, path
        assert response.mimetype == "text/html", path
        policy = response.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in policy and "script-src 'sha256-" in policy, path
        document = lxml.html.fromstring(response.data)
        for script in document.iter("script"):
            assert script.get("src") is None and script.text == COPY_SCRIPT, path
        assert not list(document.iter("img", "iframe", "object", "embed", "form")), path
        for element in document.iter():
            for name, value in element.attrib.items():
                assert not name.lower().startswith("on"), (path, element.tag, name)
                if name in ("href", "src", "action", "formaction"):
                    assert not value.strip().lower().startswith("javascript:"), (path, value)
        text = document.text_content()
        seen_as_text |= {value for value in HOSTILE if value in text}
    assert seen_as_text == set(HOSTILE)


def test_the_feeds_carry_hostile_text_as_text(hostile: FlaskClient) -> None:
    for path in ("/feeds/category/evil.atom", "/feeds/category/evil.rss"):
        parsed = feedparser.parse(hostile.get(path).data)
        assert parsed.bozo == 0
        titles = {entry.title for entry in parsed.entries}
        assert f"{HOSTILE[0]} #0" in titles and f"{HOSTILE[1]} #1" in titles
        assert CATEGORY_NAME in parsed.feed.title
    admin = hostile.get("/admin/stats")
    assert admin.status_code == 200 and "script-src" in admin.headers["Content-Security-Policy"]
