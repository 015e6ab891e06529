"""The feeds page `/` (and `/<lang>/`): autodiscovery links in its head, and in its body
every feed with its posts, last update, formats, page and copy button, checked with lxml
against the feeds themselves, through the HTTP exchange, and in a real browser (headless
Chromium)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from base64 import b64encode
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import lxml.etree
import lxml.html
import pytest
from flask.testing import FlaskClient

from feeds import create_app
from feeds.settings import Settings
from feeds.store import Store
from tests.conftest import REPO, add_post
from tests.live import free_port, require_tool
from tests.test_production import start, stop

FEED_TYPES = {"application/atom+xml", "application/rss+xml", "application/feed+json"}
ATOM = "http://www.w3.org/2005/Atom"
CONTENT_TYPES = {
    "Atom": "application/atom+xml; charset=utf-8",
    "RSS": "application/rss+xml; charset=utf-8",
    "JSON Feed": "application/feed+json; charset=utf-8",
    "page": "text/html; charset=utf-8",
}
FRENCH_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
                 "septembre", "octobre", "novembre", "décembre")  # fmt: skip


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


def rows_of(document: lxml.html.HtmlElement, language: str | None = None) -> list[Row]:
    """The feeds listed in one language's section (of every language: None)."""
    where = f"[@lang='{language}']" if language else "[not(@lang)]"
    (section,) = document.xpath(f"//main/section{where}")
    return [Row(row) for row in section.xpath(".//tbody/tr")]


class Row:
    """One feed of the feeds page, as its table row shows it."""

    def __init__(self, row: lxml.html.HtmlElement) -> None:
        self.element = row
        (self.page,) = row.xpath("./th[@scope='row']/a/@href")
        self.title = row.xpath("./th[@scope='row']/a")[0].text_content()
        self.posts = row.xpath("./td[@class='count']")[0].text_content()
        self.updated = row.xpath(".//time/@datetime")
        self.formats = {a.text: a.get("href") for a in row.xpath("./td[@class='formats']/a")}
        (self.address,) = row.xpath(".//input")


def local(url: str, settings: Settings) -> str:
    return url.removeprefix(settings.base_url)


def test_body_lists_exactly_the_feeds_of_the_index(
    demo_client: FlaskClient, demo_settings: Settings
) -> None:
    document = lxml.html.fromstring(demo_client.get("/").data)
    listed = {url for a in document.xpath("//td[@class='formats']") for url in a.xpath("./a/@href")}
    indexed = {feed["url"] for feed in demo_client.get("/feeds.json").get_json()["feeds"]}
    assert listed == indexed
    pages = set(document.xpath("//tbody/tr/th/a/@href"))
    atom = {url for url in indexed if url.endswith(".atom")}
    assert pages == {url.removesuffix(".atom") + ".html" for url in atom}


def test_language_sections_say_their_language_and_direction(
    demo_client: FlaskClient, demo_settings: Settings
) -> None:
    document = lxml.html.fromstring(demo_client.get("/").data)
    sections = {s.get("lang"): s for s in document.xpath("//section")}
    assert set(sections) == {None, *demo_settings.languages}
    assert sections["ar"].get("dir") == "rtl"
    assert sections["ar"].findtext("h2") == "العربية"
    assert sections["ja"].get("dir") == "ltr"


def test_counts_and_last_updates_are_those_of_the_feeds(
    demo_client: FlaskClient, demo_settings: Settings
) -> None:
    """Every French feed that holds all its posts (no more than items_per_feed) has them
    counted, and its newest entry's date as its last update."""
    document = lxml.html.fromstring(demo_client.get("/").data)
    checked = 0
    for row in rows_of(document, "fr"):
        posts = int(row.posts.replace(",", ""))
        if posts > demo_settings.items_per_feed:
            continue
        feed = lxml.etree.fromstring(
            demo_client.get(local(row.formats["Atom"], demo_settings)).data
        )
        published = feed.xpath("//a:entry/a:published/text()", namespaces={"a": ATOM})
        assert posts == len(published), row.title
        newest = max(map(datetime.fromisoformat, published), default=None)
        assert [datetime.fromisoformat(when) for when in row.updated] == (
            [newest] if newest else []
        )
        checked += 1
    assert checked >= 5


def test_every_feed_has_a_copy_button_for_its_atom_address(demo_client: FlaskClient) -> None:
    document = lxml.html.fromstring(demo_client.get("/").data)
    rows = [row for language in (None, "ar", "ja") for row in rows_of(document, language)]
    for row in rows:
        field = row.address
        assert field.get("readonly") is not None and field.get("type") == "url"
        assert field.get("value") == row.formats["Atom"]
        assert row.title in field.get("aria-label")  # its accessible name says whose it is
        (button,) = row.element.xpath(".//button")
        assert button.get("type") == "button" and button.get("class") == "copy"
        assert button.get("aria-controls") == field.get("id")
        assert button.text == "Copy" and button.get("data-copied") == "Copied"
    ids = document.xpath("//input/@id")
    assert len(ids) == len(set(ids)) == len(document.xpath("//tbody/tr"))


def test_format_and_page_links_answer_in_their_content_type(
    demo_client: FlaskClient, demo_settings: Settings
) -> None:
    document = lxml.html.fromstring(demo_client.get("/").data)
    for row in rows_of(document) + rows_of(document, "ar"):
        links = [*row.formats.items(), ("page", row.page)]
        for label, url in links:
            response = demo_client.get(local(url, demo_settings))
            assert response.status_code == 200, url
            assert response.content_type == CONTENT_TYPES[label], url
        assert (
            feedparser.parse(demo_client.get(local(row.formats["Atom"], demo_settings)).data).bozo
            == 0
        )


def test_the_arabic_page_reads_right_to_left_in_arabic(
    demo_client: FlaskClient, demo_settings: Settings
) -> None:
    response = demo_client.get("/ar/")
    assert response.status_code == 200 and response.headers["Content-Language"] == "ar"
    document = lxml.html.fromstring(response.data)
    assert document.get("lang") == "ar" and document.get("dir") == "rtl"
    headers = document.xpath("(//thead)[1]//th/text()")
    assert headers[1] == "المقالات" and "Posts" not in headers
    assert {button.text for button in document.xpath("//button")} == {"نسخ"}
    assert document.findtext(".//h1") == f"{demo_settings.site_title}: الخلاصات"
    every = document.xpath("//main/section[not(@lang)]/h2/text()")
    assert every == ["كل اللغات"]
    (arabic,) = document.xpath("//main/section[@lang='ar']")
    assert arabic.get("dir") == "rtl"
    english = document.xpath("//main/section[@lang='en']")[0]
    assert english.get("dir") == "ltr"  # each section keeps its language's direction


def test_each_language_page_links_the_others(
    demo_client: FlaskClient, demo_settings: Settings
) -> None:
    for path, language in [("/", demo_settings.default_language), ("/fr/", "fr")]:
        document = lxml.html.fromstring(demo_client.get(path).data)
        assert document.get("lang") == language
        nav = {
            a.get("hreflang"): a.get("href") for a in document.xpath("//nav[@class='languages']//a")
        }
        assert set(nav) == set(demo_settings.languages) - {language}
        for code, href in nav.items():
            assert href == ("/" if code == demo_settings.default_language else f"/{code}/")
            assert demo_client.get(href).status_code == 200
    french = lxml.html.fromstring(demo_client.get("/fr/").data)
    assert french.xpath("(//thead)[1]//th/text()")[:2] == ["Flux", "Articles"]
    dates = french.xpath("(//tbody)[1]//time/text()")
    assert dates and all(any(month in d for month in FRENCH_MONTHS) for d in dates)


def test_a_scheduled_post_is_not_counted_and_an_empty_feed_shows_no_date(
    client: FlaskClient, store: Store, settings: Settings
) -> None:
    add_post(store, settings, published=datetime(2024, 3, 1, 12, tzinfo=UTC))
    add_post(store, settings, published=datetime.now(UTC) + timedelta(days=2))
    document = lxml.html.fromstring(client.get("/").data)
    site = next(row for row in rows_of(document) if row.page.endswith("/feeds/all.html"))
    assert site.posts == "1"
    assert site.updated == ["2024-03-01T12:00:00+00:00"]
    assert len(feedparser.parse(client.get("/feeds/all.atom").data).entries) == 1
    french = next(row for row in rows_of(document, "fr") if row.page.endswith("/fr/feeds/all.html"))
    assert french.posts == "0" and french.updated == []


def test_a_write_moves_the_counts(client: FlaskClient, store: Store, settings: Settings) -> None:
    add_post(store, settings)
    first = client.get("/")
    add_post(store, settings, published=datetime(2025, 5, 5, tzinfo=UTC))
    document = lxml.html.fromstring(
        client.get("/", headers={"If-None-Match": first.headers["ETag"]}).data
    )
    site = next(row for row in rows_of(document) if row.page.endswith("/feeds/all.html"))
    assert site.posts == "2" and site.updated == ["2025-05-05T00:00:00+00:00"]


def test_after_a_write_the_page_counts_again_at_most_every_refresh_seconds(
    store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr("feeds.web.app_state.time.monotonic", lambda: clock[0])
    client = create_app(settings.replace(feeds_page_refresh_seconds=60)).test_client()
    add_post(store, settings)

    def site_posts(path: str = "/") -> str:
        rows = rows_of(lxml.html.fromstring(client.get(path).data))
        return next(row.posts for row in rows if row.page.endswith("/feeds/all.html"))

    assert site_posts() == "1"
    add_post(store, settings)
    clock[0] += 59
    assert site_posts() == "1"  # counted 59 s ago: kept
    assert site_posts("/fr/") == "1"  # first written now, with the same counts as /
    assert len(feedparser.parse(client.get("/feeds/all.atom").data).entries) == 2  # feeds: now
    clock[0] += 1
    assert site_posts() == "2"


def test_hostile_names_show_as_text(api: FlaskClient, settings: Settings, store: Store) -> None:
    hostile = '"><img src=x onerror=alert(1)><script>alert(2)</script>'
    api.post("/api/categories", json={"slug": "rnd", "name": hostile})
    add_post(store, settings, categories=["rnd"], authors=["javascript:alert(3) <&>"])
    response = api.get("/fr/")
    document = lxml.html.fromstring(response.data)
    assert document.xpath("//img") == [] and len(document.xpath("//script")) == 1
    assert [a for e in document.iter() for a in e.attrib if a.lower().startswith("on")] == []
    titles = [row.title for row in rows_of(document)]
    assert f"{settings.site_title} – {hostile}" in titles
    labels = document.xpath("//input/@aria-label")
    assert any(hostile in label for label in labels)
    assert not [href for href in document.xpath("//a/@href") if href.startswith("javascript:")]


@pytest.mark.parametrize("path", ["/xx/", "/EN/", "/fr-fr/"])
def test_an_unknown_language_is_a_json_404(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.content_type == "application/json"
    assert response.get_json()["status"] == 404


def test_the_policy_allows_the_one_inline_script_by_its_hash(demo_client: FlaskClient) -> None:
    for path in ("/", "/ar/"):
        response = demo_client.get(path)
        policy = response.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in policy
        (script,) = lxml.html.fromstring(response.data).xpath("//script")
        assert script.get("src") is None
        digest = b64encode(hashlib.sha256(script.text.encode()).digest()).decode()
        assert f"script-src 'sha256-{digest}';" in policy
        document = lxml.html.fromstring(response.data)
        assert document.xpath("//style | //*[@style]") == []
        assert [a for e in document.iter() for a in e.attrib if a.lower().startswith("on")] == []


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
