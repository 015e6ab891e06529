"""Two real gunicorn worker processes: a write through one is served by both within the
staleness bound, with no restart."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from feeds.settings import Settings
from feeds.store import Store
from tests.conftest import REPO, add_post, parse_feed
from tests.live import api_call as call
from tests.live import free_port, wait_for_port

pytestmark = pytest.mark.process

TOKEN = "worker-test-token"
STALENESS = 0.5


@pytest.fixture
def gunicorn(store: Store, settings: Settings, tmp_path: Path) -> Iterator[tuple[int, Path]]:
    add_post(store, settings, slug="before")
    port = free_port()
    access_log = tmp_path / "access.log"
    env = {
        **os.environ,
        "FEEDS_CONFIG": str(REPO / "config.toml"),
        "FEEDS_DATABASE_URL": settings.database_url,
        "FEEDS_REVISION_CHECK_SECONDS": str(STALENESS),
        "FEEDS_ADMIN_TOKEN": TOKEN,
    }
    command = [
        sys.executable, "-m", "gunicorn", "--workers", "2", "--worker-class", "sync",
        "--bind", f"127.0.0.1:{port}", "--access-logfile", str(access_log),
        "--access-logformat", "%(p)s %(U)s %(s)s", "feeds:create_app()",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE)
    wait_for_port(process, port)
    yield port, access_log
    process.terminate()
    process.wait(timeout=10)


def serving_pids(access_log: Path, path: str, skip: int) -> set[str]:
    lines = access_log.read_text().splitlines()[skip:]
    return {line.split()[0] for line in lines if line.split()[1] == path}


def test_a_write_in_one_worker_is_served_by_every_worker(gunicorn: tuple[int, Path]) -> None:
    port, access_log = gunicorn
    feed = "/feeds/all.atom"
    for _ in range(30):  # warm both workers' caches
        status, body = call(port, TOKEN, "GET", feed)
        assert status == 200 and len(parse_feed(body).entries) == 1
    status, _ = call(port, TOKEN, "POST", "/api/posts", {"title": "After", "language": "en"})
    assert status == 201
    time.sleep(STALENESS + 0.2)  # the bound, and time for the access log to be written
    written_at = len(access_log.read_text().splitlines())
    for _ in range(30):
        status, body = call(port, TOKEN, "GET", feed)
        assert status == 200
        assert [entry.title for entry in parse_feed(body).entries] == ["After", "A post"]
    time.sleep(0.2)
    assert len(serving_pids(access_log, feed, written_at)) == 2
