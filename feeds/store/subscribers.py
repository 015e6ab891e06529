"""Who follows each feed, in the store: the writes of feeds.subscribers.tally and the figures
``feeds stats`` and /api/stats show.

Every process (worker, instance) writes what it saw, so rows are keyed to add up: an
aggregator's count is one row per (feed, service, service feed id, day) that keeps the
latest report (by its time), and a reader is one row per (feed, day, keyed hash), written
once. The hash key of a day is drawn at random by the first process that needs it and kept
in store_meta until the day after it is over, then deleted: past days' hashes can then no
longer be tied to an address, even by someone holding the database.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from feeds.store.index import dialect_insert
from feeds.store.models import SUBSCRIBER_KEY_PREFIX, FeedReader, StoreMeta, SubscriberReport

# Counts and readers are figured over this many days; rows are kept a day longer.
WINDOW = timedelta(days=7)
KEPT_DAYS = 8


@dataclass(frozen=True)
class ServiceCount:
    """What one aggregator reported for one of its feeds, in a batch of polls."""

    feed: str
    service: str
    service_feed_id: str
    subscribers: int


@dataclass(frozen=True)
class FeedSubscribers:
    """Who follows a feed: subscribers = aggregators (their latest counts, summed over their
    feed ids) + individuals (readers without a count, on the busiest day of the window)."""

    feed: str
    aggregators: int = 0
    individuals: int = 0
    services: Mapping[str, int] = field(default_factory=dict)

    @property
    def subscribers(self) -> int:
        """Everyone: the aggregators' users and the individual readers."""
        return self.aggregators + self.individuals

    @property
    def services_line(self) -> str:
        """Each aggregator's count, as people read it: ``Feedly 462, Inoreader 114`` (or -)."""
        return ", ".join(f"{name} {count}" for name, count in self.services.items()) or "-"


def day_key(session: Session, day: date) -> bytes:
    """The key readers' hashes are made with on ``day``: the same in every process, drawn
    by the first that asks."""
    name = f"{SUBSCRIBER_KEY_PREFIX}{day.isoformat()}"
    insert = dialect_insert(session)(StoreMeta).values(key=name, value=secrets.token_hex(32))
    session.execute(insert.on_conflict_do_nothing())
    return bytes.fromhex(
        session.scalars(select(StoreMeta.value).where(StoreMeta.key == name)).one()
    )


def record_polls(
    session: Session,
    reported: datetime,
    counts: Iterable[ServiceCount],
    readers: Iterable[tuple[str, str]],
) -> None:
    """Store a batch of polls made at ``reported``: each aggregator's count (kept if it is
    the latest of its day) and each (feed, reader hash), once a day."""
    day = reported.date()
    rows = [{**vars(count), "day": day, "reported": reported} for count in counts]
    if rows:
        insert = dialect_insert(session)(SubscriberReport).values(rows)
        later = insert.excluded.reported >= SubscriberReport.reported
        session.execute(
            insert.on_conflict_do_update(
                index_elements=[
                    SubscriberReport.feed,
                    SubscriberReport.service,
                    SubscriberReport.service_feed_id,
                    SubscriberReport.day,
                ],
                set_={
                    "subscribers": insert.excluded.subscribers,
                    "reported": insert.excluded.reported,
                },
                where=later,
            )
        )
    reader_rows = [{"feed": feed, "day": day, "reader": reader} for feed, reader in readers]
    if reader_rows:
        session.execute(
            dialect_insert(session)(FeedReader).values(reader_rows).on_conflict_do_nothing()
        )


def prune(session: Session, today: date) -> None:
    """Delete the rows older than KEPT_DAYS, and the hash keys of days before yesterday."""
    oldest = today - timedelta(days=KEPT_DAYS)
    session.execute(delete(SubscriberReport).where(SubscriberReport.day < oldest))
    session.execute(delete(FeedReader).where(FeedReader.day < oldest))
    yesterday = f"{SUBSCRIBER_KEY_PREFIX}{(today - timedelta(days=1)).isoformat()}"
    session.execute(
        delete(StoreMeta).where(
            StoreMeta.key.startswith(SUBSCRIBER_KEY_PREFIX), StoreMeta.key < yesterday
        )
    )


def feed_subscribers(session: Session, now: datetime) -> list[FeedSubscribers]:
    """Who follows each feed polled over the WINDOW before ``now``, most followed first.

    Aggregators: per (service, service feed id), the latest count reported in the window,
    summed. Individuals: the most distinct readers seen on one day of the window (a
    reader's hash changes with the day, so days cannot be added up)."""
    services: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    latest = select(
        SubscriberReport.feed,
        SubscriberReport.service,
        SubscriberReport.service_feed_id,
        SubscriberReport.subscribers,
    ).where(SubscriberReport.reported > now - WINDOW)
    seen: set[tuple[str, str, str]] = set()
    for feed, service, feed_id, count in session.execute(
        latest.order_by(SubscriberReport.reported.desc())
    ):
        if (feed, service, feed_id) not in seen:
            seen.add((feed, service, feed_id))
            services[feed][service] += count
    individuals: dict[str, int] = defaultdict(int)
    daily = (
        select(FeedReader.feed, func.count())
        .where(FeedReader.day > (now - WINDOW).date())
        .group_by(FeedReader.feed, FeedReader.day)
    )
    for feed, readers in session.execute(daily):
        individuals[feed] = max(individuals[feed], readers)
    figures = [
        FeedSubscribers(
            feed,
            sum(services[feed].values()),
            individuals[feed],
            dict(sorted(services[feed].items(), key=lambda item: (-item[1], item[0]))),
        )
        for feed in services.keys() | individuals.keys()
    ]
    return sorted(figures, key=lambda figure: (-figure.subscribers, figure.feed))
