"""A real `feeds serve` on 127.0.0.1, polled over a socket the way an aggregator polls."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from feeds.settings import Settings
from tests.conftest import REPO, parse_feed
from tests.live import free_port, request, wait_for_port

pytestmark = pytest.mark.process


@pytest.fixture(scope="module")
def server(demo_settings: Settings) -> Iterator[int]:
    port = free_port()
    env = {
        **os.environ,
        "FEEDS_CONFIG": str(REPO / "config.toml"),
        "FEEDS_DATABASE_URL": demo_settings.database_url,
        "FEEDS_BASE_URL": f"http://127.0.0.1:{port}",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "feeds", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    wait_for_port(process, port)
    yield port
    process.terminate()
    process.wait(timeout=10)


def test_aggregator_poll_cycle_over_a_real_socket(server: int) -> None:
    path = "/fr/feeds/category/tech.atom"
    first, body = request(server, "GET", path, {"Accept-Encoding": "gzip"})
    assert first.status == 200
    assert first.getheader("Content-Type") == "application/atom+xml; charset=utf-8"
    assert first.getheader("Content-Encoding") == "gzip"
    parsed = parse_feed(gzip.decompress(body))
    assert parsed.feed.links[0].href == f"http://127.0.0.1:{server}{path}"

    etag, modified = first.getheader("ETag"), first.getheader("Last-Modified")
    again, again_body = request(
        server,
        "GET",
        path,
        {"Accept-Encoding": "gzip", "If-None-Match": etag, "If-Modified-Since": modified},
    )
    assert again.status == 304
    assert again_body == b""
    assert again.getheader("ETag") == etag

    since_only, _ = request(server, "GET", path, {"If-Modified-Since": modified})
    assert since_only.status == 304


def test_head_over_a_real_socket(server: int) -> None:
    get, body = request(server, "GET", "/feeds/all.rss")
    head, head_body = request(server, "HEAD", "/feeds/all.rss")
    assert head.status == 200
    assert head_body == b""
    assert head.getheader("Content-Length") == str(len(body))
    assert head.getheader("ETag") == get.getheader("ETag")


def test_unknown_feed_is_a_json_404_over_a_real_socket(server: int) -> None:
    response, body = request(server, "GET", "/feeds/category/nope.rss")
    assert response.status == 404
    assert response.getheader("Content-Type") == "application/json"
    assert b"unknown category 'nope'" in body
