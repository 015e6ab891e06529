"""What a reader sees in the feeds: completeness, scopes, links, dates, Unicode."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

import pytest
from dateutil import parser as date_parser
from flask.testing import FlaskClient
from lxml import etree

from feeds.serving.spec import SYNDICATION_FORMATS, FeedFormat, FeedSpec
from feeds.settings import Settings
from feeds.store import Store
from feeds.store.models import PostStatus
from feeds.tools.check import feed_problems
from tests.conftest import BASE_URL, add_post, feed_title_and_ids, parse_feed

ATOM = "{http://www.w3.org/2005/Atom}"


def feed_urls(client: FlaskClient) -> list[str]:
    return [feed["url"] for feed in client.get("/feeds.json").get_json()["feeds"]]


def test_every_listed_feed_parses_cleanly_and_has_no_problems(demo_client: FlaskClient) -> None:
    urls = feed_urls(demo_client)
    site_and_categories = [url for url in urls if "/tag/" not in url and "/author/" not in url]
    assert len(site_and_categories) == len(SYNDICATION_FORMATS) * (1 + 11) * (1 + 7)
    assert any("/feeds/tag/" in url for url in urls) and any("/author/" in url for url in urls)
    for url in urls:
        response = demo_client.get(url.removeprefix(BASE_URL))
        assert response.status_code == 200, url
        feed_title_and_ids(response.data)
        fmt = FeedFormat(url.rsplit(".", 1)[1])
        assert feed_problems(FeedSpec(fmt), response.data) == [], url


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_category_feed_lists_only_that_category(demo_client: FlaskClient, fmt: str) -> None:
    parsed = parse_feed(demo_client.get(f"/feeds/category/enterprise.{fmt}").data)
    assert parsed.entries
    # Atom carries the slug as term and the name as label; RSS carries the name.
    expected = "enterprise" if fmt == "atom" else "Enterprise"
    for entry in parsed.entries:
        assert expected in {tag.term for tag in entry.tags}


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_language_feed_lists_only_that_language(demo_client: FlaskClient, fmt: str) -> None:
    parsed = parse_feed(demo_client.get(f"/ja/feeds/all.{fmt}").data)
    assert parsed.feed.language == "ja"
    assert parsed.entries
    for entry in parsed.entries:
        assert entry.link.startswith("https://www.ledger.com/ja/blog/")
    body = demo_client.get(f"/ja/feeds/all.{fmt}").data
    if fmt == "atom":
        languages = etree.fromstring(body).xpath(
            "//a:entry/@xml:lang", namespaces={"a": ATOM[1:-1]}
        )
    else:
        languages = etree.fromstring(body).xpath(
            "//item/dc:language/text()", namespaces={"dc": "http://purl.org/dc/elements/1.1/"}
        )
    assert set(languages) == {"ja"}


def test_category_language_feed_intersects_both(demo_client: FlaskClient) -> None:
    parsed = parse_feed(demo_client.get("/fr/feeds/category/tech.atom").data)
    assert parsed.entries
    for entry in parsed.entries:
        assert "tech" in {tag.term for tag in entry.tags}
        assert entry.link.startswith("https://www.ledger.com/fr/blog/")


def test_site_feed_mixes_languages_and_marks_each_entry(demo_client: FlaskClient) -> None:
    root = etree.fromstring(demo_client.get("/feeds/all.atom").data)
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    entry_languages = set(root.xpath("//a:entry/@xml:lang", namespaces={"a": ATOM[1:-1]}))
    assert len(entry_languages) > 3


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_feed_is_newest_first_and_holds_items_per_feed(
    demo_client: FlaskClient, demo_settings: Settings, fmt: str
) -> None:
    parsed = parse_feed(demo_client.get(f"/feeds/all.{fmt}").data)
    assert len(parsed.entries) == demo_settings.items_per_feed
    dates = [entry.published_parsed for entry in parsed.entries]
    assert dates == sorted(dates, reverse=True)


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_every_entry_is_complete(demo_client: FlaskClient, fmt: str) -> None:
    parsed = parse_feed(demo_client.get(f"/feeds/category/tech.{fmt}").data)
    for entry in parsed.entries:
        assert entry.id.startswith("urn:uuid:")
        assert entry.title
        assert entry.link.startswith("https://www.ledger.com/")
        assert entry.summary
        assert "<p>" in entry.content[0].value
        assert entry.author
        assert entry.tags
        assert entry.published_parsed
        if fmt == "atom":
            assert entry.updated_parsed


def test_atom_feed_has_self_and_alternate_links(demo_client: FlaskClient) -> None:
    parsed = parse_feed(demo_client.get("/de/feeds/category/tech.atom").data)
    links = [(link.rel, link.href) for link in parsed.feed.links]
    assert ("self", f"{BASE_URL}/de/feeds/category/tech.atom") in links
    # the blog's page first, then the feed's own page (feeds/render/atom.py)
    alternates = [href for rel, href in links if rel == "alternate"]
    assert alternates == [
        "https://www.ledger.com/de/blog/category/tech",
        f"{BASE_URL}/de/feeds/category/tech.html",
    ]
    assert parsed.feed.id == f"{BASE_URL}/de/feeds/category/tech.atom"


def test_rss_feed_has_atom_self_link_and_language(demo_client: FlaskClient) -> None:
    root = etree.fromstring(demo_client.get("/ar/feeds/all.rss").data)
    self_link = root.find(f"channel/{ATOM}link[@rel='self']")
    assert self_link is not None
    assert self_link.get("href") == f"{BASE_URL}/ar/feeds/all.rss"
    assert self_link.get("type") == "application/rss+xml"
    assert root.findtext("channel/language") == "ar"
    assert root.findtext("channel/link") == "https://www.ledger.com/ar/blog"


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_feed_updated_is_the_newest_entry_update_not_now(
    demo_client: FlaskClient, fmt: str
) -> None:
    body = demo_client.get(f"/feeds/category/tech.{fmt}").data
    parsed = parse_feed(body)
    root = etree.fromstring(body)
    text = (
        root.findtext(f"{ATOM}updated") if fmt == "atom" else root.findtext("channel/lastBuildDate")
    )
    feed_updated = date_parser.parse(text)
    newest = max(
        date_parser.parse(e.updated if fmt == "atom" else e.published) for e in parsed.entries
    )
    assert feed_updated == newest
    assert feed_updated < datetime.now(UTC) - timedelta(days=365)


def test_dates_carry_a_time_zone(demo_client: FlaskClient) -> None:
    root = etree.fromstring(demo_client.get("/feeds/all.atom").data)
    for text in root.xpath(
        "//a:updated/text() | //a:published/text()", namespaces={"a": ATOM[1:-1]}
    ):
        assert date_parser.isoparse(text).utcoffset() == timedelta(0)


def test_seed_posts_keep_their_page_order(demo_client: FlaskClient) -> None:
    parsed = parse_feed(demo_client.get("/en/feeds/category/tech.atom?").data)
    slugs = [entry.link.rsplit("/", 1)[1] for entry in parsed.entries]
    part6 = slugs.index("part-6-genesis-of-ledger-recover-security-analysis")
    part5 = slugs.index("part-5-genesis-of-ledger-recover-operational-security")
    assert part6 < part5


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_drafts_and_future_posts_are_absent(
    client: FlaskClient, store: Store, settings: Settings, fmt: str
) -> None:
    now = datetime.now(UTC)
    add_post(store, settings, title="Visible", slug="visible", published=now - timedelta(hours=1))
    add_post(store, settings, title="Draft", slug="draft", status=PostStatus.DRAFT)
    add_post(store, settings, title="Scheduled", slug="later", published=now + timedelta(hours=1))
    for path in (f"/feeds/all.{fmt}", f"/feeds/category/tech.{fmt}", f"/en/feeds/all.{fmt}"):
        titles = [e.title for e in parse_feed(client.get(path).data).entries]
        assert titles == ["Visible"], path


def test_scheduled_post_appears_when_due_without_a_write(
    client: FlaskClient, store: Store, settings: Settings
) -> None:
    due = datetime.now(UTC) + timedelta(seconds=1.5)
    add_post(store, settings, title="Scheduled", slug="soon", published=due)
    assert parse_feed(client.get("/feeds/all.atom").data).entries == []
    while datetime.now(UTC) <= due:
        pass
    entries = parse_feed(client.get("/feeds/all.atom").data).entries
    assert [e.title for e in entries] == ["Scheduled"]


UNICODE_TITLES = {
    "ar": "أمن المحافظ & الحفظ الذاتي: «دليل» شامل",
    "zh-hans": "为什么“自我托管”比以往任何时候都重要 & 安全",
    "ja": "「セキュアエレメント」とは？ & その仕組み",
    "en": "Why “self-custody” isn’t optional & <never> was",
}


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_unicode_titles_and_content_survive_the_round_trip(
    client: FlaskClient, store: Store, settings: Settings, fmt: str
) -> None:
    for language, title in UNICODE_TITLES.items():
        add_post(
            store,
            settings,
            title=title,
            slug=f"unicode-{language}",
            language=language,
            summary=f"{title} — ملخص 摘要",
            content_html=f"<p>{title.replace('&', '&amp;').replace('<never>', '')}</p>",
        )
    parsed = parse_feed(client.get(f"/feeds/all.{fmt}").data)
    assert {e.title for e in parsed.entries} == set(UNICODE_TITLES.values())
    for entry in parsed.entries:
        summary = html.unescape(entry.summary)  # summaries are HTML to readers
        assert summary == f"{entry.title} — ملخص 摘要"
    arabic = next(e for e in parsed.entries if e.title == UNICODE_TITLES["ar"])
    assert 'dir="rtl"' in arabic.content[0].value


def test_characters_xml_cannot_hold_are_removed_on_write(
    client: FlaskClient, store: Store, settings: Settings
) -> None:
    add_post(store, settings, title="Bell\x07 and \x00null\ufffe", summary="form\x0cfeed")
    parsed = parse_feed(client.get("/feeds/all.atom").data)
    assert parsed.entries[0].title == "Bell and null"
    assert parsed.entries[0].summary == "formfeed"


def test_unsafe_html_is_removed_from_content(
    client: FlaskClient, store: Store, settings: Settings
) -> None:
    add_post(
        store,
        settings,
        content_html='<p onclick="steal()">Hi<script>alert(1)</script>'
        '<a href="javascript:alert(2)">x</a></p>',
    )
    content = parse_feed(client.get("/feeds/all.rss").data).entries[0].content[0].value
    assert "script" not in content and "onclick" not in content and "javascript:" not in content
    assert "Hi" in content


def test_empty_category_feed_is_valid_and_stable(
    client: FlaskClient, store: Store, settings: Settings
) -> None:
    add_post(store, settings, categories=["tech"])
    add_post(store, settings, slug="other", categories=["donjon"], language="fr")
    first = client.get("/en/feeds/category/donjon.atom")
    parsed = parse_feed(first.data)
    assert parsed.entries == []
    assert client.get("/en/feeds/category/donjon.atom").headers["ETag"] == first.headers["ETag"]
