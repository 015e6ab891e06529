"""RFC 5005 paged feeds: every published post is reachable by following rel="next"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from lxml import etree

from feeds import create_app
from feeds.settings import Settings
from feeds.store import Store
from tests.conftest import BASE_URL, add_post, parse_feed

ATOM = "http://www.w3.org/2005/Atom"


@pytest.fixture
def paged_client(store: Store, settings: Settings) -> FlaskClient:
    """Eleven published posts (and a draft) in feeds of four entries a page."""
    base = datetime(2024, 1, 1, tzinfo=UTC)
    for number in range(11):
        # Two posts share each timestamp: the post id breaks the tie, on every page.
        add_post(store, settings, slug=f"p{number}", published=base + timedelta(days=number // 2))
    add_post(store, settings, slug="draft", status="draft")
    return create_app(settings.replace(items_per_feed=4)).test_client()


def page_links(body: bytes) -> dict[str, str]:
    root = etree.fromstring(body)
    links = root.xpath("//a:link[@rel='next' or @rel='first']", namespaces={"a": ATOM})
    return {link.get("rel"): link.get("href") for link in links}


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_following_next_walks_every_post_once_newest_first(
    paged_client: FlaskClient, fmt: str
) -> None:
    path: str | None = f"/feeds/all.{fmt}"
    seen: list[str] = []
    pages = 0
    while path is not None:
        body = paged_client.get(path).data
        entries = parse_feed(body).entries
        assert 0 < len(entries) <= 4
        seen += [entry.link for entry in entries]
        links = page_links(body)
        if pages:
            assert links["first"] == f"{BASE_URL}/feeds/all.{fmt}"
        path = links["next"].removeprefix(BASE_URL) if "next" in links else None
        pages += 1
    assert pages == 3
    assert len(seen) == len(set(seen)) == 11
    assert seen[0].endswith("/p10") and seen[-1].endswith("/p0")


def test_each_page_links_to_itself(paged_client: FlaskClient) -> None:
    first = paged_client.get("/feeds/all.atom").data
    second_path = page_links(first)["next"]
    parsed = parse_feed(paged_client.get(second_path.removeprefix(BASE_URL)).data)
    links = {link.rel: link.href for link in parsed.feed.links}
    assert links["self"] == second_path
    assert parsed.feed.id == f"{BASE_URL}/feeds/all.atom"


def test_a_full_single_page_has_no_next_link(store: Store, settings: Settings) -> None:
    for number in range(4):
        add_post(store, settings, slug=f"p{number}")
    client = create_app(settings.replace(items_per_feed=4)).test_client()
    assert page_links(client.get("/feeds/all.rss").data) == {}


@pytest.mark.parametrize(
    "cursor",
    [
        "yesterday",
        "12-x",
        "-5",
        "1" * 30 + "-1",
        "²-1",  # a digit to str.isdigit, not to int()
        "١٢-1",
        "999999999999999999-1",  # beyond year 9999
        "-999999999999999999-1",  # before year 1
        "1-9223372036854775808",  # beyond a database integer
        "1-0",
        "1-1-1",
    ],
)
def test_a_malformed_cursor_is_a_400_with_a_message(paged_client: FlaskClient, cursor: str) -> None:
    response = paged_client.get(f"/feeds/all.atom?before={cursor}")
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("before:")


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_posts_dated_before_1970_and_in_year_1_are_paged_through_too(
    store: Store, settings: Settings, fmt: str
) -> None:
    """Their cursors are negative: feeds must read back every cursor it writes."""
    dates = [datetime(1, 1, 1, tzinfo=UTC), datetime(1950, 6, 1, tzinfo=UTC)]
    dates += [datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)] * 3
    dates += [datetime(2020, 1, 1, tzinfo=UTC)]
    for number, published in enumerate(dates):
        add_post(store, settings, slug=f"old{number}", published=published)
    client = create_app(settings.replace(items_per_feed=2)).test_client()
    path: str | None = f"/feeds/all.{fmt}"
    seen = []
    while path:
        response = client.get(path)
        assert response.status_code == 200, response.data
        seen += [entry.id for entry in parse_feed(response.data).entries]
        path = page_links(response.data).get("next", "").removeprefix(BASE_URL) or None
    assert len(seen) == len(set(seen)) == len(dates)
