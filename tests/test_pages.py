"""The feeds page `/`: autodiscovery links in its head and every feed in its body, checked
with lxml, through the HTTP exchange, and in a real browser (headless Chromium)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import lxml.html
import pytest
from flask.testing import FlaskClient

from feeds.settings import Settings
from tests.conftest import REPO
from tests.live import free_port, require_tool
from tests.test_production import start, stop

FEED_TYPES = {"application/atom+xml", "application/rss+xml", "application/feed+json"}


def alternates(document: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    return document.xpath("/html/head/link[@rel='alternate']")


def test_head_links_the_site_and_language_feeds_for_autodiscovery(
    demo_client: FlaskClient, demo_settings: Settings
) -> None:
    response = demo_client.get("/")
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    links = alternates(lxml.html.fromstring(response.data))
    # the site's feeds and each language's, in every format; categories are in the body
    assert len(links) == len(FEED_TYPES) * (1 + len(demo_settings.languages))
    for link in links:
        assert link.get("type") in FEED_TYPES
        assert link.get("href").startswith(demo_settings.base_url + "/")
        assert link.get("title")
        feed = demo_client.get(link.get("href").removeprefix(demo_settings.base_url))
        assert feed.status_code == 200
        assert feed.content_type.startswith(link.get("type"))
    languages = {link.get("hreflang") for link in links}
    assert languages == {None, *demo_settings.languages}


def test_body_lists_exactly_the_feeds_of_the_index(demo_client: FlaskClient) -> None:
    document = lxml.html.fromstring(demo_client.get("/").data)
    listed = {a.get("href") for a in document.xpath("//section//a")}
    indexed = {feed["url"] for feed in demo_client.get("/feeds.json").get_json()["feeds"]}
    assert listed == indexed


def test_language_sections_say_their_language_and_direction(
    demo_client: FlaskClient, demo_settings: Settings
) -> None:
    document = lxml.html.fromstring(demo_client.get("/").data)
    sections = {s.get("lang"): s for s in document.xpath("//section")}
    assert set(sections) == {None, *demo_settings.languages}
    assert sections["ar"].get("dir") == "rtl"
    assert sections["ar"].findtext("h2") == "العربية"
    assert sections["ja"].get("dir") == "ltr"


def test_page_revalidates_with_its_etag(demo_client: FlaskClient) -> None:
    first = demo_client.get("/")
    assert first.cache_control.public and first.headers["ETag"]
    again = demo_client.get("/", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


@pytest.fixture
def served(demo_settings: Settings, tmp_path: Path) -> Iterator[int]:
    port = free_port()
    settings = demo_settings.replace(base_url=f"http://127.0.0.1:{port}")
    command = [sys.executable, "-m", "feeds", "--config", str(REPO / "config.toml"),
               "serve", "--port", str(port)]  # fmt: skip
    process = start(command, settings, port, tmp_path / "server.log")
    yield port
    stop(process)


@pytest.mark.process
def test_a_real_browser_finds_the_feeds(served: int, tmp_path: Path) -> None:
    browser = require_tool("chromium", "chromium", "chromium-browser")
    dumped = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", f"http://127.0.0.1:{served}/"],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    document = lxml.html.fromstring(dumped.stdout)
    assert document.findtext(".//title") == "Ledger Blog: feeds"
    links = alternates(document)
    assert {link.get("type") for link in links} == FEED_TYPES
    assert f"http://127.0.0.1:{served}/feeds/all.atom" in {link.get("href") for link in links}
    arabic = document.xpath("//section[@lang='ar']")[0]
    assert arabic.get("dir") == "rtl" and arabic.findtext("h2") == "العربية"


@pytest.mark.process
def test_a_real_browser_applies_the_page_style_under_its_policy(
    served: int, tmp_path: Path
) -> None:
    """Chromium fetches the page's stylesheet and reports no Content-Security-Policy
    violation on its console (an inline style would be refused and reported there)."""
    browser = require_tool("chromium", "chromium", "chromium-browser")
    run = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
         "--dump-dom", f"http://127.0.0.1:{served}/"],
        capture_output=True, timeout=120, check=True, text=True,
    )  # fmt: skip
    console = [line for line in run.stderr.splitlines() if "CONSOLE" in line]
    assert not [line for line in console if "Content Security Policy" in line], console
    assert lxml.html.fromstring(run.stdout).findtext(".//h1")
    fetched = [json.loads(line) for line in (tmp_path / "server.log").read_text().splitlines()
               if line.startswith("{")]  # fmt: skip
    assert ("/static/feeds.css", 200) in {(line["path"], line["status"]) for line in fetched}
