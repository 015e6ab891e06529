"""Scale-out: two separate server instances on one PostgreSQL, with no restart and no
clustering of their own. A write through one is served by the other within the staleness
bound; concurrent writers and readers lose nothing and never see a 5xx."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest

from feeds.store import Store
from tests.conftest import REPO, database_url, make_settings, postgres_url
from tests.live import api_call as call
from tests.live import free_port, wait_for_port

pytestmark = [pytest.mark.postgres, pytest.mark.process]

TOKEN = "scale-out-token"
STALENESS = 0.5
WRITERS = 8
READERS = 4
LOAD_SECONDS = 8


@pytest.fixture
def instances(tmp_path: Path) -> Iterator[list[int]]:
    """Two production instances (`feeds serve --production`, two workers each) on the same
    PostgreSQL database."""
    postgres_url()  # fails, not skips, without PostgreSQL
    url = database_url(tmp_path)
    Store(make_settings(url).database_url).create_schema()
    env = {
        **os.environ,
        "FEEDS_CONFIG": str(REPO / "config.toml"),
        "FEEDS_DATABASE_URL": url,
        "FEEDS_REVISION_CHECK_SECONDS": str(STALENESS),
        "FEEDS_ADMIN_TOKEN": TOKEN,
    }
    ports, processes = [], []
    for _ in range(2):
        port = free_port()
        command = [
            sys.executable, "-m", "feeds", "serve", "--production", "--port", str(port),
            "--workers", "2", "--threads", "4",
        ]  # fmt: skip
        log = tmp_path / f"instance-{port}.log"  # one JSON line per request: not a pipe
        process = subprocess.Popen(
            command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
        )
        wait_for_port(process, port, log)
        ports.append(port)
        processes.append(process)
    yield ports
    for process in processes:
        process.terminate()
        process.wait(timeout=15)


def titles(port: int, path: str) -> list[str]:
    status, body = call(port, TOKEN, "GET", path)
    assert status == 200
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return [entry.title for entry in parsed.entries]


def test_a_post_published_on_one_instance_is_served_by_the_other(instances: list[int]) -> None:
    one, two = instances
    assert titles(two, "/feeds/all.atom") == []
    status, _ = call(
        one, TOKEN, "POST", "/api/posts", {"title": "Hello from one", "language": "en"}
    )
    assert status == 201
    published = time.monotonic()
    while "Hello from one" not in titles(two, "/feeds/all.atom"):
        assert time.monotonic() - published < STALENESS + 1.0, "not served within the bound"
        time.sleep(0.05)


def test_concurrent_writers_and_readers_lose_nothing(instances: list[int]) -> None:
    created: list[str] = []
    problems: list[str] = []
    reads = 0
    lock = threading.Lock()
    deadline = time.monotonic() + LOAD_SECONDS

    def write(number: int) -> None:
        sequence = 0
        while time.monotonic() < deadline:
            sequence += 1
            slug = f"w{number}-{sequence}"
            body = {"title": f"Post {slug}", "slug": slug, "language": ["en", "fr"][sequence % 2],
                    "categories": [["tech"], ["donjon"]][number % 2]}  # fmt: skip
            status, data = call(instances[sequence % 2], TOKEN, "POST", "/api/posts", body)
            with lock:
                if status == 201:
                    created.append(slug)
                else:
                    problems.append(f"write {slug}: {status} {data[:200]!r}")

    def read(number: int) -> None:
        nonlocal reads
        paths = ["/feeds/all.atom", "/fr/feeds/all.rss", "/feeds/category/tech.atom"]
        while time.monotonic() < deadline:
            port = instances[number % 2]
            for path in paths:
                status, body = call(port, TOKEN, "GET", path)
                parsed = feedparser.parse(body)
                with lock:
                    reads += 1
                    if status >= 500 or (status == 200 and parsed.bozo):
                        problems.append(f"read {path}: {status} bozo={parsed.bozo}")
                    elif status not in (200, 404):  # a category is 404 until its first post
                        problems.append(f"read {path}: {status}")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    threads += [threading.Thread(target=read, args=(n,)) for n in range(READERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert problems == []
    assert len(created) > WRITERS and reads > READERS
    stored: list[str] = []
    cursor = ""
    while True:
        status, data = call(instances[0], TOKEN, "GET", f"/api/posts?limit=200{cursor}")
        assert status == 200
        page = json.loads(data)
        stored += [post["slug"] for post in page["posts"]]
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert sorted(stored) == sorted(created)
    time.sleep(STALENESS + 0.2)
    site = set(titles(instances[1], "/feeds/all.atom"))
    newest = sorted(created, key=lambda slug: stored.index(slug))[:10]
    assert {f"Post {slug}" for slug in newest} <= site
