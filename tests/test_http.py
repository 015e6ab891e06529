"""The HTTP exchange as an aggregator sees it: validators, 304s, HEAD, gzip, errors."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from flask import url_for
from flask.testing import FlaskClient

from feeds import create_app
from feeds.serving.spec import every_feed
from feeds.settings import Settings
from feeds.store import Store, queries
from feeds.web.app_state import app_state
from tests.conftest import add_post, client_of_a_vanished_database, feed_title_and_ids, parse_feed

FEED = "/feeds/category/tech.atom"


def test_feed_content_types(demo_client: FlaskClient) -> None:
    assert demo_client.get("/feeds/all.atom").content_type == "application/atom+xml; charset=utf-8"
    assert demo_client.get("/feeds/all.rss").content_type == "application/rss+xml; charset=utf-8"


def test_feed_has_validators_and_cache_headers(
    demo_client: FlaskClient, demo_settings: Settings
) -> None:
    response = demo_client.get(FEED)
    assert response.status_code == 200
    assert response.headers["ETag"].startswith('"')
    assert response.last_modified is not None
    assert response.cache_control.public
    assert response.cache_control.max_age == demo_settings.cache_max_age
    assert "Accept-Encoding" in response.vary


def test_cache_max_age_comes_from_config(store: Store, settings: Settings) -> None:
    client = create_app(settings.replace(cache_max_age=42)).test_client()
    assert client.get("/feeds/all.rss").cache_control.max_age == 42


def test_aggregator_polls_with_if_none_match_and_gets_304(demo_client: FlaskClient) -> None:
    first = demo_client.get(FEED)
    again = demo_client.get(FEED, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.cache_control.max_age == first.cache_control.max_age


def test_aggregator_polls_with_if_modified_since_and_gets_304(demo_client: FlaskClient) -> None:
    first = demo_client.get(FEED)
    again = demo_client.get(FEED, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert again.status_code == 304
    assert again.data == b""


def test_if_none_match_wins_over_if_modified_since(demo_client: FlaskClient) -> None:
    first = demo_client.get(FEED)
    stale_tag_fresh_date = {
        "If-None-Match": '"an-old-etag"',
        "If-Modified-Since": first.headers["Last-Modified"],
    }
    response = demo_client.get(FEED, headers=stale_tag_fresh_date)
    assert response.status_code == 200
    assert response.data == first.data


def test_older_if_modified_since_gets_the_feed(demo_client: FlaskClient) -> None:
    response = demo_client.get(FEED, headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert response.status_code == 200
    parse_feed(response.data)


def test_new_post_changes_the_validators(
    client: FlaskClient, store: Store, settings: Settings
) -> None:
    add_post(store, settings, slug="first")
    first = client.get("/feeds/all.atom")
    add_post(store, settings, slug="second", published=first.last_modified.replace(year=2025))
    after = client.get("/feeds/all.atom", headers={"If-None-Match": first.headers["ETag"]})
    assert after.status_code == 200
    assert after.headers["ETag"] != first.headers["ETag"]
    assert after.last_modified > first.last_modified
    assert len(parse_feed(after.data).entries) == 2


def test_head_has_the_headers_of_get_and_no_body(demo_client: FlaskClient) -> None:
    get = demo_client.get(FEED)
    head = demo_client.head(FEED)
    assert head.status_code == 200
    assert head.data == b""
    for name in ("ETag", "Last-Modified", "Content-Type", "Content-Length", "Cache-Control"):
        assert head.headers[name] == get.headers[name], name


def test_gzip_is_sent_to_clients_that_accept_it(demo_client: FlaskClient) -> None:
    plain = demo_client.get(FEED)
    zipped = demo_client.get(FEED, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.vary
    assert gzip.decompress(zipped.data) == plain.data
    assert len(zipped.data) < len(plain.data) / 3
    assert zipped.headers["ETag"] != plain.headers["ETag"]


def test_gzip_refused_with_q_zero_gets_identity(demo_client: FlaskClient) -> None:
    response = demo_client.get(FEED, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in response.headers
    parse_feed(response.data)


def test_gzip_etag_revalidates_to_304(demo_client: FlaskClient) -> None:
    headers = {"Accept-Encoding": "gzip"}
    first = demo_client.get(FEED, headers=headers)
    again = demo_client.get(FEED, headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""
    assert "Content-Encoding" not in again.headers
    identity_with_gzip_tag = demo_client.get(FEED, headers={"If-None-Match": first.headers["ETag"]})
    assert identity_with_gzip_tag.status_code == 200


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/feeds/category/no-such-category.atom", "unknown category 'no-such-category'"),
        ("/feeds/all.xhtml", "unknown feed format 'xhtml'"),
        ("/fr/feeds/category/tech.xml", "unknown feed format 'xml'"),
        ("/fr/feeds/category/no-such-category.rss", "unknown category 'no-such-category'"),
    ],
)
def test_unknown_feed_parts_get_404_with_a_json_message(
    demo_client: FlaskClient, path: str, message: str
) -> None:
    response = demo_client.get(path)
    assert response.status_code == 404
    assert response.is_json
    assert response.get_json()["error"].startswith(message)


@pytest.mark.parametrize("path", ["/xx/feeds/all.atom", "/xx/feeds/category/tech.rss"])
def test_a_prefix_that_is_no_configured_language_is_no_feed_url(
    demo_client: FlaskClient, path: str
) -> None:
    response = demo_client.get(path)
    assert response.status_code == 404
    assert response.get_json()["error"].startswith("The requested URL was not found")


def test_the_admin_api_is_never_taken_for_a_feed(api: FlaskClient, api_settings: Settings) -> None:
    """/api/feeds/all.atom once answered "unknown language 'api'", token or not."""
    anonymous = create_app(api_settings).test_client()
    assert anonymous.get("/api/feeds/all.atom").status_code == 401
    assert api.get("/api/feeds/all.atom").status_code == 404


def test_flask_builds_every_feed_url(demo_client: FlaskClient) -> None:
    with demo_client.application.test_request_context():
        for spec in every_feed(app_state(demo_client.application).settings, ["tech"]):
            values = {
                "format": spec.format.value,
                "lang": spec.language,
                "kind": spec.kind.value if spec.slugs else None,
                "slug": "+".join(spec.slugs) or None,
            }
            url = url_for("feeds.feed", **{k: v for k, v in values.items() if v is not None})
            assert url == spec.path


def test_unknown_path_and_method_get_json_errors(demo_client: FlaskClient) -> None:
    missing = demo_client.get("/nothing/here")
    assert missing.status_code == 404 and missing.is_json
    post = demo_client.post("/feeds/all.atom")
    assert post.status_code == 405 and post.is_json
    assert "GET" in post.headers["Allow"]


def test_feed_index_lists_every_feed(demo_client: FlaskClient, demo_settings: Settings) -> None:
    index = demo_client.get("/feeds.json").get_json()
    feeds = index["feeds"]
    assert len({feed["url"] for feed in feeds}) == len(feeds)
    by_url = {feed["url"]: feed for feed in feeds}
    tech_fr = by_url[f"{demo_settings.base_url}/fr/feeds/category/tech.rss"]
    assert tech_fr == {
        "url": f"{demo_settings.base_url}/fr/feeds/category/tech.rss",
        "home_page_url": "https://www.ledger.com/fr/blog/category/tech",
        "title": "Ledger Blog – Tech (Français)",
        "scope": "category+language",
        "category": "tech",
        "tag": None,
        "author": None,
        "language": "fr",
        "format": "rss",
        "content_type": "application/rss+xml; charset=utf-8",
    }
    assert {feed["scope"] for feed in feeds} == {
        "site",
        "language",
        "category",
        "category+language",
        "tag",
        "tag+language",
        "author",
        "author+language",
    }
    for feed in feeds:
        response = demo_client.get(feed["url"].removeprefix(demo_settings.base_url))
        assert response.status_code == 200
        assert feed_title_and_ids(response.data)[0] == feed["title"]


@pytest.mark.parametrize("form", ['"x", {etag}', "W/{etag}", "*"])
def test_if_none_match_lists_weak_tags_and_star_get_304(
    demo_client: FlaskClient, form: str
) -> None:
    etag = demo_client.get(FEED).headers["ETag"]
    again = demo_client.get(FEED, headers={"If-None-Match": form.format(etag=etag)})
    assert again.status_code == 304 and again.data == b""


def test_options_on_a_feed_lists_the_methods(demo_client: FlaskClient) -> None:
    response = demo_client.options(FEED)
    assert response.status_code == 200
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_a_non_ascii_feed_path_is_a_json_404(demo_client: FlaskClient) -> None:
    response = demo_client.get("/feeds/category/caf%C3%A9.atom")
    assert response.status_code == 404 and response.is_json
    assert response.get_json()["error"] == "unknown category 'café'"


def test_a_feed_is_503_with_retry_after_when_the_database_is_gone(tmp_path: Path) -> None:
    response = client_of_a_vanished_database(tmp_path).get("/feeds/all.atom")
    assert response.status_code == 503 and response.is_json
    assert "unavailable" in response.get_json()["error"]
    assert response.headers["Retry-After"].isdigit()


def test_feeds_advertise_stale_if_error_to_caches_in_front(
    demo_client: FlaskClient, demo_settings: Settings
) -> None:
    response = demo_client.get(FEED)
    assert response.cache_control.max_age == demo_settings.cache_max_age
    stale_if_error = response.cache_control["stale-if-error"]
    assert stale_if_error == str(demo_settings.stale_if_error_seconds)


def test_a_bug_in_a_feed_is_a_logged_json_500(
    store: Store,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = create_app(settings)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(app_state(app).service, "representation", broken)
    response = app.test_client().get("/feeds/all.atom")
    assert response.status_code == 500
    assert response.get_json() == {"error": "internal error", "status": 500}
    assert "RuntimeError: a bug" in caplog.text


@pytest.mark.parametrize("path", ["/", "/feeds.json"])
def test_a_bug_in_a_route_is_a_logged_json_500(
    store: Store,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    path: str,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(queries, "all_categories", broken)
    response = create_app(settings).test_client().get(path)
    assert response.status_code == 500
    assert response.content_type == "application/json"
    assert response.get_json() == {"error": "internal error", "status": 500}
    assert "RuntimeError: a bug" in caplog.text
