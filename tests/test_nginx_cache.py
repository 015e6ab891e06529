"""The repository's caching nginx (deploy/nginx-cache.conf) in front of two production
instances on one store: polls between changes are answered by nginx (the instances' access
logs count what reached them), a post published through the API is seen through nginx
within the documented bound, gzip and identity are cached apart, and with both instances
stopped nginx keeps serving its copy."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from feeds.settings import Settings
from feeds.store import Store
from tests.conftest import REPO, add_post, parse_feed
from tests.live import api_call, free_port, nginx_server, request, wait_for_port
from tests.test_production import json_lines, stop

pytestmark = pytest.mark.process

TOKEN = "nginx-cache-token"
FEED = "/feeds/all.atom"
SHARED_MAX_AGE = 2
REVISION_CHECK_SECONDS = 0.5
# The conf's and README's bound under steady polling: shared_max_age, plus up to one second
# (nginx counts whole seconds), plus revision_check_seconds; then one poll (below).
STALENESS_BOUND = SHARED_MAX_AGE + 1 + REVISION_CHECK_SECONDS
POLL_SECONDS = 0.05


@dataclass
class CachedSite:
    """nginx on ``port`` in front of ``instances`` (their access logs in ``logs``)."""

    port: int
    instances: list[subprocess.Popen[bytes]]
    logs: list[Path]

    def get(self, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
        """A GET through nginx: status, headers (lower-case names), body."""
        response, body = request(self.port, "GET", path, headers)
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body

    def origin_statuses(self, path: str) -> list[object]:
        """The status of every request for ``path`` that reached an instance (once each
        worker's flusher has written its access lines: within 25 ms)."""
        time.sleep(0.2)
        return [
            line["status"] for log in self.logs for line in json_lines(log) if line["path"] == path
        ]


@pytest.fixture
def site(store: Store, settings: Settings, tmp_path: Path) -> Iterator[CachedSite]:
    """Two `feeds serve --production` instances on the test store, shared caches told to
    keep a feed SHARED_MAX_AGE seconds, behind deploy/nginx-cache.conf."""
    add_post(store, settings, title="First post")
    env = {
        **os.environ,
        "FEEDS_CONFIG": str(REPO / "config.toml"),
        "FEEDS_DATABASE_URL": settings.database_url,
        "FEEDS_ADMIN_TOKEN": TOKEN,
        "FEEDS_SHARED_MAX_AGE": str(SHARED_MAX_AGE),
        "FEEDS_REVISION_CHECK_SECONDS": str(REVISION_CHECK_SECONDS),
    }
    instances, logs, ports = [], [], []
    for name in ("a", "b"):
        port, log = free_port(), tmp_path / f"{name}.log"
        command = [sys.executable, "-m", "feeds", "serve", "--production",
                   "--port", str(port), "--workers", "1", "--threads", "2"]  # fmt: skip
        process = subprocess.Popen(
            command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
        )
        instances.append(process)
        wait_for_port(process, port, log)
        logs.append(log)
        ports.append(port)
    port = free_port()
    conf = (REPO / "deploy/nginx-cache.conf").read_text()
    conf = conf.replace("server 127.0.0.1:8001", f"server 127.0.0.1:{ports[0]}")
    conf = conf.replace("server 127.0.0.1:8002", f"server 127.0.0.1:{ports[1]}")
    conf = conf.replace("listen 80;", f"listen 127.0.0.1:{port};")
    conf = conf.replace("/var/cache/nginx/feeds", str(tmp_path / "cache"))
    try:
        with nginx_server(conf, port, tmp_path):
            yield CachedSite(port, instances, logs)
    finally:
        for process in instances:
            if process.poll() is None:
                stop(process)


def titles(body: bytes) -> list[str]:
    return [entry.title for entry in parse_feed(body).entries]


def test_polls_between_changes_are_answered_by_nginx(site: CachedSite) -> None:
    status, headers, first = site.get(FEED)
    assert (status, headers["x-cache-status"]) == (200, "MISS")
    polls, started = 0, time.monotonic()
    while time.monotonic() - started < 2 * SHARED_MAX_AGE + 1:
        status, _, body = site.get(FEED)
        assert (status, body) == (200, first)
        polls += 1
    elapsed = time.monotonic() - started
    # The first answer, then once per lifetime at most a revalidation that feeds answers
    # 304 from memory; every other poll is nginx's.
    origin = site.origin_statuses(FEED)
    assert polls > 100
    assert origin[0] == 200
    assert 1 <= len(origin[1:]) <= elapsed // SHARED_MAX_AGE + 1
    assert set(origin[1:]) == {304}


def test_a_post_published_through_the_api_is_seen_through_nginx_within_the_bound(
    site: CachedSite,
) -> None:
    _, _, before = site.get(FEED)
    assert titles(before) == ["First post"]
    status, _ = api_call(
        site.port, TOKEN, "POST", "/api/posts", {"title": "Second post", "language": "en"}
    )
    assert status == 201
    published = time.monotonic()
    while "Second post" not in titles(site.get(FEED)[2]):
        assert time.monotonic() - published < STALENESS_BOUND + 1, "not seen within the bound"
        time.sleep(POLL_SECONDS)


def test_with_every_instance_stopped_nginx_keeps_serving_its_copy(site: CachedSite) -> None:
    _, _, identity = site.get(FEED)
    _, _, gzipped = site.get(FEED, **{"Accept-Encoding": "gzip"})
    for process in site.instances:
        assert stop(process) == 0
    time.sleep(SHARED_MAX_AGE + 1.5)  # the copies expire: only stale ones are left
    status, headers, body = site.get(FEED)
    assert (status, headers["x-cache-status"], body) == (200, "STALE", identity)
    status, headers, body = site.get(FEED, **{"Accept-Encoding": "gzip"})
    assert (status, headers["x-cache-status"], body) == (200, "STALE", gzipped)
    assert headers["content-encoding"] == "gzip"


def test_gzip_and_identity_are_cached_apart_whatever_the_client_spelling(
    site: CachedSite,
) -> None:
    status, headers, gzipped = site.get(FEED, **{"Accept-Encoding": "gzip"})
    assert (status, headers["x-cache-status"], headers["content-encoding"]) == (200, "MISS", "gzip")
    assert headers["etag"].endswith('-gzip"')
    assert headers["vary"] == "Accept-Encoding, Sec-Fetch-Dest"
    status, headers, body = site.get(FEED, **{"Accept-Encoding": "br, gzip, deflate"})
    assert (status, headers["x-cache-status"], body) == (200, "HIT", gzipped)
    status, headers, identity = site.get(FEED)
    assert (status, headers["x-cache-status"]) == (200, "MISS")
    assert "content-encoding" not in headers
    assert identity == gzip.decompress(gzipped)
    parse_feed(identity)
    status, headers, body = site.get(FEED, **{"Accept-Encoding": "gzip;q=0, deflate"})
    assert (status, headers["x-cache-status"], body) == (200, "HIT", identity)
    status, headers, body = site.get(FEED, **{"If-None-Match": headers["etag"]})
    assert (status, headers["x-cache-status"], body) == (304, "HIT", b"")
    assert site.origin_statuses(FEED) == [200, 200]


def test_a_browser_gets_the_page_past_the_cache_and_readers_the_cached_feed(
    site: CachedSite,
) -> None:
    _, _, feed = site.get(FEED)  # a reader's poll: cached
    navigation = {"Sec-Fetch-Dest": "document", "Sec-Fetch-Mode": "navigate"}
    for _ in range(2):
        status, headers, page = site.get(FEED, **navigation)
        assert (status, headers["x-cache-status"]) == (200, "BYPASS")
        assert headers["content-type"] == "text/html; charset=utf-8"
        assert headers["cache-control"] == "private, no-store"
        assert b"<h1>" in page
    status, headers, body = site.get(FEED)
    assert (status, headers["x-cache-status"], body) == (200, "HIT", feed)
    assert site.origin_statuses(FEED) == [200, 200, 200]  # the poll, then each navigation


def test_the_api_is_passed_through_and_metrics_are_not_exposed(site: CachedSite) -> None:
    for _ in range(2):
        status, body = api_call(site.port, TOKEN, "GET", "/api/posts")
        assert status == 200
    assert site.origin_statuses("/api/posts") == [200, 200]
    status, headers, body = site.get("/metrics")
    assert (status, body) == (404, b'{"error":"not found","status":404}\n')
    assert headers["content-type"] == "application/json"
    assert "x-cache-status" not in headers
