"""From an API write to the hub's POST: how long a WebSub subscriber waits for a change.

    python bench/push_latency.py [--writes 60] [--poll 1.0,0.2] [--database URL]

It starts a recording hub on 127.0.0.1 (tests/hub_server.py, the tests' own) and, for each
``push_poll_seconds`` in ``--poll``, ``feeds serve --production`` (granian, 2 workers, the
outbox delivered from the server processes) on a fresh SQLite store (or ``--database``,
emptied first: a PostgreSQL URL), with the hub configured. It then creates ``--writes``
posts through the admin API, 0.1 to 0.4 s apart, each in a category of its own, and times,
for each, from sending the write to the hub receiving the POST that names its category's
feed. It prints the median, p90, p99 and max per poll interval, and the API's own write
latency alongside.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from harness import REPO, feeds_production, running

sys.path.insert(0, str(REPO))
from tests.hub_server import Recorder, hub_server

TOKEN = "push-latency-token"
BASE_URL = "http://feeds.bench"


def percentile(values: list[float], share: float) -> float:
    """The ``share`` percentile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def write(url: str, slug: str) -> float:
    """POST a post in a category named ``slug``; seconds the API took."""
    body = {"title": slug, "slug": slug, "language": "en", "categories": [slug],
            "published": "2024-01-01T00:00:00Z"}  # fmt: skip
    request = urllib.request.Request(
        url + "/api/posts", json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )  # fmt: skip
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=30) as answer:
        answer.read()
    return time.monotonic() - started


def arrival(hub: Recorder, feed_url: str, deadline: float) -> float:
    """When (time.monotonic) the hub first got a POST naming ``feed_url``."""
    while time.monotonic() < deadline:
        for request in list(hub.received):
            if feed_url in request.published_urls():
                return request.at
        time.sleep(0.005)
    raise RuntimeError(f"the hub never heard of {feed_url}")


def run(poll: float, writes: int, database: str, work: Path) -> tuple[list[float], list[float]]:
    """Push latencies and API latencies of ``writes`` writes, delivery polling every ``poll``."""
    with hub_server() as hub:
        env = {
            "FEEDS_CONFIG": str(REPO / "config.toml"),
            "FEEDS_DATABASE_URL": database,
            "FEEDS_BASE_URL": BASE_URL,
            "FEEDS_ADMIN_TOKEN": TOKEN,
            "FEEDS_HUBS": f'[{{url = "{hub.url}"}}]',
            "FEEDS_PUSH_POLL_SECONDS": str(poll),
            "FEEDS_ACCESS_LOG": "false",
        }
        pushes, api = [], []
        with running(feeds_production(f"poll-{poll}", env), "/healthz", work / "logs") as server:
            origin = server.url("").rstrip("/")
            for number in range(writes):
                slug = f"p{str(poll).replace('.', '_')}-{number}"
                sent = time.monotonic()
                api.append(write(origin, slug))
                feed = f"{BASE_URL}/feeds/category/{slug}.atom"
                pushes.append(arrival(hub, feed, sent + 60) - sent)
                time.sleep(random.uniform(0.1, 0.4))  # out of step with the polls
    return pushes, api


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=60)
    parser.add_argument("--poll", default="1.0,0.2", help="push_poll_seconds values")
    parser.add_argument("--database", help="a database URL to use (emptied), not SQLite")
    args = parser.parse_args()
    random.seed(5)
    print(f"{args.writes} writes, 0.1 to 0.4 s apart; seconds from sending the write")
    print("poll s | push p50 | p90 | p99 | max | API p50 | API p99")
    for poll in (float(value) for value in args.poll.split(",")):
        with tempfile.TemporaryDirectory(prefix="feeds-push-") as scratch:
            work = Path(scratch)
            database = args.database or f"sqlite:///{work / 'feeds.db'}"
            _fresh_store(database)
            pushes, api = run(poll, args.writes, database, work)
        print(
            f"{poll:6.2f} | {statistics.median(pushes):8.3f} | {percentile(pushes, 0.9):.3f} | "
            f"{percentile(pushes, 0.99):.3f} | {max(pushes):.3f} | "
            f"{statistics.median(api):.3f} | {percentile(api, 0.99):.3f}"
        )


def _fresh_store(database: str) -> None:
    from feeds.store import Store
    from feeds.store.models import Base

    store = Store(database)
    if store.engine.dialect.name != "sqlite":
        Base.metadata.drop_all(store.engine)
        with store.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    store.create_schema()
    store.dispose()


if __name__ == "__main__":
    main()
