"""The outbox delivered by real processes: `feeds worker` killed mid-delivery loses
nothing, two workers deliver each change once, and `feeds serve --production` delivers from
its workers without publishing ever waiting. A recording hub on 127.0.0.1 stands in for
the hub."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from feeds.serving.spec import FeedFormat
from feeds.store import Store
from feeds.store.models import OutboxTarget
from tests.conftest import BASE_URL, REPO, add_post, database_url, make_settings
from tests.hub_server import Recorder, hub_server
from tests.live import api_call, free_port, wait_for_port

pytestmark = pytest.mark.process

LEASE_SECONDS = 2
TOKEN = "push-process-token"


def worker_env(url: str, hub: Recorder) -> dict[str, str]:
    """The environment of a feeds process on ``url`` that publishes to ``hub``."""
    return {
        **os.environ,
        "FEEDS_CONFIG": str(REPO / "config.toml"),
        "FEEDS_DATABASE_URL": url,
        "FEEDS_BASE_URL": BASE_URL,
        "FEEDS_HUBS": f'[{{url = "{hub.url}", batch = 1000}}]',
        "FEEDS_PUSH_POLL_SECONDS": "0.1",
        "FEEDS_PUSH_LEASE_SECONDS": str(LEASE_SECONDS),
        "FEEDS_PUSH_TIMEOUT_SECONDS": "30",
        "FEEDS_ADMIN_TOKEN": TOKEN,
    }


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`feeds worker`, logging to ``log``."""
    return subprocess.Popen(
        [sys.executable, "-m", "feeds", "worker"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def wait_until_started(store: Store, log: Path, seconds: float = 30) -> None:
    """Wait until a worker has made its target's cursor (its first round ran)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with store.session() as session:
            if session.scalars(select(OutboxTarget.name)).first() is not None:
                return
        time.sleep(0.1)
    raise AssertionError(f"no worker started:\n{log.read_text()}")


def category_urls(*slugs: str) -> set[str]:
    """The feed URLs of those categories, in every syndication format (hubs hear of feeds,
    not of their HTML pages)."""
    return {
        f"{BASE_URL}/feeds/category/{slug}.{fmt}"
        for slug in slugs
        for fmt in FeedFormat
        if fmt.syndication
    }


@pytest.fixture
def store_url(tmp_path: Path) -> Iterator[str]:
    """A database with the schema, on SQLite or (in the PostgreSQL pass) PostgreSQL."""
    url = database_url(tmp_path)
    store = Store(make_settings(url).database_url)
    store.create_schema()
    store.dispose()
    yield url


def test_a_worker_killed_mid_delivery_loses_nothing(tmp_path: Path, store_url: str) -> None:
    settings = make_settings(store_url)
    store = Store(settings.database_url)
    log = tmp_path / "worker.log"
    with hub_server() as hub:
        env = worker_env(store_url, hub)
        first = start_worker(env, log)
        try:
            wait_until_started(store, log)
            hub.hang.set()  # the hub takes the request and never answers
            slugs = [f"killed-{number}" for number in range(5)]
            for slug in slugs:
                add_post(store, settings, slug=slug, categories=[slug])
            hub.wait_for(1)  # mid-delivery
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            first.kill()
        hub.hang.clear()
        hub.release.set()
        second = start_worker(env, log)
        try:
            deadline = time.monotonic() + LEASE_SECONDS + 20
            while not category_urls(*slugs) <= set(
                hub.urls()[len(hub.received[0].published_urls()) :]
            ):
                assert time.monotonic() < deadline, f"{hub.urls()}\n{log.read_text()}"
                time.sleep(0.1)
        finally:
            second.terminate()
            second.wait(timeout=15)
    store.dispose()


def test_two_workers_deliver_each_change_once(tmp_path: Path, store_url: str) -> None:
    settings = make_settings(store_url)
    store = Store(settings.database_url)
    log = tmp_path / "workers.log"
    with hub_server() as hub:
        env = worker_env(store_url, hub)
        workers = [start_worker(env, log) for _ in range(2)]
        try:
            wait_until_started(store, log)
            slugs = [f"once-{number}" for number in range(20)]
            for slug in slugs:
                add_post(store, settings, slug=slug, categories=[slug])
                time.sleep(0.05)  # spread over several rounds of both workers
            deadline = time.monotonic() + 30
            while not category_urls(*slugs) <= set(hub.urls()):
                assert time.monotonic() < deadline, f"{hub.urls()}\n{log.read_text()}"
                time.sleep(0.1)
            time.sleep(1)  # let a second delivery, if there were one, arrive
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(timeout=15)
    counts = Counter(url for url in hub.urls() if url in category_urls(*slugs))
    assert set(counts.values()) == {1}, counts
    store.dispose()


def test_the_production_server_delivers_once_and_publishing_never_waits(
    tmp_path: Path, store_url: str
) -> None:
    log = tmp_path / "server.log"
    port = free_port()
    with hub_server() as hub:
        env = worker_env(store_url, hub)
        server = subprocess.Popen(
            [sys.executable, "-m", "feeds", "serve", "--production", "--port", str(port),
             "--workers", "2"],
            env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            wait_for_port(server, port, log)
            hub.hang.set()  # a hub that hangs must not hold a write
            started = time.monotonic()
            status, body = api_call(port, TOKEN, "POST", "/api/posts", {
                "title": "Pushed", "slug": "pushed", "language": "en", "categories": ["pushed"],
                "published": "2024-01-01T00:00:00Z"})  # fmt: skip
            assert status == 201, body
            assert time.monotonic() - started < 2
            hub.wait_for(1)
            hub.hang.clear()
            hub.release.set()
            status, _ = api_call(port, TOKEN, "POST", "/api/posts", {
                "title": "Second", "slug": "second", "language": "en", "categories": ["second"],
                "published": "2024-01-02T00:00:00Z"})  # fmt: skip
            assert status == 201
            deadline = time.monotonic() + 20
            while not category_urls("second") <= set(hub.urls()):
                assert time.monotonic() < deadline, f"{hub.urls()}\n{log.read_text()}"
                time.sleep(0.1)
            time.sleep(1)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    assert category_urls("pushed") <= set(hub.urls())
    counts = Counter(url for url in hub.urls() if url in category_urls("second"))
    assert set(counts.values()) == {1}, counts  # two workers, one delivery
