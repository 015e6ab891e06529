"""/feeds.opml: every listed feed as an OPML 2.0 subscription list, read back by listparser
and imported by a real newsboat (`newsboat -i`)."""

from __future__ import annotations

import os
import shlex
import subprocess
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import listparser
import lxml.etree
import lxml.html
import pytest
from flask.testing import FlaskClient

from feeds.serving.service import FeedService
from feeds.settings import Settings
from feeds.store import Store
from feeds.tools.static_build import build_static
from feeds.web.app_state import app_state
from tests.conftest import add_post
from tests.live import require_tool

SCOPE_FOLDERS = {"category": "Categories", "tag": "Tags", "author": "Authors"}
HOSTILE_CATEGORY = "R&D <\"Labs\"> & 'friends'"


def atom_feeds(client: FlaskClient) -> list[dict[str, Any]]:
    """The feeds of /feeds.json the OPML lists: one per feed, its Atom URL."""
    return [
        feed for feed in client.get("/feeds.json").get_json()["feeds"] if feed["format"] == "atom"
    ]


def folder_path(settings: Settings, feed: dict[str, Any]) -> list[str]:
    """Where a feed of the index belongs in the OPML: its language's outline, then its
    scope's (none for the site's feed)."""
    language = settings.languages[feed["language"]] if feed["language"] else "Every language"
    kinds = [folder for kind, folder in SCOPE_FOLDERS.items() if feed[kind] is not None]
    return [language, *kinds]


def test_opml_lists_each_feed_once_in_atom_grouped_by_language_then_scope(
    demo_client: FlaskClient, demo_settings: Settings
) -> None:
    parsed = listparser.parse(demo_client.get("/feeds.opml").data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "opml2"
    expected = {feed["url"]: feed for feed in atom_feeds(demo_client)}
    urls = [feed.url for feed in parsed.feeds]
    assert sorted(urls) == sorted(expected)  # every one, once
    for read in parsed.feeds:
        feed = expected[read.url]
        assert read.title == feed["title"]
        assert read.categories == [folder_path(demo_settings, feed)]


def test_languages_come_in_order_every_language_first_and_the_site_feed_leads_each(
    demo_client: FlaskClient, demo_settings: Settings
) -> None:
    document = lxml.etree.fromstring(demo_client.get("/feeds.opml").data)
    languages = [outline.get("text") for outline in document.xpath("/opml/body/outline")]
    assert languages == ["Every language", *demo_settings.languages.values()]
    for language in document.xpath("/opml/body/outline"):
        children = language.xpath("outline")
        assert children[0].get("type") == "rss"  # the site's feed (or the language's)
        assert [child.get("text") for child in children[1:]] == list(SCOPE_FOLDERS.values())
    french = document.xpath("/opml/body/outline[@text='Français']//outline[@type='rss']")
    assert {outline.get("language") for outline in french} == {"fr"}
    assert document.xpath("/opml/body/outline[1]/outline[1]/@htmlUrl") == [demo_settings.home_url]


def test_head_says_title_owner_dates_and_docs(
    demo_client: FlaskClient, demo_settings: Settings
) -> None:
    document = lxml.etree.fromstring(demo_client.get("/feeds.opml").data)
    head = {child.tag: child.text for child in document.find("head")}
    assert head["title"] == f"{demo_settings.site_title}: feeds"
    assert head["ownerName"] == demo_settings.site_title
    assert head["docs"] == "http://opml.org/spec2.opml"
    site_feed = demo_client.get("/feeds/all.atom")
    # RFC 822 dates: the time the site last changed, as its feed's Last-Modified says
    assert head["dateModified"] == site_feed.headers["Last-Modified"]
    assert parsedate_to_datetime(head["dateCreated"]) == parsedate_to_datetime(head["dateModified"])


def test_opml_is_served_as_text_x_opml_with_caching_and_304(demo_client: FlaskClient) -> None:
    response = demo_client.get("/feeds.opml")
    assert response.status_code == 200
    assert response.content_type == "text/x-opml; charset=utf-8"
    assert (
        response.headers["Cache-Control"] == demo_client.get("/feeds.json").headers["Cache-Control"]
    )
    again = demo_client.get("/feeds.opml", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_titles_with_markup_quotes_arabic_and_cjk_survive(
    api: FlaskClient, settings: Settings, store: Store
) -> None:
    api.post("/api/categories", json={"slug": "rnd", "name": HOSTILE_CATEGORY})
    api.post("/api/categories", json={"slug": "arabic", "name": "تقنية"})
    add_post(store, settings, categories=["rnd", "arabic"], authors=["林美 <&>"])
    parsed = listparser.parse(api.get("/feeds.opml").data)
    assert not parsed.bozo
    titles = {feed.title for feed in parsed.feeds}
    assert f"{settings.site_title} – {HOSTILE_CATEGORY}" in titles
    assert f"{settings.site_title} – تقنية" in titles
    assert any("林美 <&>" in title for title in titles)
    assert sorted(feed.url for feed in parsed.feeds) == sorted(
        feed["url"] for feed in atom_feeds(api)
    )


def test_feeds_page_links_the_opml(demo_client: FlaskClient) -> None:
    page = lxml.html.fromstring(demo_client.get("/").data)
    assert page.xpath("//body//a/@href[. = '/feeds.opml']")
    assert page.xpath("/html/head/link[@rel='outline'][@type='text/x-opml']/@href") == [
        "/feeds.opml"
    ]


def test_build_writes_the_opml_the_app_serves(
    api: FlaskClient, settings: Settings, store: Store, tmp_path: Path
) -> None:
    add_post(store, settings, categories=["tech"])
    build_static(FeedService(settings, store), tmp_path)
    assert (tmp_path / "feeds.opml").read_bytes() == api.get("/feeds.opml").data


@pytest.mark.process
def test_newsboat_imports_every_feed(demo_client: FlaskClient, tmp_path: Path) -> None:
    """`newsboat -i` with its own config, cache and urls file: it writes one line per feed,
    the URL then its folders as one tag."""
    newsboat = require_tool("newsboat", "newsboat")
    opml = tmp_path / "feeds.opml"
    opml.write_bytes(demo_client.get("/feeds.opml").data)
    urls, config = tmp_path / "urls", tmp_path / "config"
    config.write_text("")
    environment = {
        **os.environ,
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path),
    }
    done = subprocess.run(
        [
            newsboat,
            "-i",
            str(opml),
            "-u",
            str(urls),
            "-c",
            str(tmp_path / "cache.db"),
            "-C",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    imported = [shlex.split(line) for line in urls.read_text().splitlines() if line.strip()]
    opml_urls = lxml.etree.parse(opml).xpath("//outline[@type='rss']/@xmlUrl")
    assert [line[0] for line in imported] == opml_urls
    settings = app_state(demo_client.application).settings
    by_url = {feed["url"]: feed for feed in atom_feeds(demo_client)}
    for url, *tags in imported:
        assert tags == ["/".join(folder_path(settings, by_url[url]))]
