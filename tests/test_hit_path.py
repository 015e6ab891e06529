"""What a cache hit leaves to others: access lines written by the flusher thread, counts added
at the next flush, URLs parsed once. The lines and the counts must come out the same."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from prometheus_client import CollectorRegistry, Counter

from feeds.server import line_writer
from feeds.server.flusher import FLUSH_SECONDS
from feeds.server.line_writer import PIPE_BUF, LineWriter
from feeds.server.metrics import DeferredCount
from feeds.settings import Settings
from feeds.store import Store
from feeds.web.feed_endpoint import URL_MEMO_KEY_CHARS
from feeds.web.ops import AccessRecord, access_line
from tests.conftest import REPO, add_post
from tests.live import free_port, request, wait_for_log
from tests.test_production import json_lines, start, stop

FEEDLY = "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 462 subscribers; )"


def record(**changes: object) -> AccessRecord:
    fields: dict[str, object] = {
        "method": "GET", "path": "/feeds/all.atom", "query": "", "route": "feeds.feed",
        "status": 200, "body_bytes": 1234, "seconds": 0.000123456, "cache": "hit",
        "remote": "127.0.0.1", "agent": FEEDLY,
    }  # fmt: skip
    return AccessRecord(**{**fields, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"path": '/é/"quoted"\\/\n\x00\u2028', "query": "q=caf%C3%A9&token=abc"},
        {
            "method": None,
            "body_bytes": None,
            "cache": None,
            "remote": None,
            "status": 404,
            "agent": None,
        },
        {"agent": 'Evil"/1.0 \\ \n\x00\u2028'},
        {"seconds": 12.3456789, "body_bytes": 0},
    ],
)
def test_the_access_line_is_the_json_of_its_fields(changes: dict[str, object]) -> None:
    line = access_line(record(**changes))
    fields = record(**changes)
    query = fields.query.replace("token=abc", "token=[redacted]")
    assert line == json.dumps(
        {
            "method": fields.method,
            "path": fields.path + (f"?{query}" if query else ""),
            "route": fields.route,
            "status": fields.status,
            "bytes": fields.body_bytes,
            "ms": round(fields.seconds * 1000, 3),
            "cache": fields.cache,
            "remote": fields.remote,
            "agent": fields.agent,
        }
    )


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    yield read_end, write_end
    os.close(read_end)
    os.close(write_end)


def read_all(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return b"".join(chunks)
        chunks.append(chunk)


def test_lines_are_written_whole_in_order_and_in_writes_a_pipe_keeps_whole(
    pipe: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    read_end, write_end = pipe
    writes: list[bytes] = []
    real_write = os.write

    def write(fd: int, data: bytes) -> int:
        writes.append(bytes(data))
        return real_write(fd, data)

    monkeypatch.setattr(line_writer.os, "write", write)
    writer = LineWriter(write_end, str)
    lines = [f"{n}:" + "x" * (n % 300) for n in range(200)] + ["long" * 2000]
    for line in lines:
        writer.put(line)
    writer.flush()
    assert read_all(read_end).decode().splitlines() == lines
    assert len(writes) > 1
    for data in writes:
        assert data.endswith(b"\n") and (len(data) <= PIPE_BUF or data.count(b"\n") == 1)


def test_queued_lines_are_written_by_the_flusher_thread(pipe: tuple[int, int]) -> None:
    read_end, write_end = pipe
    LineWriter(write_end, str).put("one line")
    deadline = time.monotonic() + 100 * FLUSH_SECONDS
    written = b""
    while not written and time.monotonic() < deadline:
        time.sleep(FLUSH_SECONDS)
        written = read_all(read_end)
    assert written == b"one line\n"


def test_a_request_thread_writes_the_queue_itself_when_it_grows_too_long(
    pipe: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    read_end, write_end = pipe
    monkeypatch.setattr(line_writer, "MAX_PENDING", 5)
    writer = LineWriter(write_end, str)
    for n in range(6):
        writer.put(str(n))
    assert not writer.pending
    assert read_all(read_end).decode().splitlines() == [str(n) for n in range(6)]


def test_a_deferred_count_reaches_its_counter_at_the_flush() -> None:
    counter = Counter("test_hits", "hits", registry=CollectorRegistry())
    count = DeferredCount(counter)
    for _ in range(3):
        count.inc()
    count.inc(2)
    assert counter._value.get() == 0
    count.flush()
    assert counter._value.get() == 5


def test_a_url_too_long_to_memoise_is_answered_the_same(
    store: Store, settings: Settings, client: FlaskClient
) -> None:
    add_post(store, settings)
    short = client.get("/feeds/all.atom?utm_source=x")
    long = client.get(f"/feeds/all.atom?utm_source={'x' * URL_MEMO_KEY_CHARS}")
    assert long.status_code == short.status_code == 200
    assert long.data == short.data


def test_a_refused_feed_url_is_refused_every_time(client: FlaskClient) -> None:
    for _ in range(2):
        response = client.get("/feeds/all.atom?before=nonsense")
        assert response.status_code == 400
        assert "before" in response.get_json()["error"]


@pytest.mark.process
def test_sigterm_loses_no_access_line(store: Store, settings: Settings, tmp_path: Path) -> None:
    add_post(store, settings)
    port, log = free_port(), tmp_path / "server.log"
    command = [sys.executable, "-m", "feeds", "--config", str(REPO / "config.toml"), "serve",
               "--production", "--port", str(port), "--workers", "2"]  # fmt: skip
    process = start(command, settings, port, log)
    wait_for_log(log, r"Started worker-\d", 2)
    polls = 50
    for n in range(polls):
        assert request(port, "GET", f"/feeds/all.atom?n={n}")[0].status == 200
    assert stop(process) == 0  # at once: lines still queued are written as the workers exit
    paths = [line["path"] for line in json_lines(log)]
    assert sorted(paths) == sorted(f"/feeds/all.atom?n={n}" for n in range(polls))
