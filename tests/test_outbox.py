"""The outbox: writes record the feeds they changed in their own transaction, and the
delivery announces them to a real hub on 127.0.0.1, batched, coalesced, retried."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from feeds.push.delivery import Delivery, deliver_in_background
from feeds.push.websub import WebSubHub
from feeds.serving.links import SiteLinks
from feeds.serving.spec import SYNDICATION_FORMATS
from feeds.settings import Settings
from feeds.settings.tables import Hub
from feeds.store import Store, outbox
from feeds.store.models import OutboxChange, OutboxTarget
from tests.conftest import BASE_URL, add_post
from tests.hub_server import Recorder, hub_server

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def delivery(
    store: Store,
    settings: Settings,
    hub: Recorder,
    clock: Clock,
    batch: int = 100,
    **changes: object,
) -> Delivery:
    """A delivery to one hub (hub.url, ``batch`` URLs a request) on the test's clock."""
    settings = settings.replace(**changes)
    sender = WebSubHub(Hub(hub.url, "hub.url", batch), SiteLinks(settings), timeout=5)
    return Delivery(store, settings, [sender], clock=clock)


def feed_urls(*paths: str) -> set[str]:
    """The URL of each feed path (``/feeds/all``) in every format."""
    return {f"{BASE_URL}{path}.{fmt}" for path in paths for fmt in SYNDICATION_FORMATS}


def started(
    store: Store, settings: Settings, hub: Recorder, clock: Clock, **kw: object
) -> Delivery:
    """A delivery that has run once (its cursor set, the due-post clock started)."""
    sending = delivery(store, settings, hub, clock, **kw)
    sending.run_once()
    return sending


def test_a_post_is_announced_in_every_feed_it_shows_in(store: Store, settings: Settings) -> None:
    clock = Clock()
    with hub_server() as hub:
        sending = started(store, settings, hub, clock)
        add_post(store, settings, language="fr", categories=["tech"], slug="bonjour")
        assert sending.run_once() == 6  # site, tech and the author, each alone and × fr
        [request] = hub.wait_for(1)
    assert request.method == "POST"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.form()[0] == ("hub.mode", "publish")
    assert set(request.published_urls()) == feed_urls(
        "/feeds/all", "/fr/feeds/all", "/feeds/category/tech", "/fr/feeds/category/tech",
        "/feeds/author/ada-lovelace", "/fr/feeds/author/ada-lovelace",
    )  # fmt: skip


def test_changes_are_recorded_in_the_writes_own_transaction(api: FlaskClient, store: Store) -> None:
    with store.writing() as session:
        outbox.ensure_targets(session, ["hub https://hub.example/"], NOW)
        session.commit()
    refused = api.post("/api/posts", json={"title": "No language", "language": "xx"})
    assert refused.status_code == 422
    with store.session() as session:
        assert session.scalars(select(OutboxChange.scope)).all() == []
    created = api.post(
        "/api/posts",
        json={"title": "Hello", "slug": "hello", "language": "en", "categories": ["tech"],
              "published": "2024-01-01T00:00:00Z"},
    )  # fmt: skip
    assert created.status_code == 201, created.json
    with store.session() as session:
        scopes = set(session.scalars(select(OutboxChange.scope)))
    assert "site" in scopes and "lang:en" in scopes
    assert sum(scope.startswith("cat:") for scope in scopes) == 2  # tech, tech × en


def test_moving_a_post_out_of_a_category_announces_that_category_too(
    api: FlaskClient, store: Store, api_settings: Settings
) -> None:
    clock = Clock()
    post = api.post(
        "/api/posts",
        json={"title": "Moving", "slug": "moving", "language": "en", "categories": ["tech"],
              "published": "2024-01-01T00:00:00Z"},
    ).json  # fmt: skip
    with hub_server() as hub:
        sending = started(store, api_settings, hub, clock)
        moved = api.patch(f"/api/posts/{post['id']}", json={"categories": ["science"]})
        assert moved.status_code == 200, moved.json
        sending.run_once()
        urls = set(hub.urls())
    assert feed_urls("/feeds/category/tech", "/feeds/category/science") <= urls
    assert feed_urls("/en/feeds/category/tech", "/en/feeds/category/science") <= urls


def test_many_writes_to_one_feed_are_announced_once_in_batches(
    store: Store, settings: Settings
) -> None:
    clock = Clock()
    with hub_server() as hub:
        sending = started(store, settings, hub, clock, batch=3)
        for number in range(5):
            add_post(store, settings, slug=f"same-{number}", categories=["tech"])
        sending.run_once()
        requests = list(hub.received)
    counts = Counter(url for request in requests for url in request.published_urls())
    assert set(counts) == feed_urls(
        "/feeds/all", "/en/feeds/all", "/feeds/category/tech", "/en/feeds/category/tech",
        "/feeds/author/ada-lovelace", "/en/feeds/author/ada-lovelace",
    )  # fmt: skip
    assert set(counts.values()) == {1}  # coalesced: five writes, each URL once
    assert all(len(request.published_urls()) <= 3 for request in requests)
    assert len(requests) == 6  # 18 URLs (6 scopes × 3 formats), 3 a request


def test_a_hub_that_answers_503_is_retried_when_it_said(store: Store, settings: Settings) -> None:
    clock = Clock()
    with hub_server() as hub:
        sending = started(store, settings, hub, clock)
        hub.status, hub.retry_after = 503, "120"
        add_post(store, settings, slug="busy")
        assert sending.run_once() == 0
        assert len(hub.received) == 1
        clock.now += timedelta(seconds=119)
        sending.run_once()
        assert len(hub.received) == 1  # not before the hub said
        hub.status, hub.retry_after = 204, None
        clock.now += timedelta(seconds=2)
        assert sending.run_once() == 6
        assert len(hub.received) == 2
        assert hub.received[0].published_urls() == hub.received[1].published_urls()
    with store.session() as session:
        [status] = outbox.statuses(session, [sending.names[0]])
    assert (status.pending, status.attempts, status.last_error) == (0, 0, None)


def test_failures_back_off_exponentially_then_are_kept_visible(
    store: Store, settings: Settings
) -> None:
    clock = Clock()
    with hub_server() as hub:
        sending = started(store, settings, hub, clock, push_retry_seconds=10.0, push_max_attempts=3)
        hub.status = 500
        add_post(store, settings, slug="doomed")
        waits = []
        for _ in range(3):
            sending.run_once()
            with store.session() as session:
                target = session.get_one(OutboxTarget, sending.names[0])
                waits.append((target.next_attempt - clock.now).total_seconds())
            clock.now += timedelta(hours=2)
        hub.status = 204
        add_post(store, settings, slug="after", categories=["science"])
        sending.run_once()
    assert waits[:2] == [10.0, 20.0]  # doubling; the third try gave up at once
    with store.session() as session:
        [status] = outbox.statuses(session, sending.names)
        [failure] = outbox.failures(session)
    assert status.failures == 1 and status.pending == 0
    assert failure.attempts == 3 and "500" in failure.error
    assert "site" in failure.scopes.split()
    # The batch given up on does not hold back the next one.
    assert feed_urls("/feeds/category/science") <= set(hub.received[-1].published_urls())


def test_a_scheduled_post_is_announced_when_it_falls_due(store: Store, settings: Settings) -> None:
    clock = Clock()
    with hub_server() as hub:
        sending = started(store, settings, hub, clock)
        add_post(store, settings, slug="later", categories=["science"],
                 published=NOW + timedelta(hours=1))  # fmt: skip
        sending.run_once()  # the write itself
        before = len(hub.received)
        clock.now += timedelta(minutes=30)
        sending.run_once()
        assert len(hub.received) == before  # not due yet
        clock.now += timedelta(minutes=31)
        sending.run_once()
        assert len(hub.received) == before + 1
        due = set(hub.received[-1].published_urls())
    assert due == feed_urls(
        "/feeds/all", "/en/feeds/all", "/feeds/category/science", "/en/feeds/category/science",
        "/feeds/author/ada-lovelace", "/en/feeds/author/ada-lovelace",
    )  # fmt: skip


def test_a_second_process_does_not_deliver_a_target_leased_by_the_first(
    store: Store, settings: Settings
) -> None:
    clock = Clock()
    with hub_server() as hub:
        first = started(store, settings, hub, clock)
        second = delivery(store, settings, hub, clock)
        add_post(store, settings, slug="once")
        with store.writing() as session:
            assert outbox.claim(session, first.names[0], first.holder, clock.now, first.lease)
            session.commit()
        assert second.run_once() == 0
        assert hub.received == []
        clock.now += first.lease + timedelta(seconds=1)  # the first one died holding it
        assert second.run_once() == 6
        assert len(hub.received) == 1


def test_delivered_changes_are_pruned(store: Store, settings: Settings) -> None:
    clock = Clock()
    with hub_server() as hub:
        sending = started(store, settings, hub, clock)
        add_post(store, settings, slug="pruned")
        sending.run_once()
    with store.session() as session:
        assert session.scalars(select(OutboxChange.id)).all() == []


@pytest.mark.parametrize(
    "value, seconds",
    [("120", 120.0), ("Mon, 30 Nov 2026 12:02:00 GMT", 120.0), ("soon", None), (None, None)],
)
def test_retry_after_is_read_in_seconds_or_as_a_date(
    value: str | None, seconds: float | None
) -> None:
    from feeds.push.sender import retry_after_seconds

    assert retry_after_seconds(value, now=NOW) == seconds


def test_without_a_target_nothing_is_recorded_and_a_removed_one_stops_it(
    store: Store, settings: Settings
) -> None:
    def changes() -> list[str]:
        with store.session() as session:
            return list(session.scalars(select(OutboxChange.scope)))

    add_post(store, settings, slug="unheard")
    assert changes() == []  # no hub or purge was ever configured: nobody would read them
    with hub_server() as hub:
        started(store, settings, hub, Clock())
        add_post(store, settings, slug="heard")
        assert len(changes()) == 6  # site, its author, each alone and in its language
    stopped = deliver_in_background(store, settings)  # a server started without hubs
    assert stopped is None
    with store.session() as session:
        assert session.scalars(select(OutboxTarget.name)).all() == []
    assert changes() == []
    add_post(store, settings, slug="unheard-again")
    assert changes() == []
