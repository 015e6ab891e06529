"""Who follows each feed: the counts aggregators report in their User-Agent, the readers
that report none, and how both reach `feeds stats` and /api/stats without slowing a poll."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from feeds import create_app
from feeds.cli import main
from feeds.serving.spec import FeedFormat, FeedSpec, PageCursor, ScopeKind
from feeds.settings import Settings
from feeds.store import Store
from feeds.store import subscribers as stored
from feeds.store.models import FeedReader, StoreMeta, SubscriberReport
from feeds.store.subscribers import ServiceCount, feed_subscribers, record_polls
from feeds.subscribers.agents import AggregatorReport, aggregator_report, is_reader
from feeds.subscribers.tally import PollTally, feed_key
from feeds.subscribers.tally import _flush_all as flush_every_tally
from feeds.web.app_state import app_state
from tests.conftest import REPO

NOW = datetime(2026, 12, 14, 12, 0, tzinfo=UTC)
FEEDLY = "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 462 subscribers; )"
READER = "NetNewsWire (RSS Reader; https://netnewswire.com/)"


@pytest.mark.parametrize(
    ("user_agent", "report"),
    [
        (FEEDLY, ("Feedly", "", 462)),
        ("Mozilla/5.0 (compatible; inoreader.com; 114 subscribers)", ("Inoreader", "", 114)),
        (
            "NewsBlur Feed Fetcher - 27 subscribers - https://www.newsblur.com/site/7704055/blog",
            ("NewsBlur", "7704055", 27),
        ),
        ("Feedbin feed-id:1697787 - 102 subscribers", ("Feedbin", "1697787", 102)),
        (
            "Mozilla/5.0 (compatible; theoldreader.com; 1 subscribers; feed-id=5c1a2b3d4e5f)",
            ("The Old Reader", "5c1a2b3d4e5f", 1),
        ),
        (
            "Mozilla/5.0 (compatible; BazQux/2.4; +https://bazqux.com/fetcher; 1 subscribers)",
            ("BazQux", "", 1),
        ),
        (
            "Netvibes (crawler/plugin; http://www.netvibes.com/; 105 subscribers; "
            "feedID: 33718936)",
            ("Netvibes", "33718936", 105),
        ),
        (
            "Overcast/1.0 Podcast Sync (210 subscribers; feed-id=735461; +http://overcast.fm/)",
            ("Overcast", "735461", 210),
        ),
        (
            "Feedfetcher-Google; (+http://www.google.com/feedfetcher.html; 4 subscribers; "
            "feed-id=12499587138938146489)",
            ("Google Feedfetcher", "12499587138938146489", 4),
        ),
        ("NewsGatorOnline/2.0 (http://www.newsgator.com; 39 subscribers)", ("NewsGator", "", 39)),
        ("Bloglines/3.1 (http://www.bloglines.com; 1 subscriber)", ("Bloglines", "", 1)),
        ("FreshFetcher/3.0 (+https://fresh.example/bot; 12 subscribers)", ("FreshFetcher", "", 12)),
        ("Mozilla/5.0 (compatible; Skimmer/1.2; 8 subscribers)", ("Skimmer", "", 8)),
    ],
)
def test_aggregators_user_agents_give_their_service_feed_id_and_count(
    user_agent: str, report: tuple[str, str, int]
) -> None:
    assert aggregator_report(user_agent) == AggregatorReport(*report)


@pytest.mark.parametrize(
    ("user_agent", "reader"),
    [
        (READER, True),
        ("Mozilla/5.0 (compatible; Miniflux/2.2.3; +https://miniflux.app)", True),
        ("Tiny Tiny RSS/24.01 (https://tt-rss.org/)", True),
        ("Googlebot/2.1 (+http://www.google.com/bot.html)", False),
        ("curl/8.5.0", False),
        ("python-requests/2.32.3", False),
        ("UptimeRobot/2.0", False),
        ("", False),
    ],
)
def test_a_user_agent_without_a_count_is_a_reader_unless_a_robot(
    user_agent: str, reader: bool
) -> None:
    assert aggregator_report(user_agent) is None
    assert is_reader(user_agent) is reader


def test_a_feed_is_its_scope_and_language_whatever_its_format_page_or_archive() -> None:
    fr_news = FeedSpec(FeedFormat.ATOM, ScopeKind.CATEGORY, ("news",), "fr")
    page = PageCursor(NOW, 7)
    assert feed_key(fr_news) == "/fr/feeds/category/news"
    assert feed_key(FeedSpec(FeedFormat.RSS, ScopeKind.CATEGORY, ("news",), "fr", page)) == (
        "/fr/feeds/category/news"
    )
    assert feed_key(FeedSpec(FeedFormat.RSS, archive=3)) == "/feeds/all"


def record(store: Store, at: datetime, *counts: ServiceCount, readers: tuple = ()) -> None:
    with store.writing.begin() as session:
        record_polls(session, at, counts, readers)


def figures(store: Store, now: datetime = NOW) -> dict[str, stored.FeedSubscribers]:
    with store.session() as session:
        return {figure.feed: figure for figure in feed_subscribers(session, now)}


def test_the_latest_count_of_a_service_feed_wins_and_feed_ids_add_up(store: Store) -> None:
    record(store, NOW - timedelta(days=2), ServiceCount("/feeds/all", "Feedbin", "1", 90))
    record(store, NOW - timedelta(hours=1), ServiceCount("/feeds/all", "Feedbin", "1", 102))
    # Another worker writes an older report of the same day after the newer one.
    record(store, NOW - timedelta(hours=3), ServiceCount("/feeds/all", "Feedbin", "1", 95))
    record(store, NOW - timedelta(hours=2), ServiceCount("/feeds/all", "Feedbin", "2", 5))
    record(store, NOW - timedelta(hours=2), ServiceCount("/feeds/all", "Feedly", "", 462))
    figure = figures(store)["/feeds/all"]
    assert (figure.aggregators, figure.individuals, figure.subscribers) == (569, 0, 569)
    assert figure.services == {"Feedly": 462, "Feedbin": 107}


def test_a_report_older_than_seven_days_drops_out(store: Store) -> None:
    record(store, NOW - timedelta(days=7, minutes=1), ServiceCount("/feeds/all", "Feedly", "", 9))
    record(store, NOW - timedelta(days=6), ServiceCount("/feeds/tag/x", "Feedly", "", 4))
    assert {feed: f.subscribers for feed, f in figures(store).items()} == {"/feeds/tag/x": 4}


def test_individuals_are_the_most_distinct_readers_of_one_day(store: Store) -> None:
    record(store, NOW - timedelta(days=3), readers=[("/feeds/all", "a"), ("/feeds/all", "b")])
    record(store, NOW - timedelta(days=3), readers=[("/feeds/all", "a")])  # again: once
    record(store, NOW, readers=[("/feeds/all", "c")])
    record(store, NOW - timedelta(days=8), readers=[("/feeds/all", h) for h in "defgh"])
    assert figures(store)["/feeds/all"].individuals == 2


def poll(client: FlaskClient, user_agent: str, address: str = "203.0.113.7", **headers: str):
    return client.get(
        "/feeds/all.atom",
        headers={"User-Agent": user_agent, **headers},
        environ_base={"REMOTE_ADDR": address},
    )


def tally_of(app: Flask) -> PollTally:
    return app_state(app).tally


def test_polls_of_every_format_count_once_per_reader_and_day(app: Flask, store: Store) -> None:
    client = app.test_client()
    etag = poll(client, READER).headers["ETag"]
    assert poll(client, READER, **{"If-None-Match": etag}).status_code == 304
    client.get(
        "/feeds/all.rss",
        headers={"User-Agent": READER},
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )
    poll(client, READER, "198.51.100.1")
    poll(client, FEEDLY, "192.0.2.1")
    poll(client, "Mozilla/5.0 (X11) Firefox/140.0", "192.0.2.2", **{"Sec-Fetch-Mode": "navigate"})
    poll(client, "Googlebot/2.1 (+http://www.google.com/bot.html)", "192.0.2.3")
    client.get("/feeds/tag/none.atom", headers={"User-Agent": READER})  # 404: not counted
    tally_of(app).flush(everything=True)
    figure = figures(store, datetime.now(UTC))
    assert list(figure) == ["/feeds/all"]
    assert (figure["/feeds/all"].individuals, figure["/feeds/all"].aggregators) == (2, 462)


def test_no_raw_address_is_ever_stored(app: Flask, store: Store) -> None:
    poll(app.test_client(), READER, "203.0.113.77")
    tally_of(app).flush(everything=True)
    with store.session() as session:
        stored_text = " ".join(
            str(value)
            for model in (FeedReader, SubscriberReport, StoreMeta)
            for row in session.execute(select(model)).all()
            for value in vars(row[0]).values()
        )
    assert "/feeds/all" in stored_text
    assert "203.0.113.77" not in stored_text
    assert READER not in stored_text


def test_two_instances_on_one_store_add_up(settings: Settings, store: Store) -> None:
    first, second = create_app(settings), create_app(settings)
    poll(first.test_client(), "Feedbin feed-id:1 - 100 subscribers", "192.0.2.1")
    poll(second.test_client(), "Feedbin feed-id:2 - 20 subscribers", "192.0.2.2")
    for app in (first, second):  # the same reader through both: the same hash, once
        poll(app.test_client(), READER, "203.0.113.7")
    poll(second.test_client(), READER, "203.0.113.8")
    for app in (first, second):
        tally_of(app).flush(everything=True)
    figure = figures(store, datetime.now(UTC))["/feeds/all"]
    assert (figure.aggregators, figure.individuals, figure.services) == (120, 2, {"Feedbin": 120})


def test_a_poll_answers_while_the_database_write_is_stuck(
    app: Flask, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    writing = threading.Event()
    real_record = stored.record_polls

    def stuck_record(*args: object) -> None:
        writing.set()
        release.wait(30)
        real_record(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(stored, "record_polls", stuck_record)
    client = app.test_client()
    poll(client, READER)
    assert figures(store, datetime.now(UTC)) == {}  # answered before any write
    flusher = threading.Thread(target=tally_of(app).flush, kwargs={"everything": True})
    flusher.start()
    assert writing.wait(10)
    started = time.perf_counter()
    assert poll(client, READER, "198.51.100.9").status_code == 200
    assert time.perf_counter() - started < 2
    release.set()
    flusher.join(10)
    tally_of(app).flush(everything=True)
    assert figures(store, datetime.now(UTC))["/feeds/all"].individuals == 2


def test_api_stats_needs_the_token_and_answers_json(api: FlaskClient, store: Store) -> None:
    record(store, datetime.now(UTC), ServiceCount("/feeds/all", "Feedly", "", 462))
    anonymous = api.get("/api/stats", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    assert anonymous.get_json()["status"] == 401
    answer = api.get("/api/stats")
    assert answer.status_code == 200
    assert answer.get_json() == {
        "window_days": 7,
        "feeds": [
            {
                "feed": "/feeds/all",
                "subscribers": 462,
                "aggregators": 462,
                "individuals": 0,
                "services": {"Feedly": 462},
            }
        ],
    }


def test_feeds_stats_prints_a_table(settings: Settings, store: Store, tmp_path: Path) -> None:
    env = {"FEEDS_CONFIG": str(REPO / "config.toml"), "FEEDS_DATABASE_URL": settings.database_url}
    result = CliRunner().invoke(main, ["stats"], env=env, prog_name="feeds")
    assert (result.exit_code, result.output) == (0, "no feed was polled in the last 7 days\n")
    now = datetime.now(UTC)
    record(store, now, ServiceCount("/feeds/all", "Feedly", "", 462), readers=[("/feeds/all", "a")])
    record(store, now, ServiceCount("/ar/feeds/tag/x", "Inoreader", "", 3))
    result = CliRunner().invoke(main, ["stats"], env=env, prog_name="feeds")
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "feed             subscribers  aggregators  individuals  services",
        "/feeds/all               463          462            1  Feedly 462",
        "/ar/feeds/tag/x            3            3            0  Inoreader 3",
    ]


def test_the_admin_page_needs_the_token_and_shows_the_table(api: FlaskClient, store: Store) -> None:
    record(store, datetime.now(UTC), ServiceCount("/feeds/all", "Feedly", "", 462))
    record(store, datetime.now(UTC), ServiceCount("/feeds/tag/<b>", "Inoreader", "", 1))
    assert api.get("/admin/stats", headers={"Authorization": ""}).status_code == 401
    assert api.get("/admin/stats", headers={"Authorization": "Bearer wrong"}).status_code == 403
    page = api.get("/admin/stats")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert '<th scope="row">/feeds/all</th><td>462</td>' in text
    assert "Feedly 462" in text
    assert "/feeds/tag/&lt;b&gt;" in text
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"


def test_a_tally_that_fails_keeps_no_other_back(
    settings: Settings,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    first, second = create_app(settings), create_app(settings)
    poll(first.test_client(), "Feedbin feed-id:1 - 100 subscribers", "192.0.2.1")
    poll(second.test_client(), "Feedbin feed-id:2 - 20 subscribers", "192.0.2.2")

    def broken(**_: object) -> None:
        raise RuntimeError("a bug in one tally")

    monkeypatch.setattr(tally_of(first), "flush", broken)
    flush_every_tally(everything=True)  # what the subscribers' thread runs
    assert figures(store, datetime.now(UTC))["/feeds/all"].aggregators == 20
    assert "subscriber counts of one app not written" in caplog.text
