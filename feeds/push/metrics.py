"""The outbox in /metrics, read from the database at scrape time: the same figures from
every process and instance, since the outbox is shared."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from feeds.store import Store, StoreUnavailable, outbox


class OutboxCollector(Collector):
    """Per target: changes waiting, delivered, failed tries of the next batch, batches
    given up on."""

    def __init__(self, store: Store, names: Sequence[str]) -> None:
        self.store, self.names = store, list(names)

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        """The families, or none while the database cannot be reached."""
        try:
            with self.store.reaching(), self.store.session() as session:
                statuses = outbox.statuses(session, self.names)
        except StoreUnavailable:
            return
        labels = ["target"]
        waiting = GaugeMetricFamily(
            "feeds_outbox_waiting", "Changes not yet announced to the target", labels=labels
        )
        delivered = CounterMetricFamily(
            "feeds_outbox_delivered", "Changes announced to the target", labels=labels
        )
        retrying = GaugeMetricFamily(
            "feeds_outbox_failed_tries", "Failed tries of the batch being retried", labels=labels
        )
        failed = GaugeMetricFamily(
            "feeds_outbox_failed_batches",
            "Batches given up on after push_max_attempts tries (feeds outbox --failures)",
            labels=labels,
        )
        for status in statuses:
            waiting.add_metric([status.name], status.pending)
            delivered.add_metric([status.name], status.delivered)
            retrying.add_metric([status.name], status.attempts)
            failed.add_metric([status.name], status.failures)
        yield from (waiting, delivered, retrying, failed)


def outbox_exposition(store: Store, names: Sequence[str]) -> bytes:
    """The outbox families in Prometheus' text format (nothing without targets)."""
    if not names:
        return b""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(OutboxCollector(store, names))
    return generate_latest(registry)
