"""The admin API's post listing: newest first, every status, filters, and keyset pages with
the feeds' own page cursor."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event

from feeds import create_app
from feeds.serving.spec import PageCursor
from feeds.settings import Settings
from feeds.store import Store
from feeds.store.models import PostStatus
from feeds.web.app_state import app_state
from tests.conftest import ADMIN_TOKEN, POSTGRES_URL, add_post, parse_feed
from tests.test_api import FUTURE, PAST, assert_error, new_post
from tests.test_store import plan_steps

FEBRUARY = "2024-02-01T00:00:00Z"


def walk(api: FlaskClient, limit: int, query: str = "") -> tuple[list[dict[str, Any]], list[str]]:
    """Every page of the listing, following next_cursor: the posts in the order the pages
    gave them, and the cursors."""
    posts: list[dict[str, Any]] = []
    cursors: list[str] = []
    url = f"/api/posts?limit={limit}{query}"
    while True:
        response = api.get(url)
        assert response.status_code == 200, response.json
        page = response.json
        assert len(page["posts"]) <= limit
        posts += page["posts"]
        if page["next_cursor"] is None:
            return posts, cursors
        assert len(page["posts"]) == limit
        cursors.append(page["next_cursor"])
        url = f"/api/posts?limit={limit}{query}&cursor={quote(page['next_cursor'])}"


def position(post: dict[str, Any]) -> tuple[datetime, int]:
    """Where the listing puts a post: its publication date, or its creation if it has none."""
    return datetime.fromisoformat(post["published"] or post["created"]), post["id"]


def newest_first(posts: list[dict[str, Any]]) -> list[int]:
    return [post["id"] for post in sorted(posts, key=position, reverse=True)]


@pytest.fixture
def every_kind(api: FlaskClient) -> list[dict[str, Any]]:
    """Posts of every status, several at the same time: published, drafts with and without
    a date, scheduled, two before 1970 (a negative cursor)."""
    return [
        *(new_post(api, title=f"Tied {n}") for n in range(3)),
        new_post(api, title="Dated draft, tied too", status="draft"),
        *(new_post(api, title=f"Draft {n}", status="draft", published=None) for n in range(2)),
        *(new_post(api, title=f"Scheduled {n}", published=FUTURE) for n in range(2)),
        new_post(api, title="Old", published="1950-06-01T12:00:00Z"),
        new_post(api, title="Older", published="1900-01-01T00:00:00Z"),
        new_post(api, title="June", published="2024-06-01T08:30:00.250000+02:00"),
    ]


@pytest.mark.parametrize("limit", [1, 2, 3, 10, 11])
def test_pages_visit_every_post_once_newest_first(
    api: FlaskClient, every_kind: list[dict[str, Any]], limit: int
) -> None:
    posts, _cursors = walk(api, limit)
    listed = [post["id"] for post in posts]
    assert sorted(listed) == sorted(post["id"] for post in every_kind)  # each one, once
    assert listed == newest_first(every_kind)
    assert {post["status"] for post in posts} == {"draft", "published"}
    assert posts[0]["published"] == FUTURE.replace("Z", "+00:00")


def test_next_cursor_is_the_last_posts_position_as_a_page_cursor(
    api: FlaskClient, every_kind: list[dict[str, Any]]
) -> None:
    posts, cursors = walk(api, 2)
    assert len(cursors) == len(every_kind) // 2
    for number, cursor in enumerate(cursors):
        assert re.fullmatch(r"-?[0-9]+-[0-9]+", cursor), cursor
        last = posts[2 * number + 1]
        assert PageCursor.parse(cursor) == PageCursor(*position(last))
    assert cursors[-1].startswith("-")  # the 1950 post's, before the 1900 one's page


def test_filtered_pages_visit_each_match_once_newest_first(
    api: FlaskClient, every_kind: list[dict[str, Any]]
) -> None:
    drafts = [post for post in every_kind if post["status"] == "draft"]
    posts, _cursors = walk(api, 1, "&status=draft")
    assert [post["id"] for post in posts] == newest_first(drafts)


def test_a_feeds_next_page_cursor_is_the_apis(
    api_settings: Settings, store: Store, api: FlaskClient
) -> None:
    """One format and one order: for published posts the API pages where the feed does."""
    base = datetime(2024, 3, 1, tzinfo=UTC)
    for number in range(7):
        published = base + timedelta(hours=number // 2)  # pairs at the same time
        new_post(api, title=f"Post {number}", published=published.isoformat())
    _posts, api_cursors = walk(api, 3)
    feed = create_app(api_settings.replace(items_per_feed=3)).test_client()
    feed_cursors, path = [], "/feeds/all.atom"
    while True:
        links = parse_feed(feed.get(path).data).feed.links
        after = [link.href for link in links if link.rel == "next"]
        if not after:
            break
        url = urlsplit(after[0])
        feed_cursors += parse_qs(url.query)["before"]
        path = f"{url.path}?{url.query}"
    assert api_cursors == feed_cursors
    assert len(api_cursors) == 2


def test_last_full_page_has_no_next_cursor(api: FlaskClient) -> None:
    for n in range(2):
        new_post(api, title=f"Post {n}")
    assert api.get("/api/posts?limit=2").json["next_cursor"] is None


def test_list_defaults_to_50_posts(api: FlaskClient) -> None:
    for n in range(51):
        new_post(api, title=f"Post {n}", categories=[])
    page = api.get("/api/posts").json
    assert len(page["posts"]) == 50
    assert page["next_cursor"] is not None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=draft", ["Alpha"]),
        ("language=fr", ["Bravo"]),
        ("category=news", ["Bravo", "Charlie"]),
        ("tag=ai", ["Alpha"]),
        ("author=Ada", ["Alpha", "Charlie"]),
        ("external_id=cms-a", ["Alpha"]),
        ("language=en&category=news", ["Charlie"]),
        ("category=nowhere", []),
    ],
)
def test_list_filters(api: FlaskClient, query: str, expected: list[str]) -> None:
    # Made oldest first, dated newest first: the listing follows the dates, not the ids.
    new_post(api, title="Charlie", categories=["news"], authors=["Ada"], published=PAST)
    new_post(
        api, title="Bravo", language="fr", categories=["news"], published="2024-02-01T00:00:00Z"
    )
    new_post(
        api,
        title="Alpha",
        status="draft",
        published="2024-03-01T00:00:00Z",
        tags=["ai"],
        authors=["Ada"],
        external_id="cms-a",
    )
    titles = [post["title"] for post in api.get(f"/api/posts?{query}").json["posts"]]
    assert titles == expected


def old_cursor(post_id: int) -> str:
    """The cursor the API gave before it took the feeds' (base64 of the post id)."""
    return base64.urlsafe_b64encode(str(post_id).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        # garbage
        "",
        "!!",
        "yesterday",
        "12",
        "1-x",
        "1-2-3",
        "1 -2",
        "١٢-1",
        # positions no post can have
        "999999999999999999-1",  # beyond year 9999
        "-999999999999999999-1",  # before year 1
        "1-0",
        "1-9223372036854775808",  # beyond a database integer
        # the cursors this API gave before
        old_cursor(104),
        old_cursor(104) + "=",
        old_cursor(7),
    ],
)
def test_a_bad_cursor_is_a_400_naming_the_cursor(api: FlaskClient, cursor: str) -> None:
    new_post(api)
    message = assert_error(api.get(f"/api/posts?cursor={quote(cursor)}"), 400, "cursor")
    assert message.startswith("cursor: ")


def test_the_same_bad_cursor_names_before_on_a_feed_and_cursor_on_the_api(
    api: FlaskClient,
) -> None:
    feed_error = assert_error(api.get("/feeds/all.atom?before=MTA0"), 400, "before")
    api_error = assert_error(api.get("/api/posts?cursor=MTA0"), 400, "cursor")
    assert feed_error.removeprefix("before: ") == api_error.removeprefix("cursor: ")


def test_a_valid_cursor_below_every_post_is_an_empty_last_page(api: FlaskClient) -> None:
    new_post(api)
    page = api.get(
        f"/api/posts?cursor={quote(str(PageCursor(datetime.min.replace(tzinfo=UTC), 1)))}"
    )
    assert page.status_code == 200
    assert page.json == {"posts": [], "next_cursor": None}


# --- the plan: every page is a walk down ix_posts_listing, never a sort -----------------


@pytest.fixture
def listed_store(store: Store, settings: Settings) -> Store:
    """Enough posts of every status for the planner's choice to be the one a large store gets."""
    base = datetime(2024, 1, 1, tzinfo=UTC)
    for number in range(60):
        add_post(
            store,
            settings,
            slug=f"post-{number}",
            status=PostStatus.DRAFT if number % 4 == 0 else PostStatus.PUBLISHED,
            published=None if number % 8 == 0 else base + timedelta(hours=number // 3),
        )
    store.analyze()
    return store


def listing_plan(api: FlaskClient, query: str) -> list[str]:
    """The plan of the posts query that ``GET /api/posts?<query>`` runs."""
    store: Store = app_state(api.application).store
    captured: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        if "FROM posts" in statement and "ORDER BY coalesce" in statement:
            captured.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        response = api.get(f"/api/posts?{query}")
        assert response.status_code == 200, response.json
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)
    ((statement, parameters),) = captured
    return plan_steps(store, statement, parameters)


@pytest.mark.parametrize("deep", [False, True], ids=["first page", "a later page"])
def test_each_page_of_the_listing_walks_its_index(
    listed_store: Store, api_settings: Settings, deep: bool
) -> None:
    api = create_app(api_settings).test_client()
    api.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {ADMIN_TOKEN}"
    query = "limit=5"
    if deep:
        _posts, cursors = walk(api, 5)
        query += f"&cursor={quote(cursors[len(cursors) // 2])}"
    plan = listing_plan(api, query)
    if POSTGRES_URL:
        assert not any(step.startswith(("Sort", "Seq Scan", "Bitmap")) for step in plan), plan
        walk_down = re.compile(r"Index Scan Backward using ix_posts_listing on posts")
        assert any(walk_down.match(step) for step in plan), plan
        if deep:
            assert any("ROW(COALESCE(published, created), id) <" in step for step in plan), plan
        return
    assert not any("TEMP B-TREE" in step for step in plan), plan
    if deep:
        assert plan == ["SEARCH posts USING INDEX ix_posts_listing (<expr><?)"], plan
    else:
        assert plan == ["SCAN posts USING INDEX ix_posts_listing"], plan
