"""The cache of rendered feeds: hits touch nothing, writes invalidate only their scopes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import event

from feeds import create_app
from feeds.render import RenderedFeed
from feeds.serving.cache import FeedCache, Representation
from feeds.serving.spec import FeedFormat, FeedSpec
from feeds.settings import Settings
from feeds.store import Store
from feeds.web.app_state import app_state
from tests.conftest import add_post, parse_feed


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """Every SQL query the app runs inside the block."""
    seen: list[str] = []
    engine = app_state(app).store.engine

    def record(_conn, _cursor, statement, _parameters, _context, _many) -> None:
        if statement != "BEGIN":  # transaction control is not a query
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_cache_hit_within_the_staleness_bound_runs_no_query(
    store: Store, settings: Settings
) -> None:
    add_post(store, settings)
    app = create_app(settings.replace(revision_check_seconds=60))
    client = app.test_client()
    first = client.get("/feeds/all.atom")
    with statements(app) as seen:
        for headers in ({}, {"Accept-Encoding": "gzip"}, {"If-None-Match": first.headers["ETag"]}):
            assert client.get("/feeds/all.atom", headers=headers).status_code in (200, 304)
    assert seen == []


def test_a_cache_hit_after_the_bound_reads_one_revision(store: Store, settings: Settings) -> None:
    add_post(store, settings)
    app = create_app(settings)  # revision_check_seconds = 0 in tests
    client = app.test_client()
    client.get("/feeds/all.atom")
    with statements(app) as seen:
        client.get("/feeds/all.atom")
    assert len(seen) == 1
    assert "scope_revisions" in seen[0]


def test_a_write_re_renders_only_the_feeds_of_its_scopes(store: Store, settings: Settings) -> None:
    add_post(store, settings, slug="a", categories=["tech"], language="en")
    add_post(store, settings, slug="b", categories=["donjon"], language="fr")
    app = create_app(settings)
    client = app.test_client()
    paths = ["/feeds/category/tech.atom", "/feeds/category/donjon.atom", "/feeds/all.atom"]
    for path in paths:
        client.get(path)
    add_post(store, settings, slug="c", categories=["donjon"], language="fr")
    rendered = []
    for path in paths:
        with statements(app) as seen:
            client.get(path)
        rendered.append(any("FROM posts" in statement for statement in seen))
    assert rendered == [False, True, True]


def test_writes_are_seen_after_the_staleness_bound(store: Store, settings: Settings) -> None:
    add_post(store, settings, slug="first", published=datetime(2024, 1, 1, tzinfo=UTC))
    client = create_app(settings.replace(revision_check_seconds=0.5)).test_client()
    assert len(parse_feed(client.get("/feeds/all.atom").data).entries) == 1
    add_post(store, settings, slug="second", published=datetime(2024, 1, 2, tzinfo=UTC))
    time.sleep(0.6)
    assert len(parse_feed(client.get("/feeds/all.atom").data).entries) == 2


def test_cached_scheduled_post_still_appears_when_due(store: Store, settings: Settings) -> None:
    client = create_app(settings.replace(revision_check_seconds=60)).test_client()
    add_post(store, settings, slug="now", published=datetime.now(UTC) - timedelta(hours=1))
    due = datetime.now(UTC) + timedelta(seconds=1)
    add_post(store, settings, title="Scheduled", slug="later", published=due)
    assert len(parse_feed(client.get("/feeds/all.rss").data).entries) == 1
    time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 0.05)
    entries = parse_feed(client.get("/feeds/all.rss").data).entries
    assert [e.title for e in entries] == ["Scheduled", "A post"]


def representation(size: int, revision: int = 1) -> Representation:
    now = datetime(2024, 1, 1, tzinfo=UTC)
    return Representation.of(RenderedFeed(bytes(size), now), revision, None)


def test_cache_evicts_least_recently_used_to_stay_within_its_bound() -> None:
    one = representation(1000)
    cache = FeedCache(max_bytes=3 * one.size)
    specs = [FeedSpec(FeedFormat.ATOM, f"c{n}") for n in range(4)]
    for spec in specs[:3]:
        cache.put(spec, one)
    assert cache.get(specs[0]) is one  # now the most recently used
    cache.put(specs[3], one)
    assert cache.get(specs[1]) is None
    assert all(cache.get(spec) is one for spec in (specs[0], specs[2], specs[3]))
    assert cache.bytes_used <= cache.max_bytes


def test_cache_skips_what_cannot_fit() -> None:
    cache = FeedCache(max_bytes=100)
    cache.put(FeedSpec(FeedFormat.RSS), representation(1000))
    assert len(cache) == 0 and cache.bytes_used == 0


def test_gzip_body_is_made_once_and_matches_the_identity_body() -> None:
    import gzip

    made = representation(5000)
    assert gzip.decompress(made.gzip) == made.identity
    assert len(made.gzip) < len(made.identity) / 10
