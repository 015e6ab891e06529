"""What a shared cache (a CDN, a proxy) reads from a feed answer: how long it may keep it
(Cache-Control, CDN-Cache-Control), and the surrogate keys a purge of its scope names."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from werkzeug.test import TestResponse

from feeds import create_app
from feeds.serving.spec import FeedSpec, every_feed
from feeds.serving.surrogate import ALL_FEEDS_KEY, scope_surrogate_key, surrogate_keys
from feeds.settings import Settings
from feeds.store import Store
from feeds.store.models import Category, ScopeRevision
from tests.conftest import add_post

# What every CDN takes in a tag: Akamai's set is the narrowest (no ":" or "/").
TOKEN = re.compile(r"[A-Za-z0-9.%-]{1,128}")
BODY_HEADERS = {"Content-Type", "Content-Length", "Content-Encoding"}


@pytest.fixture
def filled(store: Store, settings: Settings) -> Settings:
    """Settings of a store with posts in English and French, in ``tech`` and ``news``."""
    for number, (language, category) in enumerate(
        [("en", "tech"), ("fr", "tech"), ("en", "news"), ("fr", "news")]
    ):
        add_post(store, settings, slug=f"p{number}", language=language, categories=[category])
    return settings


def category_ids(store: Store) -> dict[str, int]:
    with store.session() as session:
        return dict(session.execute(select(Category.slug, Category.id)).all())


def scope_revisions(store: Store) -> dict[str, int]:
    with store.session() as session:
        return dict(session.execute(select(ScopeRevision.scope, ScopeRevision.revision)).all())


def keys_of(response: TestResponse) -> list[str]:
    """A feed answer's surrogate keys, checking that both headers name the same ones."""
    keys = response.headers["Surrogate-Key"].split(" ")
    assert response.headers["Cache-Tag"].split(",") == keys
    return keys


def test_clients_and_shared_caches_get_their_own_lifetimes(
    store: Store, settings: Settings
) -> None:
    response = create_app(settings).test_client().get("/feeds/all.atom")
    control = response.cache_control
    assert control.public
    assert control.max_age == settings.cache_max_age == 300
    assert control.s_maxage == settings.shared_max_age == 60
    assert control["stale-while-revalidate"] == str(settings.stale_while_revalidate_seconds)
    assert control["stale-if-error"] == str(settings.stale_if_error_seconds)
    assert "CDN-Cache-Control" not in response.headers  # cdn_max_age is 0 by default


def test_a_shared_cache_never_holds_a_feed_longer_than_a_client(
    store: Store, settings: Settings
) -> None:
    client = create_app(settings.replace(cache_max_age=30, shared_max_age=600)).test_client()
    control = client.get("/feeds/all.rss").cache_control
    assert (control.max_age, control.s_maxage) == (30, 30)


def test_stale_directives_at_zero_are_left_out(store: Store, settings: Settings) -> None:
    quiet = settings.replace(stale_while_revalidate_seconds=0, stale_if_error_seconds=0)
    response = create_app(quiet).test_client().get("/feeds/all.atom")
    assert response.headers["Cache-Control"] == "public, max-age=300, s-maxage=60"


def test_a_purged_cdn_may_hold_feeds_longer_with_cdn_cache_control(
    store: Store, settings: Settings
) -> None:
    client = create_app(settings.replace(cdn_max_age=86_400)).test_client()
    response = client.get("/feeds/all.atom")
    assert response.headers["CDN-Cache-Control"] == (
        "public, max-age=86400, stale-while-revalidate=60, stale-if-error=86400"
    )
    assert response.cache_control.s_maxage == 60  # other shared caches: as without it


def test_a_304_carries_every_header_of_the_200_but_the_bodys(
    filled: Settings, store: Store
) -> None:
    client = create_app(filled.replace(cdn_max_age=600)).test_client()
    for encoding in ("identity", "gzip"):
        headers = {"Accept-Encoding": encoding}
        full = client.get("/fr/feeds/category/tech.atom", headers=headers)
        headers["If-None-Match"] = full.headers["ETag"]
        empty = client.get("/fr/feeds/category/tech.atom", headers=headers)
        assert (full.status_code, empty.status_code) == (200, 304)
        expected = {k: v for k, v in full.headers.items() if k not in BODY_HEADERS}
        assert dict(empty.headers.items()) == expected
        assert {"Cache-Control", "CDN-Cache-Control", "ETag", "Vary", "Link"} <= set(expected)
        assert {"Surrogate-Key", "Cache-Tag", "Last-Modified"} <= set(expected)


def test_every_feed_is_filed_under_all_feeds_and_its_own_scope(
    filled: Settings, store: Store
) -> None:
    tech = category_ids(store)["tech"]
    client = create_app(filled).test_client()
    expected = {
        "/feeds/all.atom": "feeds.site",
        "/fr/feeds/all.rss": "feeds.lang-fr",
        "/feeds/category/tech.atom": f"feeds.cat-{tech}",
        "/fr/feeds/category/tech.rss": f"feeds.cat-{tech}.lang-fr",
    }
    for path, key in expected.items():
        response = client.get(path)
        assert keys_of(response) == [ALL_FEEDS_KEY, key], path
        assert all(TOKEN.fullmatch(k) for k in keys_of(response))


def test_every_format_encoding_and_page_of_a_scope_shares_its_keys(
    filled: Settings, store: Store
) -> None:
    client = create_app(filled.replace(items_per_feed=1)).test_client()
    answers = [
        client.get("/fr/feeds/category/tech.atom"),
        client.get("/fr/feeds/category/tech.rss"),
        client.get("/fr/feeds/category/tech.atom", headers={"Accept-Encoding": "gzip"}),
    ]
    older = client.get("/feeds/all.atom?before=" + "9999999999999999-1")
    assert older.status_code == 200
    assert {tuple(keys_of(a)) for a in answers} == {
        surrogate_keys([f"cat:{category_ids(store)['tech']}/lang:fr"])
    }
    assert keys_of(older) == list(surrogate_keys(["site"]))


def test_purging_the_keys_of_the_scopes_a_write_moves_reaches_exactly_the_changed_feeds(
    filled: Settings, store: Store
) -> None:
    """The purge a sender makes after a write: the key of each scope whose revision moved.
    Every feed whose bytes changed must be filed under one of them, and no other feed."""
    client = create_app(filled).test_client()
    specs = every_feed(filled, category_ids(store))
    before = {spec: client.get(spec.path) for spec in specs}
    revisions = scope_revisions(store)
    add_post(store, filled, slug="new", language="fr", categories=["news"])
    moved = {scope for scope, rev in scope_revisions(store).items() if revisions.get(scope) != rev}
    purged = {scope_surrogate_key(scope) for scope in moved}
    changed: set[FeedSpec] = set()
    reached: set[FeedSpec] = set()
    for spec in specs:
        after = client.get(spec.path)
        if after.headers["ETag"] != before[spec].headers["ETag"]:
            changed.add(spec)
        if purged & set(keys_of(before[spec])):
            reached.add(spec)
    assert changed == reached
    assert {(s.slugs, s.language) for s in changed} == {
        ((), None),
        ((), "fr"),
        (("news",), None),
        (("news",), "fr"),
    }


@pytest.mark.parametrize(
    ("scope", "key"),
    [
        ("site", "feeds.site"),
        ("lang:fr", "feeds.lang-fr"),
        ("cat:3", "feeds.cat-3"),
        ("cat:3/lang:pt-br", "feeds.cat-3.lang-pt-br"),
        ("cat:12/lang:zh-hans", "feeds.cat-12.lang-zh-hans"),
        ("lang:x_y.z", "feeds.lang-x%5Fy%2Ez"),
        ("lang:日本", "feeds.lang-%E6%97%A5%E6%9C%AC"),
        ("lang:a:b", "feeds.lang-a%3Ab"),
    ],
)
def test_a_scopes_key_is_an_ascii_token_any_cdn_takes(scope: str, key: str) -> None:
    assert scope_surrogate_key(scope) == key
    assert TOKEN.fullmatch(key)


def test_the_feeds_page_and_index_are_held_by_shared_caches_as_feeds_are(
    filled: Settings,
) -> None:
    client = create_app(filled).test_client()
    feed = client.get("/feeds/all.atom").headers["Cache-Control"]
    assert "s-maxage=" in feed
    for path in ("/", "/feeds.json"):
        answer = client.get(path)
        assert answer.status_code == 200
        assert answer.headers["Cache-Control"] == feed, path
        assert "CDN-Cache-Control" not in answer.headers  # nothing purges them
