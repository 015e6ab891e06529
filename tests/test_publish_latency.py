"""Publishing never waits on a hub: with the outbox delivered from a thread of the same
process to a hub that takes the request and never answers, the admin API answers as fast
as with no hub at all."""

from __future__ import annotations

import statistics
import time

from flask.testing import FlaskClient

from feeds import create_app
from feeds.push.delivery import deliver_in_background
from feeds.settings import Settings
from feeds.settings.tables import Hub
from feeds.store import Store
from tests.conftest import ADMIN_TOKEN
from tests.hub_server import hub_server

WRITES = 15


def write_latencies(client: FlaskClient, prefix: str) -> list[float]:
    """Seconds each of WRITES post creations took, answered 201."""
    latencies = []
    for number in range(WRITES):
        started = time.perf_counter()
        answer = client.post("/api/posts", json={
            "title": f"{prefix} {number}", "slug": f"{prefix}-{number}", "language": "en",
            "categories": [f"{prefix}-{number}"], "published": "2024-01-01T00:00:00Z"})  # fmt: skip
        latencies.append(time.perf_counter() - started)
        assert answer.status_code == 201, answer.json
    return latencies


def api_client(settings: Settings) -> FlaskClient:
    client = create_app(settings).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {ADMIN_TOKEN}"
    return client


def test_a_hanging_hub_does_not_slow_publishing(api_settings: Settings, store: Store) -> None:
    quick = api_settings.replace(push_poll_seconds=0.02, push_timeout_seconds=60.0)
    without_hub = write_latencies(api_client(quick), "alone")
    with hub_server() as hub:
        hub.hang.set()
        with_hub = quick.replace(hubs=(Hub(hub.url),))
        stop = deliver_in_background(store, with_hub)
        assert stop is not None
        try:
            client = api_client(with_hub)
            write_latencies(client, "first")  # the delivery takes these, and hangs
            hub.wait_for(1)
            hanging = write_latencies(client, "hanging")
            assert len(hub.received) == 1  # still stuck in the first delivery
        finally:
            stop.set()
    alone, hung = statistics.median(without_hub), statistics.median(hanging)
    # Equal but for noise: a write that waited on the hub would take its 60 s timeout.
    assert hung < alone * 1.5 + 0.01, (alone, hung)
