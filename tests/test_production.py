"""The production server: `feeds serve --production` and gunicorn with feeds' own config."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from feeds.settings import Settings
from feeds.store import Store
from tests.conftest import REPO, add_post, parse_feed
from tests.live import free_port, request, wait_for_port


def start(command: list[str], settings: Settings, port: int, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "FEEDS_CONFIG": str(REPO / "config.toml"),
        "FEEDS_DATABASE_URL": settings.database_url,
        "FEEDS_BASE_URL": f"http://127.0.0.1:{port}",
    }
    process = subprocess.Popen(command, env=env, stderr=log.open("wb"))
    wait_for_port(process, port, log)
    return process


@pytest.fixture
def production(
    store: Store, settings: Settings, tmp_path: Path
) -> Iterator[tuple[int, Path, subprocess.Popen]]:
    add_post(store, settings)
    port, log = free_port(), tmp_path / "server.log"
    command = [sys.executable, "-m", "feeds", "serve", "--production", "--port", str(port),
               "--workers", "2", "--threads", "2"]  # fmt: skip
    process = start(command, settings, port, log)
    yield port, log, process
    process.terminate()
    process.wait(timeout=30)


def test_production_server_serves_feeds_and_logs_json_lines(
    production: tuple[int, Path, subprocess.Popen],
) -> None:
    port, log, _ = production
    response, body = request(port, "GET", "/feeds/all.atom")
    assert response.status == 200
    assert len(parse_feed(body).entries) == 1
    assert response.getheader("Connection") != "close"  # keep-alive for pollers and proxies
    request(port, "GET", "/healthz")
    time.sleep(0.3)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert [(line["path"], line["status"]) for line in lines] == [
        ("/feeds/all.atom", 200),
        ("/healthz", 200),
    ]


def test_sighup_reloads_without_dropping_a_request(
    production: tuple[int, Path, subprocess.Popen],
) -> None:
    port, _, process = production
    failures: list[str] = []
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            try:
                response, _ = request(port, "GET", "/feeds/all.rss")
                if response.status != 200:
                    failures.append(str(response.status))
            except OSError as error:
                failures.append(repr(error))

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.5)
    process.send_signal(signal.SIGHUP)
    time.sleep(3)
    done.set()
    poller.join()
    assert failures == []


def test_gunicorn_with_feeds_config_module(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    add_post(store, settings)
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-c", "python:feeds.gunicorn_conf",
               "--bind", f"127.0.0.1:{port}", "--workers", "1", "feeds:create_app()"]  # fmt: skip
    process = start(command, settings, port, tmp_path / "gunicorn.log")
    try:
        response, body = request(port, "GET", "/feeds/all.rss")
        assert response.status == 200
        assert len(parse_feed(body).entries) == 1
    finally:
        process.terminate()
        process.wait(timeout=30)
