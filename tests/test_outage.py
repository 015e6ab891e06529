"""A database outage as aggregators, browsers and publishers see it: cached feeds keep being
served (stale-if-error, and the answer says so), everything else is a JSON 503 with
Retry-After, and everything recovers as soon as the database is back, with no restart.

On SQLite in the fast suite (the database's directory moved away and back), and on a real
PostgreSQL cluster of the test's own that it stops and starts, under the production server
(marked postgres)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import TestResponse

from feeds import create_app
from feeds.store import Store
from feeds.web.app_state import app_state
from tests.conftest import REPO, add_post, make_settings, parse_feed
from tests.live import free_port, request, require_tool, wait_for_log
from tests.test_production import json_lines, start, stop

TOKEN = "outage-test-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
WARM = ["/feeds/all.atom", "/feeds/category/tech.rss"]
COLD = "/fr/feeds/all.atom"  # never asked for before the outage
# Every route that needs the database, besides the feeds: its path and request headers.
OTHER_ROUTES = [
    ("/", {}),
    ("/feeds.json", {}),
    ("/readyz", {}),
    ("/feed/", {}),  # a WordPress feed URL
    ("/category/tech/feed/atom/", {}),
    ("/api/posts", BEARER),
    ("/api/categories", BEARER),
]


def assert_unavailable(status: int, headers: Mapping[str, str], body: bytes) -> dict[str, object]:
    """A 503 as every route must give it: Retry-After in seconds, a JSON body."""
    assert status == 503, body
    assert headers["Content-Type"] == "application/json"
    assert int(headers["Retry-After"]) > 0
    return json.loads(body)


def assert_store_unavailable(status: int, headers: Mapping[str, str], body: bytes) -> None:
    """The JSON error shape of every route; /readyz keeps its probe shape with a reason."""
    document = assert_unavailable(status, headers, body)
    if "reason" in document:
        assert document["status"] == "unready"
        assert "cannot reach the database" in str(document["reason"])
    else:
        assert document == {
            "error": "the post store is unavailable; try again later",
            "status": 503,
        }


# --- SQLite: the database's directory taken away and given back ---------------------------


class SqliteOutage:
    """An app on a SQLite database whose directory can be moved away (every connection
    fails, as with a stopped server) and back."""

    def __init__(self, directory: Path, **settings: object) -> None:
        self.folder, self.away = directory / "db", directory / "away"
        self.folder.mkdir()
        self.settings = make_settings(
            f"sqlite:///{self.folder / 'feeds.db'}", admin_token=TOKEN, **settings
        )
        store = Store(self.settings.database_url)
        store.create_schema()
        add_post(store, self.settings, slug="first", categories=["tech"])
        add_post(store, self.settings, slug="wordpress", language="fr")
        store.dispose()
        self.client = create_app(self.settings).test_client()
        self.store: Store = app_state(self.client.application).store

    def stop(self) -> None:
        self.folder.rename(self.away)
        self.store.dispose()  # pooled connections would still reach the moved file

    def start(self) -> None:
        self.away.rename(self.folder)


@pytest.fixture
def outage(tmp_path: Path) -> SqliteOutage:
    return SqliteOutage(tmp_path)


def answer(response: TestResponse) -> tuple[int, dict[str, str], bytes]:
    return response.status_code, dict(response.headers), response.data


@pytest.mark.backend_independent
def test_a_cached_feed_is_served_stale_with_its_etag_while_the_store_is_down(
    outage: SqliteOutage,
) -> None:
    client = outage.client
    before = {path: client.get(path) for path in WARM}
    outage.stop()
    time.sleep(0.2)  # past the time a failure is remembered: each request finds it again
    for path, fresh in before.items():
        stale = client.get(path)
        assert stale.status_code == 200
        assert stale.data == fresh.data and stale.headers["ETag"] == fresh.headers["ETag"]
        assert stale.headers["Feeds-Stale"] == "store-unavailable"
        assert 0 <= int(stale.headers["Age"]) < 60
        parse_feed(stale.data)
        again = client.get(path, headers={"If-None-Match": fresh.headers["ETag"]})
        assert again.status_code == 304 and again.data == b""
        assert again.headers["Feeds-Stale"] == "store-unavailable"
    assert "Feeds-Stale" not in before[WARM[0]].headers and "Age" not in before[WARM[0]].headers


@pytest.mark.backend_independent
def test_an_uncached_feed_is_a_json_503_with_retry_after(outage: SqliteOutage) -> None:
    outage.stop()
    assert_store_unavailable(*answer(outage.client.get(COLD)))


@pytest.mark.parametrize(("path", "headers"), OTHER_ROUTES)
@pytest.mark.backend_independent
def test_every_other_route_is_a_json_503_with_retry_after(
    outage: SqliteOutage, path: str, headers: dict[str, str]
) -> None:
    outage.client.get("/feeds.json")  # the app has been reaching the store
    outage.stop()
    assert_store_unavailable(*answer(outage.client.get(path, headers=headers)))


@pytest.mark.backend_independent
def test_an_api_write_is_a_json_503_with_retry_after(outage: SqliteOutage) -> None:
    outage.stop()
    document = {"title": "During the outage", "language": "en"}
    response = outage.client.post("/api/posts", json=document, headers=BEARER)
    assert_store_unavailable(*answer(response))


@pytest.mark.backend_independent
def test_a_cached_feed_is_503_once_older_than_stale_if_error(tmp_path: Path) -> None:
    outage = SqliteOutage(tmp_path, stale_if_error_seconds=1)
    fresh = outage.client.get(WARM[0])
    outage.stop()
    assert outage.client.get(WARM[0]).status_code == 200
    time.sleep(1.1)
    assert_store_unavailable(*answer(outage.client.get(WARM[0])))
    outage.start()
    time.sleep(0.15)  # the failure is remembered for a tenth of a second at most
    recovered = outage.client.get(WARM[0])
    assert recovered.status_code == 200 and "Feeds-Stale" not in recovered.headers
    assert recovered.headers["ETag"] == fresh.headers["ETag"]


@pytest.mark.backend_independent
def test_stale_if_error_zero_serves_nothing_stale(tmp_path: Path) -> None:
    outage = SqliteOutage(tmp_path, stale_if_error_seconds=0)
    outage.client.get(WARM[0])
    outage.stop()
    assert_store_unavailable(*answer(outage.client.get(WARM[0])))


@pytest.mark.backend_independent
def test_everything_recovers_without_a_restart(outage: SqliteOutage) -> None:
    client = outage.client
    for path in WARM:
        client.get(path)
    outage.stop()
    assert client.get(WARM[0]).headers["Feeds-Stale"] == "store-unavailable"
    assert client.get("/feeds.json").status_code == 503
    outage.start()
    time.sleep(0.15)  # the failure is remembered for a tenth of a second at most
    for path in [*WARM, COLD]:
        response = client.get(path)
        assert response.status_code == 200 and "Feeds-Stale" not in response.headers
        parse_feed(response.data)
    for path, headers in OTHER_ROUTES:
        assert client.get(path, headers=headers).status_code in (200, 301, 404), path
    created = client.post("/api/posts", json={"title": "Back", "language": "en"}, headers=BEARER)
    assert created.status_code == 201


@pytest.mark.backend_independent
def test_the_access_log_says_stale(outage: SqliteOutage, caplog: pytest.LogCaptureFixture) -> None:
    outage.client.get(WARM[0])
    outage.stop()
    with caplog.at_level("INFO", logger="feeds.access"):
        outage.client.get(WARM[0])
        outage.client.get(COLD)
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "feeds.access"]
    assert [(line["status"], line["cache"]) for line in lines] == [(200, "stale"), (503, None)]


# --- PostgreSQL, stopped and started under the production server --------------------------


class PostgresCluster:
    """A throwaway PostgreSQL cluster of the test's own, on a free port (as the postgres
    user when run as root: PostgreSQL refuses root), so that stopping it stops nothing else."""

    def __init__(self) -> None:
        initdb = require_tool("initdb", "postgresql", "/usr/lib/postgresql/*/bin/initdb")
        self.bin = Path(initdb).parent
        require_tool("pg_ctl", "postgresql", str(self.bin / "pg_ctl"))
        self.port = free_port()
        # Not in tmp_path: as root, the postgres user cannot enter pytest's private directory.
        self.directory = Path(tempfile.mkdtemp(prefix="feeds-outage-pg-"))
        self.data = self.directory / "data"
        if os.getuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                 "--locale=C.UTF-8")  # fmt: skip
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def run(self, program: str, *arguments: str) -> None:
        command = [str(self.bin / program), *arguments]
        if os.getuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.directory / "server.log"), "-w",
                 "-o", options, "start")  # fmt: skip

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def postgres_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


def until(check: Callable[[], bool], seconds: float) -> float:
    """Poll ``check`` until it holds; how long that took (fails after ``seconds``)."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, f"not within {seconds} s"
        time.sleep(0.02)
    return time.monotonic() - started


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any, bytes]:
    """A GET over the network: status, headers (names in any case), body."""
    response, body = request(port, "GET", path, headers)
    return response.status, response.headers, body


@pytest.mark.postgres
@pytest.mark.process
def test_postgres_stopped_and_started_under_the_production_server(
    postgres_cluster: PostgresCluster, tmp_path: Path
) -> None:
    settings = make_settings(postgres_cluster.url)
    store = Store(settings.database_url)
    store.create_schema()
    add_post(store, settings, slug="first", categories=["tech"])
    store.dispose()
    port, log = free_port(), tmp_path / "server.log"
    command = [sys.executable, "-m", "feeds", "--config", str(REPO / "config.toml"), "serve",
               "--production", "--port", str(port), "--workers", "1", "--threads", "2"]  # fmt: skip
    os.environ["FEEDS_ADMIN_TOKEN"] = TOKEN  # start() passes the environment on
    try:
        server = start(command, settings, port, log)
    finally:
        del os.environ["FEEDS_ADMIN_TOKEN"]
    try:
        wait_for_log(log, r"Started worker-\d", 1)
        check_outage_and_recovery(port, postgres_cluster, server.pid)
        assert server.poll() is None  # the same process all along
        assert {"stale"} <= {line["cache"] for line in json_lines(log)}
    finally:
        stop(server)


def check_outage_and_recovery(port: int, cluster: PostgresCluster, pid: int) -> None:
    warm = {}
    for path in WARM:
        status, headers, body = get(port, path, {"Accept-Encoding": "gzip"})
        assert status == 200 and "stale-if-error=" in headers["Cache-Control"]
        warm[path] = headers["ETag"]
    cluster.stop()
    stopped = time.monotonic()
    # Until revision_check_seconds (1 s in config.toml) have passed, feeds has no reason to
    # ask the database: plain hits. After that (where today's feeds gave up), stale ones.
    while (since := time.monotonic() - stopped) < 3:
        for path, etag in warm.items():
            status, headers, body = get(port, path, {"Accept-Encoding": "gzip"})
            assert status == 200 and headers["ETag"] == etag
            if since > 1.1:
                assert headers["Feeds-Stale"] == "store-unavailable"
                assert int(headers["Age"]) <= since + 1
            polled = {"Accept-Encoding": "gzip", "If-None-Match": etag}
            assert get(port, path, polled)[0] == 304
        time.sleep(0.1)
    assert_store_unavailable(*get(port, COLD))
    for path, headers in OTHER_ROUTES:
        assert_store_unavailable(*get(port, path, headers))
    cluster.start()
    recovered_in = until(lambda: get(port, "/feeds.json")[0] == 200, seconds=2)
    for path in [*WARM, COLD, "/", "/readyz"]:
        status, headers, _ = get(port, path)
        assert status == 200 and "Feeds-Stale" not in headers, path
    response, body = request(port, "POST", "/api/posts",
                             {**BEARER, "Content-Type": "application/json"},
                             json.dumps({"title": "Back", "language": "en"}).encode())  # fmt: skip
    assert response.status == 201, body
    print(f"PostgreSQL back: feeds answered 200 after {recovered_in:.2f} s (server pid {pid})")
