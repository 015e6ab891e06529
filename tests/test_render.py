"""Describe, then write: one FeedDocument per feed, whatever the format that writes it."""

from __future__ import annotations

from datetime import UTC, datetime

from flask.testing import FlaskClient
from lxml import etree

from feeds.render import WRITERS, describe
from feeds.serving.content import FeedContent, Person, PostRecord, Term
from feeds.serving.spec import SYNDICATION_FORMATS, FeedFormat, FeedSpec, ScopeKind
from feeds.settings import Settings
from tests.conftest import feed_title_and_ids, parse_feed

ATOM = {"a": "http://www.w3.org/2005/Atom"}
WHEN = datetime(2024, 5, 1, 9, tzinfo=UTC)


def a_post(**fields: object) -> PostRecord:
    values: dict[str, object] = {
        "id": 7,
        "entry_id": "urn:uuid:1",
        "slug": "hello",
        "title": "Hello",
        "summary": "Hi.",
        "content_html": "<p>Hi.</p>",
        "language": "ar",
        "published": WHEN,
        "updated": WHEN,
        "categories": (Term("tech", "Tech"),),
        "tags": (Term("ai", "AI"),),
        "authors": (Person("Ada"),),
    }
    values.update(fields)
    return PostRecord(**values)  # type: ignore[arg-type]


def test_atom_entry_links_keep_rel_and_type(demo_client: FlaskClient) -> None:
    """feedgen 1.0 drops them (lkiesow/python-feedgen#135); the Atom writer puts them back."""
    root = etree.fromstring(demo_client.get("/feeds/all.atom").data)
    links = root.xpath("//a:entry/a:link", namespaces=ATOM)
    assert links
    assert {(link.get("rel"), link.get("type")) for link in links} == {
        ("alternate", "text/html"),
        ("enclosure", "audio/mpeg"),  # the demo's podcast episodes
        ("enclosure", "audio/ogg"),
    }


def test_one_description_serves_every_format(settings: Settings) -> None:
    content = FeedContent((Term("tech", "Tech"),), (a_post(),))
    documents = {
        fmt: describe(FeedSpec(fmt, ScopeKind.CATEGORY, ("tech",)), settings, content)
        for fmt in SYNDICATION_FORMATS
    }
    entries = {document.entries for document in documents.values()}
    assert len(entries) == 1
    for fmt, document in documents.items():
        title, ids = feed_title_and_ids(WRITERS[fmt](document))
        assert title == "Ledger Blog – Tech"
        assert ids == ["urn:uuid:1"]


def test_right_to_left_content_is_marked_and_the_updated_time_is_the_newest_entrys(
    settings: Settings,
) -> None:
    later = a_post(entry_id="urn:uuid:2", slug="later", updated=WHEN.replace(hour=12))
    content = FeedContent((), (later, a_post()))
    document = describe(FeedSpec(FeedFormat.ATOM, language="ar"), settings, content)
    assert document.updated == WHEN.replace(hour=12)
    assert document.direction == "rtl"
    assert document.entries[1].content_html == '<div dir="rtl" lang="ar"><p>Hi.</p></div>'
    assert document.link("self").href == settings.base_url + "/ar/feeds/all.atom"
    assert document.link("next") is None


def test_an_empty_feed_has_a_fixed_update_time(settings: Settings) -> None:
    document = describe(FeedSpec(FeedFormat.RSS), settings, FeedContent((), ()))
    assert document.updated == datetime(2000, 1, 1, tzinfo=UTC)
    assert parse_feed(WRITERS[FeedFormat.RSS](document)).entries == []
