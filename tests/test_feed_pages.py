"""Every feed's HTML page (``.html`` beside ``.atom``, ``.rss`` and ``.json``), and the
negotiation that gives it to a browser opening the feed's own URL (Sec-Fetch-Dest:
document) while every other client gets the feed exactly as before."""

from __future__ import annotations

import hashlib
from base64 import b64encode

import feedparser
import lxml.etree
import lxml.html
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

from feeds import create_app
from feeds.render.interface import LOCALES
from feeds.settings import Settings
from tests.conftest import REPO

ATOM = "http://www.w3.org/2005/Atom"
NAVIGATION = {"Sec-Fetch-Dest": "document", "Sec-Fetch-Mode": "navigate", "Accept": "text/html"}
FEED_URLS = [
    "/feeds/all.atom",
    "/feeds/all.rss",
    "/feeds/all.json",
    "/ar/feeds/all.atom",
    "/feeds/category/tech.rss",
    "/ja/feeds/category/tech.json",
    "/feeds/all/archive/1.atom",
]


def page_of(client: FlaskClient, url: str, **headers: str) -> lxml.html.HtmlElement:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.data[:300]
    assert response.content_type == "text/html; charset=utf-8"
    return lxml.html.fromstring(response.data)


@pytest.mark.parametrize("url", FEED_URLS)
def test_a_browser_navigation_to_a_feed_url_gets_its_page_which_no_cache_keeps(
    demo_client: FlaskClient, url: str
) -> None:
    response = demo_client.get(url, headers=NAVIGATION)
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "Sec-Fetch-Dest" in response.headers["Vary"]
    assert "script-src 'sha256-" in response.headers["Content-Security-Policy"]
    html_url = url.rsplit(".", 1)[0] + ".html"
    assert response.data == demo_client.get(html_url).data  # the feed's page, as it is


@pytest.mark.parametrize(
    "headers",
    [
        {},  # a feed reader
        {"Accept": "text/html,application/xhtml+xml"},  # a reader asking for HTML, no Sec-Fetch
        {"Sec-Fetch-Dest": "empty", "Sec-Fetch-Mode": "cors"},  # fetch() from a page
        {"Sec-Fetch-Dest": "iframe"},
        {"User-Agent": "curl/8.5.0", "Accept": "*/*"},
    ],
)
def test_every_other_client_gets_the_feed_bytes_as_before(
    demo_client: FlaskClient, headers: dict[str, str]
) -> None:
    plain = demo_client.get("/feeds/category/tech.atom")
    response = demo_client.get("/feeds/category/tech.atom", headers=headers)
    assert response.status_code == 200
    assert response.content_type == "application/atom+xml; charset=utf-8"
    assert response.data == plain.data
    assert response.headers["ETag"] == plain.headers["ETag"]
    assert response.headers["Cache-Control"].startswith("public, ")
    assert response.headers["Vary"] == "Accept-Encoding, Sec-Fetch-Dest"
    assert feedparser.parse(response.data).bozo == 0


def test_the_switch_turns_the_negotiation_off(demo_settings: Settings) -> None:
    client = create_app(demo_settings.replace(browser_pages=False)).test_client()
    response = client.get("/feeds/all.atom", headers=NAVIGATION)
    assert response.content_type == "application/atom+xml; charset=utf-8"
    assert response.headers["Vary"] == "Accept-Encoding"
    assert client.get("/feeds/all.html").status_code == 200  # the page itself stays


def test_the_page_url_is_cacheable_with_the_page_policy(demo_client: FlaskClient) -> None:
    first = demo_client.get("/feeds/category/tech.html")
    assert first.cache_control.public and first.headers["ETag"]
    policy = first.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    assert first.headers["Referrer-Policy"] == "no-referrer"
    again = demo_client.get(
        "/feeds/category/tech.html", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304


def test_the_inline_script_is_the_one_its_policy_allows(demo_client: FlaskClient) -> None:
    response = demo_client.get("/feeds/all.html")
    (script,) = lxml.html.fromstring(response.data).xpath("//script")
    assert script.get("src") is None
    digest = b64encode(hashlib.sha256(script.text.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in response.headers["Content-Security-Policy"]


def test_the_page_shows_the_feed_and_how_to_follow_it(
    demo_client: FlaskClient, demo_settings: Settings
) -> None:
    feed = feedparser.parse(demo_client.get("/feeds/category/tech.atom").data)
    page = page_of(demo_client, "/feeds/category/tech.html")
    assert page.findtext(".//h1") == feed.feed.title
    assert page.get("lang") == "en" and page.get("dir") == "ltr"
    addresses = [field.get("value") for field in page.xpath("//input[@readonly]")]
    base = demo_settings.base_url
    assert addresses == [f"{base}/feeds/category/tech.{fmt}" for fmt in ("atom", "rss", "json")]
    for field in page.xpath("//input[@readonly]"):  # each address has its copy button
        (button,) = page.xpath(f"//button[@aria-controls='{field.get('id')}']")
        assert button.text == "Copy"
    titles = [a.text_content() for a in page.xpath("//section[@class='entries']//h3/a")]
    assert titles == [entry.title for entry in feed.entries]
    links = [a.get("href") for a in page.xpath("//section[@class='entries']//h3/a")]
    assert links == [entry.link for entry in feed.entries]
    times = page.xpath("//section[@class='entries']//time/@datetime")
    assert [t[:19] for t in times] == [e.published[:19] for e in feed.entries]
    readers = page.xpath("//a[@rel='external noopener']/@href")
    assert any(href.startswith("https://feedly.com/") for href in readers)


def test_the_feed_links_to_its_page_and_readers_keep_the_blog_as_its_link(
    demo_client: FlaskClient, demo_settings: Settings
) -> None:
    page_url = f"{demo_settings.base_url}/fr/feeds/category/tech.html"
    for fmt in ("atom", "rss"):
        feed = feedparser.parse(demo_client.get(f"/fr/feeds/category/tech.{fmt}").data)
        assert feed.bozo == 0
        pages = [
            link for link in feed.feed.links if link.rel == "alternate" and link.href == page_url
        ]
        assert len(pages) == 1 and pages[0].type == "text/html"
    # the blog's category page stays the feed's link for readers that take the first
    # (SimplePie, Miniflux): it comes before the page's link
    atom = lxml.etree.fromstring(demo_client.get("/fr/feeds/category/tech.atom").data)
    html_links = atom.xpath("/a:feed/a:link[@type='text/html']/@href", namespaces={"a": ATOM})
    assert html_links == [
        demo_settings.category_url.format(
            home=demo_settings.language_home_url.format(lang="fr"), slug="tech", lang="fr"
        ),
        page_url,
    ]
    assert demo_client.get(page_url.removeprefix(demo_settings.base_url)).status_code == 200


def test_an_arabic_feed_page_reads_right_to_left_in_arabic(demo_client: FlaskClient) -> None:
    page = page_of(demo_client, "/ar/feeds/all.html")
    assert page.get("lang") == "ar" and page.get("dir") == "rtl"
    assert page.findtext(".//h2[@id='follow']") != "Follow this feed"  # translated
    (button,) = page.xpath("//button[@aria-controls='address-1']")
    assert button.text != "Copy"
    for field in page.xpath("//input[@readonly]"):
        assert field.get("dir") == "ltr"  # an address reads left to right all the same


def test_the_page_links_its_other_languages_and_pages(
    demo_client: FlaskClient, demo_settings: Settings
) -> None:
    page = page_of(demo_client, "/feeds/category/tech.html")
    languages = {a.get("hreflang"): a for a in page.xpath("//nav[@class='languages']//a")}
    assert set(languages) == set(demo_settings.languages)  # and not its own (every language)
    assert languages["ar"].get("dir") == "rtl" and languages["ar"].text == "العربية"
    base = demo_settings.base_url
    for code, link in languages.items():
        assert link.get("href") == f"{base}/{code}/feeds/category/tech.html"
    in_french = page_of(demo_client, "/fr/feeds/category/tech.html")
    (every,) = in_french.xpath("//nav[@class='languages']//a[not(@hreflang)]")
    assert every.get("href") == f"{base}/feeds/category/tech.html"
    assert every.text == "Toutes les langues"
    (older,) = page.xpath("//a[@rel='prev-archive']")  # the category's newest archive
    assert older.get("href").startswith(f"{base}/feeds/category/tech/archive/")
    archive = page_of(demo_client, older.get("href").removeprefix(base))
    assert archive.xpath("//a[@rel='current']/@href") == [f"{base}/feeds/category/tech.html"]


def test_every_interface_text_is_translated_for_every_catalogue() -> None:
    """What `pybabel extract -F babel.cfg` finds in the code and templates has a translation
    in each language's catalogue (README, *Translating the pages*)."""
    method_map = [("feeds/**.py", "python"), ("feeds/templates/**.html", "jinja2")]
    extracted = extract_from_dir(REPO, method_map, keywords={"_": None})
    messages = {message for _, _, message, _, _ in extracted}
    assert "Follow this feed" in messages
    catalogues = sorted(LOCALES.glob("*/LC_MESSAGES/messages.po"))
    assert len(catalogues) >= 10
    for path in catalogues:
        with path.open("rb") as source:
            catalogue = read_po(source)
        translated = {m.id for m in catalogue if m.id and m.string and not m.fuzzy}
        assert messages <= translated, (path, messages - translated)


def test_an_archive_page_offers_the_feed_to_follow_not_the_archive(
    demo_client: FlaskClient, demo_settings: Settings
) -> None:
    page = page_of(demo_client, "/feeds/all/archive/1.html")
    addresses = [field.get("value") for field in page.xpath("//input[@readonly]")]
    base = demo_settings.base_url
    assert addresses == [f"{base}/feeds/all.{fmt}" for fmt in ("atom", "rss", "json")]
    assert page.findtext(".//h2[@id='entries']") == "Posts in this archive"
    assert page.xpath("//a[@rel='current']/@href") == [f"{base}/feeds/all.html"]
