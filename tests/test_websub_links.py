"""WebSub discovery: every feed's first page links to each configured hub and to itself, in
the document (Atom link, RSS atom:link) and in its HTTP Link header; hubs come from the
config and are checked like every other key."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from lxml import etree
from werkzeug.test import TestResponse

from feeds import create_app
from feeds.serving.links import as_uri
from feeds.settings import ConfigError, Settings
from feeds.settings.tables import Hub
from feeds.store import Store
from tests.conftest import BASE_URL, REPO, add_post, parse_feed

HUBS = (
    Hub("https://hub.example/"),
    Hub("https://publish.example/websub?site=feeds&x=1", param="hub.topic", batch=10),
)
UNICODE_SLUG = "café-ü"
ATOM = "{http://www.w3.org/2005/Atom}"
# Every scope: site, language, category, category × language (and a slug that is not ASCII).
SCOPES = [
    "/feeds/all",
    "/fr/feeds/all",
    "/feeds/category/tech",
    "/fr/feeds/category/tech",
    f"/feeds/category/{UNICODE_SLUG}",
    f"/fr/feeds/category/{UNICODE_SLUG}",
]
FEEDS = [f"{scope}.{fmt}" for scope in SCOPES for fmt in ("atom", "rss")]


def fill(store: Store, settings: Settings) -> None:
    """Posts in English and French, in ``tech`` and in a category with a Unicode slug."""
    for number, language in enumerate(["en", "fr", "en", "fr"]):
        categories = ["tech"] if number < 2 else [UNICODE_SLUG]
        add_post(store, settings, slug=f"p{number}", language=language, categories=categories)


@pytest.fixture
def hub_client(store: Store, settings: Settings) -> FlaskClient:
    fill(store, settings)
    return create_app(settings.replace(hubs=HUBS)).test_client()


@pytest.fixture
def hubless_client(store: Store, settings: Settings) -> FlaskClient:
    fill(store, settings)
    return create_app(settings).test_client()


def header_links(response: TestResponse) -> list[tuple[str, str]]:
    """The (URL, rel) pairs of a response's Link header, in order."""
    value = response.headers.get("Link", "")
    pairs = re.findall(r'\s*<([^>]*)>\s*;\s*rel="([^"]*)"\s*(?:,|$)', value)
    assert ", ".join(f'<{url}>; rel="{rel}"' for url, rel in pairs) == value, value
    return pairs


def document_links(body: bytes) -> list[tuple[str, str]]:
    """The feed-level (URL, rel) pairs of an Atom or RSS document, as lxml reads them, in
    document order."""
    root = etree.fromstring(body)
    parent = root if root.tag == f"{ATOM}feed" else root.find("channel")
    assert parent is not None
    return [(link.get("href", ""), link.get("rel", "")) for link in parent.findall(f"{ATOM}link")]


def hubs_and_self(links: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(url, rel) for url, rel in links if rel in ("hub", "self")]


@pytest.mark.parametrize("path", FEEDS)
def test_every_feed_links_to_each_hub_and_itself_in_document_and_header(
    hub_client: FlaskClient, path: str
) -> None:
    response = hub_client.get(path)
    assert response.status_code == 200
    parsed = parse_feed(response.data)
    self_url = BASE_URL + as_uri(path)  # a Unicode slug percent-encoded, everywhere
    read_by_feedparser = [(link.href, link.rel) for link in parsed.feed.links]
    expected = [(hub.url, "hub") for hub in HUBS]
    assert [pair for pair in read_by_feedparser if pair[1] == "hub"] == expected
    assert (self_url, "self") in read_by_feedparser
    assert hubs_and_self(document_links(response.data)) == [(self_url, "self"), *expected]
    in_header = header_links(response)
    assert in_header[:-1] == expected
    header_self, rel = in_header[-1]
    assert rel == "self"
    assert header_self == self_url  # the same URL in the header as in the document


def test_rss_hub_links_sit_next_to_its_self_link(hub_client: FlaskClient) -> None:
    channel = etree.fromstring(hub_client.get("/feeds/all.rss").data).find("channel")
    assert channel is not None
    tags = [(child.tag, child.get("rel")) for child in channel]
    at = tags.index((f"{ATOM}link", "self"))
    assert tags[at + 1 : at + 3] == [(f"{ATOM}link", "hub")] * 2


def test_a_unicode_slug_is_percent_encoded_in_the_header_and_the_document_alike(
    hub_client: FlaskClient,
) -> None:
    response = hub_client.get(f"/feeds/category/{UNICODE_SLUG}.atom")
    link = response.headers["Link"]
    assert link.isascii()
    assert "caf%C3%A9-%C3%BC.atom" in link
    document_self = parse_feed(response.data).feed.links[0]
    assert document_self.rel == "self"
    assert document_self.href == f"{BASE_URL}/feeds/category/caf%C3%A9-%C3%BC.atom"


@pytest.mark.parametrize("path", FEEDS)
def test_without_hubs_no_feed_has_a_hub_link(hubless_client: FlaskClient, path: str) -> None:
    response = hubless_client.get(path)
    assert "hub" not in [link.rel for link in parse_feed(response.data).feed.links]
    assert "hub" not in [rel for _, rel in document_links(response.data)]
    assert [rel for _, rel in header_links(response)] == ["self"]


def test_a_304_carries_the_same_link_header(hub_client: FlaskClient) -> None:
    first = hub_client.get("/fr/feeds/category/tech.rss")
    again = hub_client.get(
        "/fr/feeds/category/tech.rss", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304
    assert again.headers["Link"] == first.headers["Link"]


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_older_pages_link_to_themselves_and_their_neighbours_but_to_no_hub(
    store: Store, settings: Settings, fmt: str
) -> None:
    for number in range(3):
        add_post(
            store, settings, slug=f"p{number}", published=datetime(2024, 1, number + 1, tzinfo=UTC)
        )
    client = create_app(settings.replace(hubs=HUBS, items_per_feed=1)).test_client()
    first = client.get(f"/feeds/all.{fmt}")
    next_url = dict((rel, url) for url, rel in document_links(first.data))["next"]
    older = client.get(next_url.removeprefix(BASE_URL))
    assert older.status_code == 200
    parse_feed(older.data)
    rels = {rel: url for url, rel in document_links(older.data)}
    assert set(rels) - {"alternate"} == {"self", "first", "next"}  # alternate: RSS <link>
    assert rels["self"] == next_url
    assert rels["first"] == f"{BASE_URL}/feeds/all.{fmt}"
    assert header_links(older) == [(next_url, "self")]


def test_hubs_come_from_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[[hubs]]\nurl = "https://pubsubhubbub.appspot.com/"\n'
        '[[hubs]]\nurl = "https://hub.example/"\nparam = "hub.topic"\nbatch = 20\n',
        encoding="utf-8",
    )
    assert Settings.load(config, environ={}).hubs == (
        Hub("https://pubsubhubbub.appspot.com/", "hub.url", 100),
        Hub("https://hub.example/", "hub.topic", 20),
    )


def test_repository_config_has_no_hubs() -> None:
    assert Settings.load(REPO / "config.toml", environ={}).hubs == ()


def test_feeds_hubs_replaces_the_files_hubs_from_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[[hubs]]\nurl = "https://in-file.example/"\n', encoding="utf-8")
    environ = {"FEEDS_HUBS": '[{url = "https://from-env.example/", batch = 5}]'}
    assert Settings.load(config, environ=environ).hubs == (
        Hub("https://from-env.example/", batch=5),
    )
    assert Settings.load(config, environ={"FEEDS_HUBS": "[]"}).hubs == ()


@pytest.mark.parametrize(
    ("hubs", "message"),
    [
        ('"https://hub.example/"', "hubs: expected an array of tables, got str"),
        ("[1]", r"hubs\[0\]: expected a table, got int"),
        ("[{}]", r"hubs\[0\]: url is required"),
        ('[{url = "https://h.example/", colour = 1}]', r"hubs\[0\]: unknown key 'colour'"),
        ('[{url = "/relative"}]', r"hubs\[0\].url: '/relative' is not an absolute http\(s\)"),
        ('[{url = "ftp://h.example/"}]', r"hubs\[0\].url: 'ftp://h.example/' is not an abs"),
        ('[{url = "https://h.example/a b"}]', r"hubs\[0\].url: .* must be ASCII"),
        ('[{url = "https://hüb.example/"}]', r"hubs\[0\].url: .* must be ASCII"),
        ("[{url = 3}]", r"hubs\[0\].url: expected str, got int"),
        ('[{url = "https://h.example/", param = "topic"}]', r"param: 'topic' is not one of"),
        ('[{url = "https://h.example/", batch = 0}]', r"hubs\[0\].batch: must be from 1 to 1000"),
        ('[{url = "https://h.example/", batch = 1001}]', r"batch: must be from 1 to 1000"),
        ('[{url = "https://h.example/", batch = "9"}]', r"batch: expected int, got str"),
        ('[{url = "https://h.example/"}, {url = "https://h.example/"}]', "listed twice"),
    ],
)
def test_a_bad_hub_is_refused_naming_it(tmp_path: Path, hubs: str, message: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"hubs = {hubs}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        Settings.load(config, environ={})
    with pytest.raises(ConfigError, match=message):
        Settings.load(tmp_path / "config.toml", environ={"FEEDS_HUBS": hubs})
