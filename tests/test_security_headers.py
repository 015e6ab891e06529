"""Security headers as a browser reads them: the feeds page under a Content-Security-Policy
that allows nothing inline but the copy script (by its hash) and no framing, and no answer
a browser may sniff into HTML."""

from __future__ import annotations

import lxml.html
import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from feeds.render.page import COPY_SCRIPT


def policy(response: TestResponse) -> dict[str, list[str]]:
    """The Content-Security-Policy header as directive → sources."""
    directives = {}
    for directive in response.headers["Content-Security-Policy"].split(";"):
        name, *sources = directive.split()
        directives[name] = sources
    return directives


def test_the_feeds_page_has_a_policy_with_nothing_inline_and_no_framing(
    demo_client: FlaskClient,
) -> None:
    response = demo_client.get("/")
    assert response.status_code == 200
    directives = policy(response)
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]
    assert directives["default-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_a_304_of_the_page_keeps_its_policy(demo_client: FlaskClient) -> None:
    first = demo_client.get("/")
    again = demo_client.get("/", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]


def test_the_page_holds_nothing_its_policy_would_block(demo_client: FlaskClient) -> None:
    document = lxml.html.fromstring(demo_client.get("/").data)
    assert document.xpath("//style | //*[@style]") == []
    # one script: the copy button's, allowed by its hash (tests/test_pages.py checks it)
    assert [script.text for script in document.xpath("//script")] == [COPY_SCRIPT]
    handlers = [a for e in document.iter() for a in e.attrib if a.lower().startswith("on")]
    assert handlers == []


def test_the_page_stylesheet_is_feeds_own_and_allowed(demo_client: FlaskClient) -> None:
    page = demo_client.get("/")
    sheets = lxml.html.fromstring(page.data).xpath("//link[@rel='stylesheet']/@href")
    assert len(sheets) == 1 and sheets[0].startswith("/")  # same origin: 'self'
    assert "'self'" in policy(page)["style-src"]
    sheet = demo_client.get(sheets[0])
    assert sheet.status_code == 200
    assert sheet.mimetype == "text/css"
    assert sheet.headers["X-Content-Type-Options"] == "nosniff"
    assert b"font-family" in sheet.data


@pytest.mark.parametrize(
    "path",
    ["/feeds/all.atom", "/feeds/all.rss", "/feeds.json", "/healthz", "/metrics", "/nowhere",
     "/feeds/category/nope.atom"],
)  # fmt: skip
def test_other_answers_are_not_sniffed(demo_client: FlaskClient, path: str) -> None:
    response = demo_client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.mimetype != "text/html"


def test_a_feed_poll_answered_304_is_not_sniffed_either(demo_client: FlaskClient) -> None:
    etag = demo_client.get("/feeds/all.atom").headers["ETag"]
    again = demo_client.get("/feeds/all.atom", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["X-Content-Type-Options"] == "nosniff"
