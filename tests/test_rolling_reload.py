"""A deploy that loses no request: two production instances behind the repository's nginx
configuration (deploy/nginx-proxy.conf), reloaded and restarted one after the other while
readers poll through nginx without pause."""

from __future__ import annotations

import re
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
from tests.live import free_port, nginx_server, request, wait_for_log
from tests.test_production import start, stop

pytestmark = pytest.mark.process

WORKERS = 2
READERS = 3


class Instance:
    """One `feeds serve --production` instance on its own port, its output in ``log``."""

    def __init__(self, settings: Settings, directory: Path, name: str) -> None:
        self.settings = settings
        self.port = free_port()
        self.log = directory / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "feeds", "--config", str(REPO / "config.toml"),
                   "serve", "--production", "--port", str(self.port),
                   "--workers", str(WORKERS), "--threads", "2"]  # fmt: skip
        self.process = start(command, self.settings, self.port, self.log)  # a new log
        wait_for_log(self.log, r"Started worker-\d", WORKERS)

    def reload(self) -> None:
        """SIGHUP, and wait until every worker was replaced."""
        assert self.process is not None
        stopped = len(re.findall(r"Stopped old worker-\d", self.log.read_text()))
        self.process.send_signal(signal.SIGHUP)
        wait_for_log(self.log, r"Stopped old worker-\d", stopped + WORKERS)

    def stop(self) -> None:
        assert self.process is not None
        assert stop(self.process) == 0


@pytest.fixture
def proxied(
    store: Store, settings: Settings, tmp_path: Path
) -> Iterator[tuple[int, list[Instance]]]:
    add_post(store, settings)
    instances = [Instance(settings, tmp_path, name) for name in ("a", "b")]
    for instance in instances:
        instance.start()
    port = free_port()
    server = (REPO / "deploy/nginx-proxy.conf").read_text()
    server = server.replace("server 127.0.0.1:8001", f"server 127.0.0.1:{instances[0].port}")
    server = server.replace("server 127.0.0.1:8002", f"server 127.0.0.1:{instances[1].port}")
    server = server.replace("listen 80;", f"listen 127.0.0.1:{port};")
    with nginx_server(server, port, tmp_path):
        yield port, instances
    for instance in instances:
        if instance.process is not None and instance.process.poll() is None:
            stop(instance.process)


def test_reloading_and_restarting_each_instance_in_turn_loses_no_request(
    proxied: tuple[int, list[Instance]],
) -> None:
    port, instances = proxied
    answers: list[tuple[int, bytes]] = []
    failures: list[BaseException] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            try:
                response, body = request(port, "GET", "/feeds/all.atom")
                answers.append((response.status, body))
            except OSError as error:
                failures.append(error)

    readers = [threading.Thread(target=read) for _ in range(READERS)]
    for reader in readers:
        reader.start()
    try:
        time.sleep(0.5)
        for instance in instances:  # a new config or release: reload, one instance at a time
            instance.reload()
        for instance in instances:  # a restart (a new Python, say): stop, start, next one
            instance.stop()
            instance.start()
        time.sleep(0.5)
    finally:
        done.set()
        for reader in readers:
            reader.join()
    assert not failures
    assert len(answers) > 100
    assert {status for status, _ in answers} == {200}
    # Parsed once per distinct body: thousands of answers are a handful of feeds.
    assert {len(parse_feed(body).entries) for body in {body for _, body in answers}} == {1}
