"""The admin JSON API as a publisher's CMS uses it: auth, every route, every error, the feeds."""

from __future__ import annotations

import html
import http.client
import itertools
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.serving import make_server
from werkzeug.test import TestResponse

from feeds import create_app
from feeds.settings import Settings
from feeds.store import Store, queries
from feeds.web.api import posts as api_module
from tests.conftest import ADMIN_TOKEN as TOKEN
from tests.conftest import REPO, parse_feed

BEARER = {"Authorization": f"Bearer {TOKEN}"}
PAST = "2024-01-01T09:00:00+00:00"
FUTURE = "2999-01-01T00:00:00Z"
# Default titles, and so slugs, differ from post to post.
POST_NUMBERS = itertools.count(1)


@pytest.fixture
def anonymous(api_settings: Settings, store: Store) -> FlaskClient:
    """A client of the same kind of app that sends no token."""
    return create_app(api_settings).test_client()


def new_post(api: FlaskClient, **fields: Any) -> dict[str, Any]:
    """Create a post through the API (published in the past, in tech); its JSON."""
    body = {
        "title": f"A post {next(POST_NUMBERS)}",
        "language": "en",
        "published": PAST,
        "categories": ["tech"],
    }
    response = api.post("/api/posts", json=body | fields)
    assert response.status_code == 201, response.json
    return response.json


def feed_entries(client: FlaskClient, path: str = "/feeds/all.atom") -> list[Any]:
    """The entries of a feed, parsed as a reader parses them."""
    response = client.get(path)
    assert response.status_code == 200
    return parse_feed(response.data).entries


def feed_ids(client: FlaskClient, path: str = "/feeds/all.atom") -> list[str]:
    return [entry.id for entry in feed_entries(client, path)]


def listed_ids(api: FlaskClient, query: str = "") -> list[int]:
    response = api.get(f"/api/posts?{query}")
    assert response.status_code == 200, response.json
    return [post["id"] for post in response.json["posts"]]


def assert_error(response: TestResponse, status: int, field: str | None = None) -> str:
    """Check a JSON error answer; its message."""
    assert response.status_code == status, response.data
    assert response.content_type == "application/json"
    body = response.json
    assert body["status"] == status
    assert body.get("field") == field
    assert body["error"] and "\n" not in body["error"]
    return body["error"]


# --- auth ------------------------------------------------------------------------------


def test_request_without_token_is_401_asking_for_bearer(anonymous: FlaskClient) -> None:
    response = anonymous.get("/api/posts")
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", TOKEN])
def test_malformed_authorization_header_is_401(anonymous: FlaskClient, header: str) -> None:
    response = anonymous.get("/api/posts", headers={"Authorization": header})
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("token", ["wrong-token", TOKEN + "x", TOKEN[:-1], "jeton-é", "令牌"])
def test_wrong_token_is_403(anonymous: FlaskClient, token: str) -> None:
    response = anonymous.get("/api/posts", headers={"Authorization": f"Bearer {token}"})
    assert_error(response, 403)


def test_failed_authentications_beyond_the_limit_get_429_with_retry_after(
    anonymous: FlaskClient, api_settings: Settings
) -> None:
    guesser = {"REMOTE_ADDR": "203.0.113.7"}
    wrong = {"Authorization": "Bearer guess"}
    for _ in range(api_settings.auth_failures_per_minute):
        assert_error(anonymous.get("/api/posts", headers=wrong, environ_base=guesser), 403)
    for headers in (wrong, {}):  # a wrong token or none: both are failures
        response = anonymous.get("/api/posts", headers=headers, environ_base=guesser)
        assert "too many failed authentications" in assert_error(response, 429)
        assert 1 <= int(response.headers["Retry-After"]) <= 60
    # the right token keeps working, from the same address too (a shared proxy or NAT)
    right = anonymous.get("/api/posts", headers=BEARER, environ_base=guesser)
    assert right.status_code == 200
    # and other clients are not limited
    other = anonymous.get("/api/posts", headers=wrong, environ_base={"REMOTE_ADDR": "198.51.100.1"})
    assert_error(other, 403)


def test_bearer_scheme_is_case_insensitive(anonymous: FlaskClient) -> None:
    response = anonymous.get("/api/posts", headers={"Authorization": f"bearer {TOKEN}"})
    assert response.status_code == 200


def test_unknown_api_url_needs_the_token_before_it_says_404(anonymous: FlaskClient) -> None:
    assert_error(anonymous.get("/api/nothing-here"), 401)


def test_write_without_token_stores_nothing(anonymous: FlaskClient, api: FlaskClient) -> None:
    response = anonymous.post("/api/posts", json={"title": "Sneaky", "language": "en"})
    assert_error(response, 401)
    assert listed_ids(api) == []


def test_token_can_come_from_a_file(store: Store, settings: Settings, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    environ = {
        "FEEDS_ADMIN_TOKEN_FILE": str(token_file),
        "FEEDS_DATABASE_URL": settings.database_url,
    }
    client = create_app(Settings.load(REPO / "config.toml", environ=environ)).test_client()
    assert client.get("/api/posts", headers=BEARER).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/posts"), ("POST", "/api/posts"), ("GET", "/api/nothing"), ("DELETE", "/api")],
)
def test_api_without_admin_token_answers_404_disabled(
    client: FlaskClient, method: str, path: str
) -> None:
    response = client.open(path, method=method, headers=BEARER, json={"title": "x"})
    assert "admin API disabled" in assert_error(response, 404)


def test_feeds_still_served_when_api_disabled(client: FlaskClient) -> None:
    assert client.get("/feeds/all.atom").status_code == 200


@pytest.mark.parametrize(
    ("token", "warnings"),
    [("", ["admin API disabled: set FEEDS_ADMIN_TOKEN or FEEDS_ADMIN_TOKEN_FILE"]), (TOKEN, [])],
)
def test_app_creation_warns_once_when_api_is_disabled(
    settings: Settings,
    store: Store,
    caplog: pytest.LogCaptureFixture,
    token: str,
    warnings: list[str],
) -> None:
    with caplog.at_level(logging.WARNING, logger="feeds.web.api"):
        create_app(settings.replace(admin_token=token))
    assert [record.getMessage() for record in caplog.records] == warnings


# --- posts: create, read, change, delete -----------------------------------------------


def test_created_post_answers_201_with_location_and_json(api: FlaskClient) -> None:
    response = api.post("/api/posts", json={"title": "Hello", "language": "en"})
    assert response.status_code == 201
    post = response.json
    assert response.headers["Location"] == f"/api/posts/{post['id']}"
    assert response.headers["Feeds-Outcome"] == "created"
    assert post["slug"] == "hello"
    assert post["entry_id"].startswith("urn:uuid:")
    assert api.get(response.headers["Location"]).json == post


def test_created_post_shows_in_the_feed(api: FlaskClient) -> None:
    post = new_post(api, title="Fresh news", summary="It happened.")
    (entry,) = feed_entries(api)
    assert (entry.id, entry.title, entry.summary) == (
        post["entry_id"],
        "Fresh news",
        "It happened.",
    )


def test_patched_title_keeps_the_entry_id_in_the_feed(api: FlaskClient) -> None:
    post = new_post(api, title="First title")
    response = api.patch(f"/api/posts/{post['id']}", json={"title": "Second title"})
    assert response.status_code == 200
    assert response.headers["Feeds-Outcome"] == "updated"
    (entry,) = feed_entries(api)
    assert (entry.id, entry.title) == (post["entry_id"], "Second title")


def test_patch_that_changes_nothing_says_unchanged_and_keeps_updated(api: FlaskClient) -> None:
    post = new_post(api, title="Same")
    response = api.patch(f"/api/posts/{post['id']}", json={"title": "Same"})
    assert response.headers["Feeds-Outcome"] == "unchanged"
    assert response.json["updated"] == post["updated"]


def test_draft_is_not_in_the_feed_until_patched_to_published(api: FlaskClient) -> None:
    post = new_post(api, status="draft")
    assert feed_ids(api) == []
    api.patch(f"/api/posts/{post['id']}", json={"status": "published"})
    assert feed_ids(api) == [post["entry_id"]]


def test_scheduled_post_is_listed_but_not_in_the_feed(api: FlaskClient) -> None:
    post = new_post(api, published=FUTURE)
    assert feed_ids(api) == []
    assert listed_ids(api) == [post["id"]]


def test_deleted_post_leaves_the_feed_and_the_api(api: FlaskClient) -> None:
    kept, deleted = new_post(api, title="Kept"), new_post(api, title="Deleted")
    response = api.delete(f"/api/posts/{deleted['id']}")
    assert response.status_code == 204
    assert response.data == b""
    assert feed_ids(api) == [kept["entry_id"]]
    assert_error(api.get(f"/api/posts/{deleted['id']}"), 404)


def test_put_replaces_the_whole_post(api: FlaskClient) -> None:
    post = new_post(api, summary="Old summary", tags=["ai"], authors=["Ada"])
    whole = {"title": "Replaced", "language": "en", "published": PAST, "content_html": "<p>New</p>"}
    response = api.put(f"/api/posts/{post['id']}", json=whole)
    assert response.status_code == 200
    replaced = response.json
    assert (replaced["title"], replaced["slug"], replaced["summary"]) == (
        "Replaced",
        "replaced",
        "New",
    )
    assert (replaced["categories"], replaced["tags"], replaced["authors"]) == ([], [], [])
    assert replaced["entry_id"] == post["entry_id"]


def test_put_needs_a_whole_post(api: FlaskClient) -> None:
    post = new_post(api)
    assert_error(
        api.put(f"/api/posts/{post['id']}", json={"title": "No language"}), 422, "language"
    )


def test_post_json_from_the_api_can_be_sent_back_as_is(api: FlaskClient) -> None:
    post = new_post(api, tags=[{"slug": "ai", "name": "AI"}], authors=[{"name": "Ada"}])
    response = api.put(f"/api/posts/{post['id']}", json=post)
    assert response.headers["Feeds-Outcome"] == "unchanged"
    assert response.json == post


@pytest.mark.parametrize("route", ["/api/posts/{id}", "/api/posts/external/cms-1"])
def test_the_same_document_put_twice_is_unchanged_and_keeps_its_date(
    api: FlaskClient, route: str
) -> None:
    """A CMS that re-sends a post without its date must not move it to now each time."""
    post = new_post(api, external_id="cms-1")
    document = {"title": "Same", "language": "en", "content_html": "<p>Same</p>"}
    path = route.format(id=post["id"])
    first = api.put(path, json=document)
    assert first.headers["Feeds-Outcome"] == "updated"
    assert first.json["published"] == post["published"]
    again = api.put(path, json=document)
    assert again.headers["Feeds-Outcome"] == "unchanged"
    assert again.json == first.json


@pytest.mark.parametrize(
    "value",
    [
        "monday 9am UTC",  # dateutil read it as next Monday
        "1/2/2024 10:00Z",  # and this month-first
        "2024-05-01",
        "2024-05-01T09:00:00",
        "2024-05-01T09:00Z",
        "2024-05-01T24:00:00Z",
        "20240501T090000Z",
        "2024-05-01T09:00:00 +02:00",
        "١٢٠٢-05-01T09:00:00Z",
    ],
)
def test_dates_other_than_rfc_3339_with_a_time_zone_are_refused(
    api: FlaskClient, value: str
) -> None:
    body = {"title": "T", "language": "en", "published": value}
    assert "RFC 3339" in assert_error(api.post("/api/posts", json=body), 422, "published")


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("2024-05-01T09:00:00Z", "2024-05-01T09:00:00+00:00"),
        ("2024-05-01t09:00:00.5+02:00", "2024-05-01T07:00:00.500000+00:00"),
        ("2024-05-01 09:00:00-05:30", "2024-05-01T14:30:00+00:00"),
    ],
)
def test_rfc_3339_dates_are_taken_in_utc(api: FlaskClient, value: str, stored: str) -> None:
    assert new_post(api, published=value)["published"] == stored


def test_a_lone_surrogate_in_a_field_name_is_a_422_not_a_500(api: FlaskClient) -> None:
    body = b'{"\\ud800": 1, "title": "T", "language": "en"}'
    response = api.post("/api/posts", data=body, content_type="application/json")
    assert "unknown field" in assert_error(response, 422, "\ufffd")


# --- upsert by external id -------------------------------------------------------------


def test_upsert_creates_then_says_unchanged_without_a_duplicate(api: FlaskClient) -> None:
    body = {"title": "From the CMS", "language": "en", "published": PAST}
    first = api.put("/api/posts/external/cms-42", json=body)
    second = api.put("/api/posts/external/cms-42", json=body)
    assert (first.status_code, first.headers["Feeds-Outcome"]) == (201, "created")
    assert (second.status_code, second.headers["Feeds-Outcome"]) == (200, "unchanged")
    assert first.headers["Location"] == f"/api/posts/{first.json['id']}"
    assert listed_ids(api) == [first.json["id"]]
    assert second.json["external_id"] == "cms-42"


def test_upsert_of_a_changed_post_updates_it_in_place(api: FlaskClient) -> None:
    body = {"title": "Draft title", "language": "en", "published": PAST}
    first = api.put("/api/posts/external/cms-7", json=body).json
    second = api.put("/api/posts/external/cms-7", json=body | {"title": "Final title"})
    assert (second.status_code, second.headers["Feeds-Outcome"]) == (200, "updated")
    (entry,) = feed_entries(api)
    assert (entry.id, entry.title) == (first["entry_id"], "Final title")


def test_upsert_external_id_may_hold_slashes(api: FlaskClient) -> None:
    body = {"title": "WordPress post", "language": "en"}
    response = api.put("/api/posts/external/wp/2024/12", json=body)
    assert response.json["external_id"] == "wp/2024/12"
    assert listed_ids(api, "external_id=wp/2024/12") == [response.json["id"]]


def test_upsert_body_naming_another_external_id_is_422(api: FlaskClient) -> None:
    body = {"title": "x", "language": "en", "external_id": "cms-2"}
    assert_error(api.put("/api/posts/external/cms-1", json=body), 422, "external_id")
    assert listed_ids(api) == []


def test_upsert_with_a_blank_external_id_is_422(api: FlaskClient) -> None:
    response = api.put("/api/posts/external/%20", json={"title": "x", "language": "en"})
    assert_error(response, 422, "external_id")


# --- categories ------------------------------------------------------------------------


def test_categories_list_slug_name_and_post_count(api: FlaskClient) -> None:
    api.post("/api/categories", json={"slug": "empty", "name": "Empty"})
    new_post(api, categories=[{"slug": "tech", "name": "Tech"}])
    new_post(api, categories=["tech"], status="draft")
    assert api.get("/api/categories").json == {
        "categories": [
            {"slug": "empty", "name": "Empty", "post_count": 0},
            {"slug": "tech", "name": "Tech", "post_count": 2},
        ]
    }


def test_created_category_answers_201_with_location(api: FlaskClient) -> None:
    response = api.post("/api/categories", json={"slug": "guides", "name": "Guides"})
    assert response.status_code == 201
    assert response.headers["Location"] == "/api/categories/guides"
    assert api.get("/api/categories/guides").json == response.json


def test_renamed_category_serves_its_feed_at_the_new_slug(api: FlaskClient) -> None:
    post = new_post(api, categories=["tech"])
    response = api.patch("/api/categories/tech", json={"slug": "technology", "name": "Technology"})
    assert response.json == {"slug": "technology", "name": "Technology", "post_count": 1}
    assert feed_ids(api, "/feeds/category/technology.atom") == [post["entry_id"]]
    assert api.get("/feeds/category/tech.atom").status_code == 404


def test_category_delete_refused_while_used_then_moves_posts(api: FlaskClient) -> None:
    post = new_post(api, categories=["old"])
    api.post("/api/categories", json={"slug": "new", "name": "New"})
    assert_error(api.delete("/api/categories/old"), 409, "category")
    assert feed_ids(api, "/feeds/category/old.atom") == [post["entry_id"]]

    assert api.delete("/api/categories/old?move_to=new").status_code == 204
    assert api.get("/feeds/category/old.atom").status_code == 404
    assert feed_ids(api, "/feeds/category/new.atom") == [post["entry_id"]]
    assert api.get(f"/api/posts/{post['id']}").json["categories"] == [
        {"slug": "new", "name": "New"}
    ]


def test_unused_category_is_deleted(api: FlaskClient) -> None:
    api.post("/api/categories", json={"slug": "unused", "name": "Unused"})
    assert api.delete("/api/categories/unused").status_code == 204
    assert api.get("/api/categories").json == {"categories": []}


# --- authors ---------------------------------------------------------------------------


def test_created_author_is_listed(api: FlaskClient) -> None:
    body = {"name": "Ada Lovelace", "email": "ada@example.com", "uri": "https://ada.example"}
    response = api.post("/api/authors", json=body)
    assert response.status_code == 201
    assert response.json == {"id": response.json["id"], "slug": "ada-lovelace", **body}
    assert response.headers["Location"] == f"/api/authors/{response.json['id']}"
    assert api.get("/api/authors").json == {"authors": [response.json]}


def test_patched_author_name_shows_in_the_feed_and_null_removes_email(api: FlaskClient) -> None:
    author = api.post("/api/authors", json={"name": "Ada", "email": "ada@example.com"}).json
    new_post(api, authors=["Ada"])
    response = api.patch(f"/api/authors/{author['id']}", json={"name": "Ada L.", "email": None})
    assert response.json == {
        "id": author["id"],
        "name": "Ada L.",
        "slug": "ada",
        "email": None,
        "uri": None,
    }
    (entry,) = feed_entries(api)
    assert entry.author == "Ada L."


# --- text: Unicode, and what XML cannot hold -------------------------------------------


def test_unicode_round_trips_through_the_api_and_the_feed(api: FlaskClient) -> None:
    title = "مرحبا بالعالم “quoted” & 你好"
    summary = "简体中文摘要 – ‘curly’ & <not a tag>"
    post = new_post(api, title=title, language="ar", summary=summary, categories=["عربي"])
    assert (post["title"], post["summary"], post["slug"]) == (
        title,
        summary,
        "مرحبا-بالعالم-quoted-你好",
    )
    response = api.get(f"/api/posts/{post['id']}")
    assert response.json == post
    assert title.encode() in response.data  # UTF-8, not \u escapes
    (entry,) = feed_entries(api, "/ar/feeds/category/عربي.atom")
    # The feed carries the summary as HTML: the plain text, escaped.
    assert (entry.title, html.unescape(entry.summary)) == (title, summary)


def test_characters_xml_cannot_hold_are_cleaned_from_texts_and_the_feed_parses(
    api: FlaskClient,
) -> None:
    body = {
        "title": "Bad\x00 chars\x0b here\ufffe",
        "summary": "line\x1b[0m",
        "content_html": "<p>ctrl\x08</p>",
        "categories": [{"slug": "cat", "name": "Ca\x02t"}],
        "authors": [{"name": "Ada\x07", "email": "ada\x03@example.com"}],
        "entry_id": "urn:x-test:one",
    }
    post = new_post(api, **body)
    assert (post["title"], post["summary"]) == ("Bad chars here", "line[0m")
    assert post["content_html"] == "<p>ctrl</p>"
    assert post["categories"][0] == {"slug": "cat", "name": "Cat"}
    assert post["authors"] == [{"name": "Ada", "email": "ada@example.com", "uri": None}]
    assert feed_ids(api) == ["urn:x-test:one"]
    parse_feed(api.get("/feeds/all.rss").data)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("slug", "bad\x01slug"),
        ("entry_id", "urn:x-test:\x04one"),
        ("external_id", "a\x00b"),
        ("categories", ["ca\x02t"]),
    ],
)
def test_identifiers_that_cleaning_would_change_are_refused(
    api: FlaskClient, field: str, value: object
) -> None:
    """A changed id or slug would not be found again by the same request: refused instead."""
    body = {"title": "T", "language": "en", field: value}
    assert_error(api.post("/api/posts", json=body), 422, field)
    assert api.get("/api/posts").get_json()["posts"] == []


def test_external_id_with_a_nul_in_the_url_is_refused_not_stored_as_another_id(
    api: FlaskClient,
) -> None:
    body = {"title": "T", "language": "en"}
    for _ in range(2):
        assert_error(api.put("/api/posts/external/a%00b", json=body), 422, "external_id")
    assert api.get("/api/posts").get_json()["posts"] == []


# --- errors: 400 -----------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"{", b"", b'{"title": "x",}', b'{"title": "\xe9t\xe9"}'])
def test_malformed_json_body_is_400(api: FlaskClient, body: bytes) -> None:
    response = api.post("/api/posts", data=body, content_type="application/json")
    assert "malformed JSON" in assert_error(response, 400)


def test_json_nested_too_deeply_is_400(api: FlaskClient) -> None:
    response = api.post("/api/posts", data="[" * 100_000, content_type="application/json")
    assert_error(response, 400)


@pytest.mark.parametrize("limit", ["0", "201", "ten", "-1", "", "1.5", "٣"])
def test_bad_limit_is_400(api: FlaskClient, limit: str) -> None:
    assert_error(api.get(f"/api/posts?limit={limit}"), 400, "limit")


@pytest.mark.parametrize(
    ("query", "field"),
    [("categroy=tech", "categroy"), ("status=live", "status"), ("language=xx", "language")],
)
def test_unknown_filter_or_value_is_400(api: FlaskClient, query: str, field: str) -> None:
    assert_error(api.get(f"/api/posts?{query}"), 400, field)


def test_filter_given_twice_is_400(api: FlaskClient) -> None:
    assert_error(api.get("/api/posts?tag=a&tag=b"), 400, "tag")


def test_unknown_query_parameter_on_category_delete_is_400(api: FlaskClient) -> None:
    api.post("/api/categories", json={"slug": "unused", "name": "Unused"})
    assert_error(api.delete("/api/categories/unused?moveto=x"), 400, "moveto")
    assert api.get("/api/categories/unused").status_code == 200


# --- errors: 404, 405 ------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_unknown_post_is_404(api: FlaskClient, method: str) -> None:
    response = api.open("/api/posts/999", method=method, json={"title": "x", "language": "en"})
    assert "no post with id 999" in assert_error(response, 404)


def test_post_id_too_large_for_the_database_is_404(api: FlaskClient) -> None:
    assert_error(api.get(f"/api/posts/{10**30}"), 404)


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_unknown_category_is_404(api: FlaskClient, method: str) -> None:
    response = api.open("/api/categories/nope", method=method, json={"name": "x"})
    assert "nope" in assert_error(response, 404)


def test_category_delete_moving_to_unknown_category_is_404(api: FlaskClient) -> None:
    new_post(api, categories=["tech"])
    assert_error(api.delete("/api/categories/tech?move_to=nope"), 404, "move_to")
    assert listed_ids(api, "category=tech") != []


@pytest.mark.parametrize("method", ["GET", "PATCH"])
def test_unknown_author_is_404(api: FlaskClient, method: str) -> None:
    response = api.open("/api/authors/42", method=method, json={"name": "x"})
    assert_error(response, 404)


def test_unsupported_method_is_405_json_with_allow(api: FlaskClient) -> None:
    response = api.patch("/api/posts", json={})
    assert_error(response, 405)
    assert set(response.allow) >= {"GET", "POST"}


# --- errors: 409 -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("slug", "launch"), ("external_id", "cms-1"), ("entry_id", "urn:x-test:taken")],
)
def test_post_taking_a_stored_posts_slug_or_id_is_409(
    api: FlaskClient, field: str, value: str
) -> None:
    new_post(api, **{field: value})
    response = api.post("/api/posts", json={"title": "x", "language": "en", field: value})
    assert_error(response, 409, field)
    assert len(listed_ids(api)) == 1


def test_same_slug_in_another_language_is_fine(api: FlaskClient) -> None:
    new_post(api, slug="launch")
    assert new_post(api, slug="launch", language="fr")["url"].endswith("/fr/blog/launch")


def test_patching_to_another_posts_slug_is_409(api: FlaskClient) -> None:
    new_post(api, slug="first")
    second = new_post(api, slug="second")
    assert_error(api.patch(f"/api/posts/{second['id']}", json={"slug": "first"}), 409, "slug")


def test_existing_category_is_409(api: FlaskClient) -> None:
    api.post("/api/categories", json={"slug": "tech", "name": "Tech"})
    assert_error(api.post("/api/categories", json={"slug": "tech", "name": "T"}), 409, "slug")


def test_renaming_category_to_a_taken_slug_is_409(api: FlaskClient) -> None:
    api.post("/api/categories", json={"slug": "a", "name": "A"})
    api.post("/api/categories", json={"slug": "b", "name": "B"})
    assert_error(api.patch("/api/categories/b", json={"slug": "a"}), 409, "slug")


def test_existing_author_name_is_409(api: FlaskClient) -> None:
    api.post("/api/authors", json={"name": "Ada"})
    assert_error(api.post("/api/authors", json={"name": "Ada"}), 409, "name")


def test_write_that_loses_a_race_is_409_and_stores_nothing(
    api: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_create_post = api_module.create_post

    def create_then_collide(*args: Any, **kwargs: Any) -> Any:
        real_create_post(*args, **kwargs)  # the post is written, then the commit would clash
        raise IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))

    monkeypatch.setattr(api_module, "create_post", create_then_collide)
    assert_error(api.post("/api/posts", json={"title": "x", "language": "en"}), 409)
    assert listed_ids(api) == []


def test_database_failure_is_503_json(api: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("SELECT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(queries, "list_posts", fail)
    assert_error(api.get("/api/posts"), 503)


# --- errors: 413, 415 ------------------------------------------------------------------


def test_body_larger_than_the_limit_is_413(api: FlaskClient, api_settings: Settings) -> None:
    body = b'{"title": "' + b"x" * api_settings.max_request_bytes + b'", "language": "en"}'
    response = api.post("/api/posts", data=body, content_type="application/json")
    assert str(api_settings.max_request_bytes) in assert_error(response, 413)
    assert listed_ids(api) == []


@pytest.fixture
def real_server(api_settings: Settings, store: Store) -> Iterator[int]:
    """The app behind Werkzeug's own server (what `feeds serve` runs), on a free port."""
    server = make_server("127.0.0.1", 0, create_app(api_settings), threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.start()
    yield server.server_port
    server.shutdown()
    thread.join(timeout=10)


def post_chunked(port: int, chunks: list[bytes]) -> tuple[int, str | None, bytes]:
    """POST chunks to /api/posts with Transfer-Encoding: chunked; status, type and body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = BEARER | {"Content-Type": "application/json"}
        connection.request(
            "POST", "/api/posts", body=iter(chunks), headers=headers, encode_chunked=True
        )
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        connection.close()


def test_chunked_body_larger_than_the_limit_is_413_over_a_socket(
    real_server: int, api_settings: Settings
) -> None:
    chunk = b"x" * 65_536
    count = api_settings.max_request_bytes // len(chunk) + 2
    status, content_type, body = post_chunked(
        real_server, [b'{"title": "', *[chunk] * count, b'", "language": "en"}']
    )
    assert (status, content_type) == (413, "application/json")
    assert b'"status":413' in body


def test_small_chunked_body_is_accepted_over_a_socket(real_server: int) -> None:
    status, _, _ = post_chunked(real_server, [b'{"title": "Streamed", ', b'"language": "en"}'])
    assert status == 201


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/posts"),
        ("PUT", "/api/posts/1"),
        ("PATCH", "/api/posts/1"),
        ("PUT", "/api/posts/external/cms-1"),
        ("POST", "/api/categories"),
        ("PATCH", "/api/categories/tech"),
        ("POST", "/api/authors"),
    ],
)
@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_body_that_is_not_json_is_415(
    api: FlaskClient, method: str, path: str, content_type: str | None
) -> None:
    new_post(api, categories=["tech"])
    response = api.open(path, method=method, data='{"title": "x"}', content_type=content_type)
    assert_error(response, 415)


# --- errors: 422 -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
        ({"language": None}, "language"),
        ({"language": "xx"}, "language"),
        ({"published": "yesterday-ish"}, "published"),
        ({"published": "2024-05-01T09:00:00"}, "published"),
        ({"published": "0001-01-01T00:00:00+14:00"}, "published"),
        ({"updated": "2024-01-01T00:00:00+99:00"}, "updated"),
        ({"published": 1714554000}, "published"),
        ({"slug": "has space"}, "slug"),
        ({"slug": "a/b"}, "slug"),
        ({"title": "t" * 1001}, "title"),
        ({"status": "live"}, "status"),
        ({"status": ["published"]}, "status"),
        ({"categories": "tech"}, "categories"),
        ({"categories": [{"name": "no slug"}]}, "categories"),
        ({"authors": [{"name": "Ada", "email": "not-an-address"}]}, "email"),
        ({"authors": [{"name": "Ada", "uri": "/relative"}]}, "authors"),
        ({"entry_id": "not a uri"}, "entry_id"),
        ({"external_id": "e" * 201}, "external_id"),
    ],
)
def test_invalid_post_is_422_naming_the_field(
    api: FlaskClient, changes: dict[str, Any], field: str
) -> None:
    body = {"title": "A post", "language": "en"} | changes
    assert_error(api.post("/api/posts", json=body), 422, field)
    assert listed_ids(api) == []


@pytest.mark.parametrize("body", ["[]", '["title"]', '"a post"', "42", "null"])
def test_body_that_is_not_an_object_is_422(api: FlaskClient, body: str) -> None:
    response = api.post("/api/posts", data=body, content_type="application/json")
    assert_error(response, 422, "body")


def test_patch_body_that_is_not_an_object_is_422(api: FlaskClient) -> None:
    post = new_post(api)
    assert_error(api.patch(f"/api/posts/{post['id']}", json=["title"]), 422, "body")


def test_patch_changing_the_entry_id_is_422(api: FlaskClient) -> None:
    post = new_post(api)
    response = api.patch(f"/api/posts/{post['id']}", json={"entry_id": "urn:uuid:other"})
    assert_error(response, 422, "entry_id")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/categories", {"slug": "tech"}, "name"),
        ("/api/categories", {"name": "Tech"}, "slug"),
        ("/api/categories", {"slug": "tech", "name": 5}, "name"),
        ("/api/categories", {"slug": "has space", "name": "x"}, "slug"),
        ("/api/categories", {"slug": "tech", "name": "Tech", "colour": "red"}, "colour"),
        ("/api/authors", {"email": "a@example.com"}, "name"),
        ("/api/authors", {"name": "Ada", "email": "nope"}, "email"),
        ("/api/authors", {"name": "Ada", "uri": "ftp://x"}, "uri"),
        ("/api/authors", {"name": "Ada", "url": "https://x"}, "url"),
    ],
)
def test_invalid_category_or_author_is_422(
    api: FlaskClient, path: str, body: dict[str, Any], field: str
) -> None:
    assert_error(api.post(path, json=body), 422, field)
    assert api.get(path).json in ({"categories": []}, {"authors": []})


def test_category_delete_moving_to_itself_is_422(api: FlaskClient) -> None:
    new_post(api, categories=["tech"])
    assert_error(api.delete("/api/categories/tech?move_to=tech"), 422, "move_to")


@pytest.mark.parametrize("name", ["category", "tag", "author", "external_id", "status"])
def test_a_list_filter_holding_nul_is_a_400_on_every_database(api: FlaskClient, name: str) -> None:
    """PostgreSQL refuses NUL in a query parameter: it must never get one (it answered 500)."""
    assert_error(api.get(f"/api/posts?{name}=a%00b"), 400, name)


def test_a_category_slug_holding_nul_is_not_found(api: FlaskClient) -> None:
    assert_error(api.get("/api/categories/a%00b"), 404)
    assert_error(api.delete("/api/categories/tech?move_to=a%00b"), 400, "move_to")
