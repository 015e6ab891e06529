"""A real `feeds serve` on 127.0.0.1, polled over a socket the way an aggregator polls."""

from __future__ import annotations

import gzip
import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from feeds.settings import Settings
from tests.conftest import REPO, parse_feed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(process: subprocess.Popen[bytes], port: int, timeout: float = 30) -> None:
    """Wait until ``process`` listens on ``port``; fail with its stderr if it dies first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(
                    process.stderr.read().decode() if process.stderr else ""
                ) from None
            time.sleep(0.1)


@pytest.fixture(scope="module")
def server(demo_settings: Settings) -> Iterator[tuple[str, int]]:
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
    yield "127.0.0.1", port
    process.terminate()
    process.wait(timeout=10)


def request(
    server: tuple[str, int], method: str, path: str, headers: dict[str, str] | None = None
) -> tuple[http.client.HTTPResponse, bytes]:
    connection = http.client.HTTPConnection(*server, timeout=10)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


def test_aggregator_poll_cycle_over_a_real_socket(server: tuple[str, int]) -> None:
    path = "/fr/feeds/category/tech.atom"
    first, body = request(server, "GET", path, {"Accept-Encoding": "gzip"})
    assert first.status == 200
    assert first.getheader("Content-Type") == "application/atom+xml; charset=utf-8"
    assert first.getheader("Content-Encoding") == "gzip"
    parsed = parse_feed(gzip.decompress(body))
    assert parsed.feed.links[0].href == f"http://127.0.0.1:{server[1]}{path}"

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


def test_head_over_a_real_socket(server: tuple[str, int]) -> None:
    get, body = request(server, "GET", "/feeds/all.rss")
    head, head_body = request(server, "HEAD", "/feeds/all.rss")
    assert head.status == 200
    assert head_body == b""
    assert head.getheader("Content-Length") == str(len(body))
    assert head.getheader("ETag") == get.getheader("ETag")


def test_unknown_feed_is_a_json_404_over_a_real_socket(server: tuple[str, int]) -> None:
    response, body = request(server, "GET", "/feeds/category/nope.rss")
    assert response.status == 404
    assert response.getheader("Content-Type") == "application/json"
    assert b"unknown category 'nope'" in body
