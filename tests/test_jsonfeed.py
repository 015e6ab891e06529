"""JSON Feed 1.1: every feed as /….json, valid against a schema written from the spec
(tests/jsonfeed-1.1.schema.json), read back by a JSON Feed parser that is not ours
(jsonfeed-util), and served like the other formats: cache, ETag, 304, gzip, paging, hubs,
the feed index and the feeds page."""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonfeed
import lxml.html
import pytest
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from lxml import etree

from feeds import create_app
from feeds.render.document import Category, Entry, FeedDocument, Link
from feeds.render.jsonfeed import write_json
from feeds.serving.content import Person
from feeds.settings import Settings
from feeds.store import Store
from tests.conftest import BASE_URL, REPO, add_post
from tests.test_websub_links import HUBS

VERSION = "https://jsonfeed.org/version/1.1"
MEDIA_TYPE = "application/feed+json; charset=utf-8"
SCHEMA = json.loads((REPO / "tests/jsonfeed-1.1.schema.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
ATOM = {"a": "http://www.w3.org/2005/Atom"}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ARABIC = re.compile("[\u0600-\u06ff]")
CJK = re.compile("[\u3040-\u30ff\u4e00-\u9fff]")


def json_feed_paths(client: FlaskClient) -> list[str]:
    feeds = client.get("/feeds.json").get_json()["feeds"]
    return [feed["url"].removeprefix(BASE_URL) for feed in feeds if feed["format"] == "json"]


def get_json_feed(client: FlaskClient, path: str) -> dict[str, Any]:
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.content_type == MEDIA_TYPE
    feed: dict[str, Any] = json.loads(response.data)
    return feed


def relative(url: str) -> str:
    return url.removeprefix(BASE_URL)


# The schema, and proof that it can fail


def test_schema_is_a_draft_2020_12_schema_with_its_format_checks_active() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    # Without rfc3339-validator and rfc3986-validator, jsonschema skips these formats silently.
    assert {"date-time", "uri"} <= set(Draft202012Validator.FORMAT_CHECKER.checkers)


ITEM = {"id": "1", "content_text": "x"}
MINIMAL = {"version": VERSION, "title": "t", "items": [ITEM]}


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"items": None}, "items missing"),
        ({"items": [{**ITEM, "id": 1}]}, "an id that is a number"),
        ({"items": [{"id": "1"}]}, "an item with no content"),
        ({"items": [{**ITEM, "date_published": "2024-01-01T10:00:00"}]}, "no time zone"),
        ({"items": [{**ITEM, "date_modified": "2024-02-30T10:00:00Z"}]}, "a day that is not"),
        ({"feed_url": "not a url"}, "a URL that is not one"),
        ({"version": "https://jsonfeed.org/version/1"}, "another version"),
        ({"hubs": [{"type": "WebSub"}]}, "a hub without a url"),
        ({"home_page": "https://x.example/"}, "a misspelt key"),
    ],
)
def test_schema_refuses_what_the_spec_refuses(change: dict[str, object], why: str) -> None:
    document = {**MINIMAL, **change}
    document = {key: value for key, value in document.items() if value is not None}
    VALIDATOR.validate(MINIMAL)
    with pytest.raises(ValidationError):
        VALIDATOR.validate(document)


# Every demo feed: valid, and read back by jsonfeed-util as the Atom feed says


def test_every_demo_json_feed_is_valid_json_feed_1_1(
    demo_client: FlaskClient, demo_settings: Settings
) -> None:
    paths = json_feed_paths(demo_client)
    # (every language + each language) × (all + each of the demo's 7 categories), then the
    # listed tags' and authors'
    site_and_categories = [p for p in paths if "/tag/" not in p and "/author/" not in p]
    assert len(site_and_categories) == (1 + len(demo_settings.languages)) * (1 + 7)
    assert any("/tag/" in p for p in paths) and any("/author/" in p for p in paths)
    older = 0
    for path in paths:
        feed = get_json_feed(demo_client, path)
        VALIDATOR.validate(feed)
        assert next(iter(feed)) == "version"  # the spec: at the very top
        assert relative(feed["feed_url"]) == path
        if "next_url" in feed:  # and the page after it
            VALIDATOR.validate(get_json_feed(demo_client, relative(feed["next_url"])))
            older += 1
    assert older >= 3


def test_a_json_feed_parser_reads_what_the_atom_feed_says(demo_client: FlaskClient) -> None:
    """jsonfeed-util reads each demo JSON feed; its items are the Atom feed's entries: same
    ids, titles, dates, content, language, in the same order."""
    for path in json_feed_paths(demo_client):
        parsed = jsonfeed.Feed.parse_string(demo_client.get(path).get_data(as_text=True))
        atom = etree.fromstring(demo_client.get(path.removesuffix(".json") + ".atom").data)
        assert parsed.title == atom.findtext("a:title", namespaces=ATOM)
        assert parsed.language == atom.get(XML_LANG)
        entries = atom.findall("a:entry", ATOM)
        assert [item.id for item in parsed.items] == [
            entry.findtext("a:id", namespaces=ATOM) for entry in entries
        ], path
        for item, entry in zip(parsed.items, entries, strict=True):
            assert item.title == entry.findtext("a:title", namespaces=ATOM)
            assert item.content_html == entry.findtext("a:content", namespaces=ATOM)
            for ours, theirs in [("date_published", "published"), ("date_modified", "updated")]:
                assert datetime.fromisoformat(getattr(item, ours)) == datetime.fromisoformat(
                    entry.findtext(f"a:{theirs}", namespaces=ATOM)
                )
            assert item.url == entry.find("a:link[@rel='alternate']", ATOM).get("href")
            assert [author.name for author in item.authors] == entry.xpath(
                "a:author/a:name/text()", namespaces=ATOM
            )


def test_arabic_and_cjk_text_survive_unescaped(demo_client: FlaskClient) -> None:
    arabic = demo_client.get("/ar/feeds/all.json")
    feed = jsonfeed.Feed.parse_string(arabic.get_data(as_text=True))
    assert feed.items and all(ARABIC.search(item.title) for item in feed.items)
    assert all(item.content_html.startswith('<div dir="rtl" lang="ar">') for item in feed.items)
    assert feed.items[0].title.encode() in arabic.data  # UTF-8 as is, no \u escapes
    for language in ("ja", "zh-hans"):
        response = demo_client.get(f"/{language}/feeds/all.json")
        feed = jsonfeed.Feed.parse_string(response.get_data(as_text=True))
        assert feed.items and all(CJK.search(item.title) for item in feed.items)
        assert feed.items[0].title.encode() in response.data
    assert b"\\u" not in arabic.data


# HTTP: the same answers as the other formats


def test_json_feed_answers_with_its_media_type_etag_and_304(client: FlaskClient) -> None:
    first = client.get("/feeds/all.json")
    assert first.status_code == 200
    assert first.headers["Content-Type"] == MEDIA_TYPE
    etag = first.headers["ETag"]
    again = client.get("/feeds/all.json", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert (
        first.headers["Last-Modified"]
        and first.headers["Vary"] == "Accept-Encoding, Sec-Fetch-Dest"
    )


def test_json_feed_is_gzipped_for_clients_that_ask(
    client: FlaskClient, store: Store, settings: Settings
) -> None:
    add_post(store, settings, title="Compressed")
    plain = client.get("/feeds/all.json")
    zipped = client.get("/feeds/all.json", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    assert gzip.decompress(zipped.data) == plain.data
    assert json.loads(plain.data)["items"][0]["title"] == "Compressed"


@pytest.fixture
def paged_client(store: Store, settings: Settings) -> FlaskClient:
    """Eleven published posts in feeds of four items a page, with hubs configured."""
    base = datetime(2024, 1, 1, tzinfo=UTC)
    for number in range(11):
        add_post(store, settings, slug=f"p{number}", published=base + timedelta(days=number // 2))
    return create_app(settings.replace(items_per_feed=4, hubs=HUBS)).test_client()


def test_next_url_walks_every_post_once(paged_client: FlaskClient) -> None:
    path: str | None = "/feeds/all.json"
    seen: list[str] = []
    next_urls: list[str] = []
    while path is not None:
        feed = get_json_feed(paged_client, path)
        VALIDATOR.validate(feed)
        assert 0 < len(feed["items"]) <= 4
        seen += [item["url"] for item in feed["items"]]
        path = feed.get("next_url")
        if path is not None:
            # the spec: never the feed itself, never a next_url seen before
            assert path != feed["feed_url"] and path not in next_urls
            next_urls.append(path)
            path = relative(path)
    assert len(next_urls) == 2
    assert len(seen) == len(set(seen)) == 11
    assert seen[0].endswith("/p10") and seen[-1].endswith("/p0")


def test_first_page_names_each_hub_and_older_pages_none(paged_client: FlaskClient) -> None:
    response = paged_client.get("/feeds/all.json")
    first = json.loads(response.data)
    assert first["hubs"] == [{"type": "WebSub", "url": hub.url} for hub in HUBS]
    assert response.headers["Link"].count('rel="hub"') == len(HUBS)
    assert "hubs" not in get_json_feed(paged_client, relative(first["next_url"]))


def test_no_hubs_without_hubs_configured(client: FlaskClient) -> None:
    assert "hubs" not in get_json_feed(client, "/feeds/all.json")


# The index, the page and feeds check list JSON feeds too


def test_index_lists_the_json_feeds(demo_client: FlaskClient) -> None:
    feeds = demo_client.get("/feeds.json").get_json()["feeds"]
    json_feeds = [feed for feed in feeds if feed["format"] == "json"]
    assert {feed["content_type"] for feed in json_feeds} == {MEDIA_TYPE}
    assert {feed["url"] for feed in json_feeds} == {
        feed["url"].removesuffix(".atom") + ".json" for feed in feeds if feed["format"] == "atom"
    }


def test_page_links_the_json_feeds(demo_client: FlaskClient, demo_settings: Settings) -> None:
    page = lxml.html.fromstring(demo_client.get("/").data)
    discovered = page.xpath("/html/head/link[@rel='alternate'][@type='application/feed+json']")
    assert {link.get("hreflang") for link in discovered} == {None, *demo_settings.languages}
    assert f"{BASE_URL}/feeds/all.json" in {link.get("href") for link in discovered}
    assert all(link.get("title").endswith("(JSON Feed)") for link in discovered)
    listed = page.xpath("//section//a[@type='application/feed+json']")
    assert f"{BASE_URL}/fr/feeds/category/tech.json" in {a.get("href") for a in listed}


# The writer: what JSON Feed cannot say is left out


def entry(**changes: object) -> Entry:
    values: dict[str, Any] = {
        "id": "urn:uuid:1",
        "title": "T",
        "link": Link("https://blog.example/t", "alternate", "text/html"),
        "published": datetime(2024, 1, 1, tzinfo=UTC),
        "updated": datetime(2024, 1, 2, tzinfo=UTC),
        "summary": "S",
        "content_html": "<p>C</p>",
        "language": "en",
        "authors": (Person("Ada", "ada@example.org", "https://ada.example/"),),
        "categories": (Category("tech", "Tech"), Category("tech", "Tech", "https://t/tag/")),
    }
    return Entry(**{**values, **changes})


def document(*entries: Entry) -> FeedDocument:
    return FeedDocument(
        id="https://feeds.example/feeds/all.json",
        title="Blog",
        subtitle="",
        language="en",
        direction="ltr",
        updated=datetime(2024, 1, 2, tzinfo=UTC),
        links=(Link("https://feeds.example/feeds/all.json", "self"),),
        author=Person("Blog"),
        generator="feeds",
        ttl_minutes=5,
        entries=entries,
        page=Link("https://feeds.example/feeds/all.html", "alternate", "text/html", "en"),
        service_url="https://feeds.example",
    )


def test_writer_leaves_out_email_and_repeated_tags_and_empty_fields() -> None:
    feed = json.loads(write_json(document(entry())))
    VALIDATOR.validate(feed)
    assert feed["authors"] == [{"name": "Blog"}]
    assert "description" not in feed and "home_page_url" not in feed
    (item,) = feed["items"]
    assert item["authors"] == [{"name": "Ada", "url": "https://ada.example/"}]
    assert item["tags"] == ["Tech"]
    assert (item["content_html"], item["summary"]) == ("<p>C</p>", "S")
    assert item["date_published"] == "2024-01-01T00:00:00+00:00"


def test_a_post_without_html_is_its_summary_as_text() -> None:
    feed = json.loads(write_json(document(entry(content_html="", categories=()))))
    VALIDATOR.validate(feed)
    (item,) = feed["items"]
    assert item["content_text"] == "S"
    assert not {"content_html", "summary", "tags"} & set(item)


def test_the_same_document_gives_the_same_bytes() -> None:
    assert write_json(document(entry(), entry(id="2"))) == write_json(
        document(entry(), entry(id="2"))
    )


def test_deleted_posts_leave_the_json_feed_with_no_tombstone(
    api: FlaskClient, store: Store, api_settings: Settings
) -> None:
    add_post(store, api_settings, slug="kept")
    gone = add_post(store, api_settings, slug="gone")
    assert api.delete(f"/api/posts/{gone}").status_code == 204
    assert b"deleted-entry" in api.get("/feeds/all.atom").data
    feed = get_json_feed(api, "/feeds/all.json")
    VALIDATOR.validate(feed)
    assert [item["url"].rsplit("/", 1)[1] for item in feed["items"]] == ["kept"]


def test_images_and_enclosures_are_the_items_image_and_attachments(
    demo_client: FlaskClient,
) -> None:
    feed = json.loads(demo_client.get("/feeds/all.json").data)
    VALIDATOR.validate(feed)
    atom = parse_atom_media(demo_client.get("/feeds/all.atom").data)
    with_image = [item for item in feed["items"] if "image" in item]
    with_files = [item for item in feed["items"] if "attachments" in item]
    assert with_image and with_files
    for item in feed["items"]:
        image, enclosures = atom[item["id"]]
        assert item.get("image") == image
        attachments = [
            (a["url"], a["mime_type"], a.get("size_in_bytes")) for a in item.get("attachments", [])
        ]
        assert attachments == enclosures
    read = jsonfeed.Feed.parse_string(json.dumps(feed))
    assert [a.url for item in read.items for a in item.attachments] == [
        a["url"] for item in with_files for a in item["attachments"]
    ]


def parse_atom_media(
    body: bytes,
) -> dict[str, tuple[str | None, list[tuple[str, str, int | None]]]]:
    """Each Atom entry's image (media:content) and enclosures, by entry id."""
    atom, media = "{http://www.w3.org/2005/Atom}", "{http://search.yahoo.com/mrss/}"
    found = {}
    for entry in etree.fromstring(body).iter(f"{atom}entry"):
        content = entry.find(f"{media}content")
        enclosures = [
            (
                link.get("href"),
                link.get("type"),
                int(link.get("length")) if link.get("length") else None,
            )
            for link in entry.findall(f"{atom}link[@rel='enclosure']")
        ]
        found[entry.findtext(f"{atom}id")] = (
            content.get("url") if content is not None else None,
            enclosures,
        )
    return found
