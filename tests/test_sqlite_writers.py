"""Concurrent writers on SQLite wait their turn: no 503, nothing lost, under both servers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from feeds.settings import Settings
from feeds.store import Store
from tests.conftest import ADMIN_TOKEN, REPO, parse_feed
from tests.live import api_call, free_port, request, wait_for_log, wait_for_port

# Its own SQLite file, whichever database the suite runs on.
pytestmark = [pytest.mark.process, pytest.mark.backend_independent]

SERVERS = ("dev", "production")
WRITERS, READERS = 8, 4
LOAD_SECONDS = 3
CATEGORIES = ("tech", "news", "guides")
READ_PATHS = ("/feeds/all.atom", "/feeds/category/tech.rss", "/fr/feeds/all.atom", "/feeds.json")


def start_server(
    kind: str, database_url: str, directory: Path, port: int | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    """``feeds serve`` (Flask's server) or ``feeds serve --production`` (granian, 2 workers)
    on ``database_url`` with the admin API on, in a process group of its own; its port."""
    port = port or free_port()
    directory.mkdir(parents=True, exist_ok=True)
    metrics = directory / "metrics"
    metrics.mkdir(exist_ok=True)
    log = directory / "server.log"
    command = [sys.executable, "-m", "feeds", "--config", str(REPO / "config.toml"), "serve",
               "--port", str(port)]  # fmt: skip
    if kind == "production":
        command += ["--production", "--workers", "2", "--threads", "2"]
    env = {
        **os.environ,
        "FEEDS_DATABASE_URL": database_url,
        "FEEDS_BASE_URL": f"http://127.0.0.1:{port}",
        "FEEDS_ADMIN_TOKEN": ADMIN_TOKEN,
        "FEEDS_REVISION_CHECK_SECONDS": "0",
        # The run's own metrics directory, so that a killed server leaves nothing in /tmp.
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
    }
    process = subprocess.Popen(
        command, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
    )
    wait_for_port(process, port, log)
    if kind == "production":  # the port answers once the first worker listens
        wait_for_log(log, r"Started worker-\d", 2)
    return process, port


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group, SIGKILL if it lingers; then reap it."""
    for sent in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sent)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=30)
            return
        except subprocess.TimeoutExpired:
            continue
    process.wait(timeout=30)


def post_document(slug: str, number: int) -> dict[str, object]:
    """A post as a publisher sends it: two categories, a tag, an author."""
    return {
        "title": f"Post {slug}",
        "slug": slug,
        "language": ("en", "fr")[number % 2],
        "summary": "Written while others write.",
        "content_html": "<p>" + "Some text. " * 50 + "</p>",
        "categories": ["tech", ("news", "guides")[number % 2]],
        "tags": ["concurrency"],
        "authors": ["Writer"],
    }


def slugs(terms: object) -> set[str]:
    """The slugs of a post's categories, as the API lists them."""
    return {term["slug"] for term in terms}  # type: ignore[attr-defined]


def all_posts(port: int) -> dict[int, dict[str, object]]:
    """Every post the API lists, by id."""
    posts: dict[int, dict[str, object]] = {}
    cursor = ""
    while True:
        status, body = api_call(port, ADMIN_TOKEN, "GET", f"/api/posts?limit=200{cursor}")
        assert status == 200, body
        page = json.loads(body)
        posts.update({post["id"]: post for post in page["posts"]})
        if page["next_cursor"] is None:
            return posts
        cursor = f"&cursor={page['next_cursor']}"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    """A SQLite file with the schema, whatever database the suite runs on."""
    url = f"sqlite:///{tmp_path / 'writers.db'}"
    store = Store(url)
    store.create_schema()
    store.dispose()
    yield url


@pytest.mark.parametrize("kind", SERVERS)
def test_concurrent_writers_on_sqlite_are_all_stored_without_503(
    kind: str, sqlite_url: str, tmp_path: Path
) -> None:
    process, port = start_server(kind, sqlite_url, tmp_path / kind)
    for slug in CATEGORIES:  # so that the readers' category feeds exist from the start
        status, _ = api_call(
            port, ADMIN_TOKEN, "POST", "/api/categories", {"slug": slug, "name": slug}
        )
        assert status == 201
    written: dict[int, str] = {}  # post id → title, for every 201
    writes: Counter[int] = Counter()
    reads: Counter[int] = Counter()
    failures: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + LOAD_SECONDS

    def write(writer: int) -> None:
        number = 0
        while time.monotonic() < deadline:
            number += 1
            document = post_document(f"w{writer}-{number}", number)
            try:
                status, body = api_call(port, ADMIN_TOKEN, "POST", "/api/posts", document)
            except OSError as error:
                with lock:
                    failures.append(repr(error))
                continue
            with lock:
                writes[status] += 1
                if status == 201:
                    written[json.loads(body)["id"]] = str(document["title"])
                else:
                    failures.append(body.decode())

    def read(reader: int) -> None:
        while time.monotonic() < deadline:
            path = READ_PATHS[reader % len(READ_PATHS)]
            try:
                status = request(port, "GET", path)[0].status
            except OSError as error:
                with lock:
                    failures.append(repr(error))
                continue
            with lock:
                reads[status] += 1

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    threads += [threading.Thread(target=read, args=(n,)) for n in range(READERS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        assert set(writes) == {201} and writes[201] >= WRITERS  # every writer got through
        assert set(reads) == {200}
        stored = all_posts(port)
        assert {post_id: stored[post_id]["title"] for post_id in written} == written
        assert len(stored) == len(written)
        feeds = {  # path → which stored posts it holds
            "/feeds/all.atom": lambda post: True,
            "/feeds/all.rss": lambda post: True,
            "/feeds/category/news.atom": lambda post: "news" in slugs(post["categories"]),
            "/fr/feeds/category/guides.rss": lambda post: (
                post["language"] == "fr" and "guides" in slugs(post["categories"])
            ),
        }
        for path, holds in feeds.items():
            response, body = request(port, "GET", path)
            assert response.status == 200
            expected = sum(1 for post in stored.values() if holds(post))
            # the site's and a category's first page hold every post after their newest
            # archive (RFC 5005): from items_per_feed to items_per_feed + archive_size - 1
            most = 50 + Settings().archive_size - 1 if path.startswith("/feeds/") else 50
            assert min(50, expected) <= len(parse_feed(body).entries) <= min(most, expected), path
    finally:
        stop_server(process)


def test_a_writer_waits_for_the_one_before_it_and_readers_do_not_wait(sqlite_url: str) -> None:
    """The write lock is taken when a write transaction begins: a second writer waits for it
    (up to the busy timeout) instead of failing, then reads what the first wrote; a reader
    reads meanwhile."""
    store = Store(sqlite_url)
    other = Store(sqlite_url)  # another process's connections: SQLite's lock, not feeds' own
    try:
        with store.writing() as first, first.begin():
            first.execute(text("INSERT INTO store_meta VALUES ('first', '1')"))
            done: list[float] = []

            def second_writer() -> None:
                started = time.monotonic()
                with other.writing() as second, second.begin():
                    # Read, then write, as the write path does: a deferred transaction
                    # would fail here at once with "database is locked".
                    seen = second.scalar(text("SELECT count(*) FROM store_meta"))
                    second.execute(
                        text("INSERT INTO store_meta VALUES ('second', :n)"), {"n": seen}
                    )
                done.append(time.monotonic() - started)

            waiting = threading.Thread(target=second_writer)
            waiting.start()
            time.sleep(0.3)
            assert done == []  # still waiting for the first writer
            with other.session() as reader:
                assert reader.scalar(text("SELECT count(*) FROM store_meta")) == 0
        waiting.join(timeout=10)
        assert done and done[0] >= 0.3
        with store.session() as reader:
            rows = reader.execute(text("SELECT key, value FROM store_meta ORDER BY key"))
            assert list(rows) == [("first", "1"), ("second", "1")]  # it read after the first
    finally:
        store.dispose()
        other.dispose()
