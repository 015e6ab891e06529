"""Every feed passes the W3C Feed Validation Service's own code (tests/w3c.py): no errors,
and no warnings but the few accepted below."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from lxml import etree

from feeds import create_app
from feeds.render.index import listed_feeds
from feeds.serving.links import as_uri
from feeds.serving.spec import FeedFormat
from feeds.settings import Settings
from feeds.store import Store, queries
from feeds.web.app_state import app_state
from tests.conftest import BASE_URL, add_post
from tests.test_lifecycle import remove
from tests.test_paging import page_links
from tests.test_websub_links import HUBS
from tests.w3c import W3CReport, w3c_problems, w3c_report

# The validator's warnings that say nothing wrong of our feeds (each with its class), and why.
ACCEPTED_WARNINGS = {
    "Use of unknown namespace: http://purl.org/atompub/tombstones/1.0 [UnknownNamespace]": (
        "RFC 6721 deleted entries: the validator predates them and knows no rules for them"
    ),
}


def validated(client: FlaskClient, path: str) -> W3CReport:
    """The validator's report on the feed at ``path``, as if it fetched it from BASE_URL."""
    response = client.get(path)
    assert response.status_code == 200, path
    return w3c_report(response.data, BASE_URL + path, response.content_type, ACCEPTED_WARNINGS)


def assert_valid(client: FlaskClient, paths: list[str]) -> None:
    """Every feed at ``paths`` has no error and no warning the validator would show."""
    reports = {path: validated(client, path) for path in paths}
    assert [f"{path} {line}" for path, report in reports.items() for line in report.errors] == []
    assert [f"{path} {line}" for path, report in reports.items() for line in report.warnings] == []


def test_every_feed_of_the_demo_store_passes_in_every_scope_language_and_format(
    demo_client: FlaskClient, demo_settings: Settings
) -> None:
    with app_state(demo_client.application).store.session() as session:
        slugs = [category.slug for category in queries.all_categories(session)]
        listed = queries.listed_terms(session, datetime.now(UTC), demo_settings.tag_feed_min_posts)
    specs = [  # the validator reads XML: Atom and RSS (JSON Feed has tests/test_jsonfeed.py)
        spec
        for spec in listed_feeds(demo_settings, slugs, listed)
        if spec.format in (FeedFormat.ATOM, FeedFormat.RSS)
    ]
    assert {spec.scope for spec in specs} == {
        "site", "language", "category", "category+language", "tag", "tag+language", "author",
        "author+language",
    }  # fmt: skip
    assert_valid(demo_client, [spec.path for spec in specs])


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_images_and_enclosures_pass(demo_client: FlaskClient, fmt: str) -> None:
    """The demo gives every third generated post an image, every tenth two enclosures."""
    body = demo_client.get(f"/feeds/all.{fmt}").data
    assert b"media:content" in body and b"media:thumbnail" in body
    assert (b'rel="enclosure"' if fmt == "atom" else b"<enclosure ") in body
    assert_valid(demo_client, [f"/feeds/all.{fmt}"])


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_a_combined_category_feed_passes(demo_client: FlaskClient, fmt: str) -> None:
    assert_valid(demo_client, [f"/fr/feeds/category/donjon+tech.{fmt}"])


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_an_older_page_passes(demo_client: FlaskClient, fmt: str) -> None:
    older = page_links(demo_client.get(f"/feeds/all.{fmt}").data)["next"]
    assert "?before=" in older
    assert_valid(demo_client, [older.removeprefix(BASE_URL)])


def test_empty_feeds_pass(client: FlaskClient) -> None:
    assert_valid(client, ["/feeds/all.atom", "/feeds/all.rss"])


def test_feeds_announcing_deleted_entries_pass(
    client: FlaskClient, store: Store, settings: Settings
) -> None:
    add_post(store, settings, slug="kept")
    remove(store, settings, add_post(store, settings, slug="gone", categories=["tech"]))
    body = client.get("/feeds/all.atom").data
    assert b"deleted-entry" in body
    assert_valid(
        client,
        [f"/feeds/{scope}.{fmt}" for scope in ("all", "category/tech") for fmt in ("atom", "rss")],
    )


def test_feeds_linking_to_websub_hubs_pass(store: Store, settings: Settings) -> None:
    add_post(store, settings, slug="p", categories=["tech"])
    client = create_app(settings.replace(hubs=HUBS)).test_client()
    assert b'rel="hub"' in client.get("/feeds/all.rss").data
    paths = [
        f"{lang}/feeds/{scope}.{fmt}"
        for lang in ("", "/en")
        for scope in ("all", "category/tech")
        for fmt in ("atom", "rss")
    ]
    assert_valid(client, paths)


def test_feeds_of_a_unicode_slug_pass(
    client: FlaskClient, store: Store, settings: Settings
) -> None:
    """A feed's own URL (its Atom id, its self link) is a URI, the Unicode slug
    percent-encoded; RSS writes its <link>s (the blog page, each item's) as URIs too: RSS 2.0
    takes URLs. Atom keeps the blog pages' IRIs, which RFC 4287 allows."""
    add_post(store, settings, slug="café-ü", language="fr", categories=["café-ü"])
    for path in ("/feeds/category/café-ü.atom", "/fr/feeds/category/café-ü.rss"):
        response = client.get(path)
        uri = BASE_URL + as_uri(path)
        report = w3c_report(response.data, uri, response.content_type, ACCEPTED_WARNINGS)
        assert (report.errors, report.warnings) == ([], []), path


def test_an_atom_entry_without_id_is_an_error(demo_client: FlaskClient) -> None:
    root = etree.fromstring(demo_client.get("/feeds/all.atom").data)
    entry_id = root.find("{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}id")
    assert entry_id is not None
    entry_id.getparent().remove(entry_id)
    problems = w3c_problems(etree.tostring(root), f"{BASE_URL}/feeds/all.atom")
    assert any("Missing entry element: id [MissingElement]" in line for line in problems), problems


def test_an_rss_item_with_a_bad_date_is_an_error(demo_client: FlaskClient) -> None:
    body = demo_client.get("/feeds/all.rss").data
    root = etree.fromstring(body)
    root.find("channel/item/pubDate").text = "yesterday"
    problems = w3c_problems(etree.tostring(root), f"{BASE_URL}/feeds/all.rss")
    assert any("[InvalidRFC2822Date]" in line for line in problems), problems


def test_a_feed_served_at_another_url_than_its_self_link_is_a_warning(
    demo_client: FlaskClient,
) -> None:
    body = demo_client.get("/feeds/all.atom").data
    report = w3c_report(body, f"{BASE_URL}/elsewhere.atom")
    assert report.errors == []
    assert any("[SelfDoesntMatchLocation]" in line for line in report.warnings), report


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_archives_and_the_feed_that_links_them_pass(
    store: Store, settings: Settings, fmt: str
) -> None:
    """RFC 5005 archives (fh:archive, current, prev-archive, next-archive) of a store with
    six sealed archives, and the subscription document's prev-archive."""
    archiving = settings.replace(items_per_feed=2, archive_size=3)
    for number in range(20):
        add_post(store, archiving, slug=f"p{number}", categories=["tech"],
                 published=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=number))  # fmt: skip
    client = create_app(archiving).test_client()
    paths = [f"/feeds/all.{fmt}", *(f"/feeds/all/archive/{n}.{fmt}" for n in range(1, 7))]
    assert all(client.get(path).status_code == 200 for path in paths)
    assert_valid(client, paths)
