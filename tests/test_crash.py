"""kill -9 of the server in a burst of writes: what was acknowledged is there whole, nothing
is half-written, and sending the unacknowledged writes again completes the job."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from feeds.settings import Settings
from feeds.store import Store
from feeds.store.index import post_scopes
from feeds.store.models import ScopeEntry
from feeds.store.queries import post_query
from tests.conftest import ADMIN_TOKEN, POSTGRES_URL, parse_feed
from tests.live import api_call, request
from tests.test_sqlite_writers import start_server, stop_server

pytestmark = pytest.mark.process

WRITERS = 6
ACKNOWLEDGED_BEFORE_KILL = 40  # the kill comes once this many writes were answered
BURST_TIMEOUT = 30
SINCE = datetime(2024, 1, 1, tzinfo=UTC)


def document(writer: int, number: int) -> tuple[str, dict[str, object]]:
    """The external id of a writer's n-th post and the post: a category shared by every
    writer, two of the writer's own (created by the first post that names them), a date."""
    external_id = f"crash/w{writer}/{number}"
    return external_id, {
        "title": f"Post {number} of writer {writer}",
        "slug": f"w{writer}-{number}",
        "language": ("en", "fr")[number % 2],
        "published": (SINCE + timedelta(minutes=writer * 10_000 + number)).isoformat(),
        "summary": "Written while the server died.",
        "content_html": "<p>" + "Some text. " * 50 + "</p>",
        "categories": ["shared", f"w{writer}-a-{number % 3}", f"w{writer}-b-{number % 5}"],
        "authors": [f"Writer {writer}"],
    }


def put(port: int, external_id: str, post: dict[str, object]) -> tuple[int, bytes]:
    return api_call(port, ADMIN_TOKEN, "PUT", f"/api/posts/external/{external_id}", post)


def port_is_closed(port: int, within: float = 10) -> bool:
    """Whether nothing answers on ``port`` any more, or within ``within`` seconds: killed
    workers release their sockets as the kernel reaps them, not all at the same instant."""
    deadline = time.monotonic() + within
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


def check_whole(store: Store, sent: dict[str, dict[str, object]]) -> set[str]:
    """Every post in the store is whole: the fields and categories sent for its external id,
    and exactly the scope index rows of its feeds. Returns the external ids stored."""
    with store.session() as session:
        posts = session.scalars(post_query()).all()
        scopes: dict[int, set[str]] = {}
        for post_id, scope in session.execute(select(ScopeEntry.post_id, ScopeEntry.scope)):
            scopes.setdefault(post_id, set()).add(scope)
    stored = set()
    for post in posts:
        assert post.external_id in sent, f"a post nobody sent: {post.external_id}"
        wanted = sent[post.external_id]
        assert (post.title, post.slug, post.language) == (
            wanted["title"],
            wanted["slug"],
            wanted["language"],
        )
        assert post.content_html == wanted["content_html"]
        assert sorted(c.slug for c in post.categories) == sorted(wanted["categories"])  # type: ignore[arg-type]
        assert [a.name for a in post.authors] == wanted["authors"]
        assert scopes.pop(post.id, set()) == set(post_scopes(post)), post.external_id
        stored.add(post.external_id)
    assert scopes == {}, "scope rows of no post"
    return stored


@pytest.mark.parametrize("kind", ["production", "dev"])
def test_kill_9_in_a_burst_of_writes_loses_nothing_acknowledged_and_resending_completes(
    kind: str, store: Store, settings: Settings, tmp_path: Path
) -> None:
    if kind == "dev" and POSTGRES_URL:
        pytest.skip("Flask's server is for trying feeds on SQLite; production runs granian")
    process, port = start_server(kind, settings.database_url, tmp_path / "first")
    sent: dict[str, dict[str, object]] = {}
    acknowledged: set[str] = set()
    unanswered: set[str] = set()
    refused: list[str] = []
    lock = threading.Lock()
    killed = threading.Event()

    def write(writer: int) -> None:
        number = 0
        while not killed.is_set():
            number += 1
            external_id, post = document(writer, number)
            with lock:
                sent[external_id] = post
            try:
                status, body = put(port, external_id, post)
            # The server died with the request in flight, or before it: the connection is
            # refused or reset, or the answer is cut short (http.client's own exceptions).
            except (OSError, http.client.HTTPException):
                with lock:
                    unanswered.add(external_id)
                continue
            with lock:
                if status in (200, 201):
                    acknowledged.add(external_id)
                else:
                    refused.append(f"{status} {body.decode()}")

    writers = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    try:
        for thread in writers:
            thread.start()
        deadline = time.monotonic() + BURST_TIMEOUT
        while len(acknowledged) < ACKNOWLEDGED_BEFORE_KILL and time.monotonic() < deadline:
            time.sleep(0.01)
        os.killpg(process.pid, signal.SIGKILL)  # the server and every worker, mid-burst
        killed.set()
        process.wait(timeout=30)
        for thread in writers:
            thread.join(timeout=60)
        assert port_is_closed(port)
    finally:
        killed.set()
        stop_server(process)
    assert refused == []
    assert len(acknowledged) >= ACKNOWLEDGED_BEFORE_KILL
    assert unanswered, "no write was in flight at the kill"

    process, port = start_server(kind, settings.database_url, tmp_path / "restarted")
    try:
        stored = check_whole(store, sent)
        assert acknowledged <= stored
        # Whatever was not answered may or may not be there, but whole (checked above);
        # sent again, it completes, and what was stored answers "unchanged".
        for external_id in sorted(unanswered):
            status, body = put(port, external_id, sent[external_id])
            assert status in (200, 201), body
        for external_id in sorted(acknowledged)[:5]:
            headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}
            body = json.dumps(sent[external_id]).encode()
            path = f"/api/posts/external/{external_id}"
            response, _ = request(port, "PUT", path, headers, body)
            assert (response.status, response.headers["Feeds-Outcome"]) == (200, "unchanged")
        assert check_whole(store, sent) == acknowledged | unanswered
        for path in ("/feeds/all.atom", "/feeds/category/shared.rss", "/fr/feeds/all.atom"):
            response, body = request(port, "GET", path)
            assert response.status == 200
            assert parse_feed(body).entries
    finally:
        stop_server(process)
