"""Prometheus metrics of the service: requests, cache lookups, render time.

Under a multi-process server, set PROMETHEUS_MULTIPROC_DIR (an empty directory) so that
/metrics adds up every worker (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import os

from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter(
    "feeds_http_requests", "HTTP requests answered, by route and status", ["route", "status"]
)
CACHE_LOOKUPS = Counter(
    "feeds_cache_lookups", "Feed cache lookups: hit (answered from memory) or miss", ["result"]
)
CACHE_HITS, CACHE_MISSES = CACHE_LOOKUPS.labels("hit"), CACHE_LOOKUPS.labels("miss")
RENDER_SECONDS = Histogram(
    "feeds_render_seconds",
    "Time to query, render and compress one feed on a cache miss",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
FEED_ROUTE = "feeds.feed"


def exposition() -> bytes:
    """The metrics in Prometheus' text format, with the share of feed answers that were 304."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
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
