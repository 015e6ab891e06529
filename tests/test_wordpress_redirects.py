"""WordPress feed URLs keep working after the move: 301 to the matching feed."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from feeds import create_app
from feeds.settings import Settings
from feeds.store import Store
from feeds.store.writes import set_store_fact
from tests.conftest import BASE_URL, add_post


@pytest.fixture
def imported(store: Store, settings: Settings) -> Store:
    """A store into which a WordPress export has been imported."""
    add_post(store, settings, categories=["tech"])
    with store.session() as session, session.begin():
        set_store_fact(session, "wordpress_imported", "yes")
    return store


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/feed/", "/feeds/all.rss"),
        ("/feed", "/feeds/all.rss"),
        ("/feed/rss2/", "/feeds/all.rss"),
        ("/feed/atom/", "/feeds/all.atom"),
        ("/category/tech/feed/", "/feeds/category/tech.rss"),
        ("/category/tech/feed/atom/", "/feeds/category/tech.atom"),
        ("/category/news/tech/feed/", "/feeds/category/tech.rss"),
        ("/fr/feed/", "/fr/feeds/all.rss"),
        ("/fr/feed/atom/", "/fr/feeds/all.atom"),
        ("/zh-hans/category/tech/feed/", "/zh-hans/feeds/category/tech.rss"),
        ("/tag/wallets/feed/", "/feeds/tag/wallets.rss"),
        ("/fr/tag/wallets/feed/atom/", "/fr/feeds/tag/wallets.atom"),
    ],
)
def test_wordpress_feed_urls_redirect_permanently(
    imported: Store, client: FlaskClient, old: str, new: str
) -> None:
    response = client.get(old)
    assert response.status_code == 301
    assert response.headers["Location"] == BASE_URL + new


def test_redirect_leads_to_a_feed(imported: Store, client: FlaskClient) -> None:
    location = client.get("/category/tech/feed/").headers["Location"]
    response = client.get(location.removeprefix(BASE_URL))
    assert response.status_code == 200
    assert response.content_type == "application/rss+xml; charset=utf-8"


def test_no_redirect_before_a_wordpress_import(
    store: Store, settings: Settings, client: FlaskClient
) -> None:
    add_post(store, settings)
    response = client.get("/feed/")
    assert response.status_code == 404
    assert "no WordPress export has been imported" in response.get_json()["error"]


@pytest.mark.parametrize("path", ["/xx/feed/", "/feed/json/", "/fr/category/tech/feed/nope/"])
def test_unknown_old_feed_urls_get_404(imported: Store, client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.is_json


def test_redirects_can_be_switched_off(imported: Store, settings: Settings) -> None:
    client = create_app(settings.replace(wordpress_redirects=False)).test_client()
    assert client.get("/feed/").status_code == 404


def test_redirects_follow_the_old_blog_prefix(imported: Store, settings: Settings) -> None:
    client = create_app(settings.replace(wordpress_prefix="/blog")).test_client()
    assert client.get("/blog/feed/").headers["Location"] == f"{BASE_URL}/feeds/all.rss"
    assert client.get("/fr/blog/category/tech/feed/atom/").headers["Location"] == (
        f"{BASE_URL}/fr/feeds/category/tech.atom"
    )
    assert client.get("/feed/").status_code == 404
