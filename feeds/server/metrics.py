"""Prometheus metrics of the service: requests, cache lookups, render time.

Under a multi-process server, set PROMETHEUS_MULTIPROC_DIR (an empty directory) so that
/metrics adds up every worker (prometheus_client's multiprocess mode).

The counts a cache hit makes (its request, its cache lookup) are DeferredCounts: the hit
only queues them, and the process's flusher thread (feeds.server.flusher) adds them to
prometheus_client every FLUSH_SECONDS, where multiprocess mode takes a lock and writes
the worker's mmapped file. A scrape first adds the counts of its own process, and under
multiprocess mode waits until every other worker's flusher has run since it began.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque

from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from feeds.server.flusher import FLUSH_SECONDS, on_flush

REQUESTS = Counter(
    "feeds_http_requests", "HTTP requests answered, by route and status", ["route", "status"]
)
CACHE_LOOKUPS = Counter(
    "feeds_cache_lookups", "Feed cache lookups: hit (answered from memory) or miss", ["result"]
)
MAX_PENDING = 10_000  # increments a count queues before the incrementing thread adds them


class DeferredCount:
    """A prometheus_client counter (or one labelled child) whose increments are queued, to
    be added by ``flush``: appending to a deque is atomic and takes no lock."""

    __slots__ = ("counter", "pending")

    def __init__(self, counter: Counter) -> None:
        self.counter = counter
        self.pending: deque[float] = deque()
        with _counts_lock:
            _counts.append(self)

    def inc(self, amount: float = 1) -> None:
        """Count ``amount`` more; visible in the metrics after the next flush."""
        self.pending.append(amount)
        if len(self.pending) > MAX_PENDING:
            self.flush()

    def flush(self) -> None:
        """Add the queued increments to the counter."""
        total: float = 0
        try:
            while True:
                total += self.pending.popleft()
        except IndexError:  # drained (another thread may have taken the last ones)
            pass
        if total:
            self.counter.inc(total)


_counts: list[DeferredCount] = []
_counts_lock = threading.Lock()


def flush_counts() -> None:
    """Add every DeferredCount's queued increments to prometheus_client."""
    with _counts_lock:
        counts = list(_counts)
    for count in counts:
        count.flush()


on_flush(flush_counts)
CACHE_HITS = DeferredCount(CACHE_LOOKUPS.labels("hit"))
CACHE_MISSES = DeferredCount(CACHE_LOOKUPS.labels("miss"))
RENDER_SECONDS = Histogram(
    "feeds_render_seconds",
    "Time to query, render and compress one feed on a cache miss",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
FEED_ROUTE = "feeds.feed"


def exposition() -> bytes:
    """The metrics in Prometheus' text format, with the share of feed answers that were 304."""
    flush_counts()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Every request another worker answered before this scrape began is counted once
        # its flusher has run: wait for that, with room for a busy worker's thread switch.
        time.sleep(4 * FLUSH_SECONDS)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = DEFAULT_REGISTRY
    text = generate_latest(registry)
    return text + _not_modified_share(registry)


def _not_modified_share(registry: CollectorRegistry) -> bytes:
    """feeds_not_modified_ratio: 304 answers / all answers of the feed route, since start."""
    by_status: dict[str, float] = {}
    for metric in registry.collect():
        if metric.name != "feeds_http_requests":
            continue
        for sample in metric.samples:
            if sample.name.endswith("_total") and sample.labels.get("route") == FEED_ROUTE:
                status = sample.labels["status"]
                by_status[status] = by_status.get(status, 0.0) + sample.value
    total = sum(by_status.values())
    share = by_status.get("304", 0.0) / total if total else 0.0
    return (
        b"# HELP feeds_not_modified_ratio Share of feed answers that were 304 Not Modified\n"
        b"# TYPE feeds_not_modified_ratio gauge\n" + f"feeds_not_modified_ratio {share}\n".encode()
    )
