"""Delivering the outbox: each sender, in turn, announces the changes past its cursor.

One round (``run_once``) first records the scopes of scheduled posts that fell due, then,
for each sender whose lease it can take, reads up to CHANGES_PER_ROUND changes, coalesces
them by scope, and hands them to the sender. Success moves the sender's cursor; a failure
waits (doubling from ``push_retry_seconds`` up to ``push_retry_max_seconds``, or what a
Retry-After said) and after ``push_max_attempts`` tries is recorded as given up
(``feeds outbox`` and /metrics show it) so that the next changes are not held back.

Leases, not open transactions, keep several processes from delivering the same target:
the HTTP request runs outside any transaction, and a process killed mid-delivery only
holds its lease until ``push_lease_seconds`` pass. Delivery is at least once: a change
whose announcement was cut short is announced again.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from feeds.push.sender import ChangedFeed, DeliveryFailed, Sender
from feeds.serving.spec import FeedFormat, FeedSpec
from feeds.settings import Settings
from feeds.store import Store, StoreUnavailable, outbox, queries
from feeds.store.index import touch_scopes
from feeds.store.scopes import scope_parts

log = logging.getLogger(__name__)

# Changes one announcement covers at most (after coalescing, far fewer feeds).
CHANGES_PER_ROUND = 2000


class Delivery:
    """Delivers one store's outbox to ``senders``."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        senders: Sequence[Sender],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store, self.settings, self.senders, self.clock = store, settings, senders, clock
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self.lease = timedelta(seconds=settings.push_lease_seconds)
        self.names = [sender.name for sender in senders]
        self._targets_known = False

    def run_once(self) -> int:
        """One round over every sender; how many changes were announced. An idle round
        only reads: nothing due, nothing waiting."""
        now = self.clock()
        with self.store.session() as session:
            due_waiting = outbox.due_posts_waiting(session, now)
        if not self._targets_known:
            self.start_targets()
        if due_waiting:
            with self.store.writing() as session:
                due = outbox.due_post_scopes(session, now)
                if due:
                    touch_scopes(session, due, now, self.settings)
                session.commit()
        with self.store.session() as session:
            waiting = [s for s in self.senders if outbox.has_work(session, s.name, now)]
        announced = sum(self._deliver(sender) for sender in waiting)
        if announced:
            with self.store.writing() as session:
                outbox.prune(session, self.names)
                session.commit()
        return announced

    def start_targets(self) -> None:
        """Give each sender that has none its cursor, at the newest change: it announces
        every change from now on. Done before a server answers, so that no write it takes
        can fall before the cursor."""
        with self.store.writing() as session:
            outbox.ensure_targets(session, self.names, self.clock())
            session.commit()
        self._targets_known = True

    def run_forever(self, stop: threading.Event) -> None:
        """Deliver every ``push_poll_seconds``, and at once after a write of this process
        commits, until ``stop`` is set (seen within a poll); a round that fails (the store
        unreachable) is logged and the next one tries again."""
        while not stop.is_set():
            outbox.committed.clear()
            try:
                self.run_once()
            except StoreUnavailable as error:
                log.warning("outbox: %s", error)
            except Exception:  # a bug must not end delivery for good
                log.exception("outbox: delivery round failed")
            outbox.committed.wait(self.settings.push_poll_seconds)

    def _deliver(self, sender: Sender) -> int:
        """Announce ``sender``'s next batch if its lease is ours; how many changes."""
        name = sender.name
        with self.store.writing() as session:
            claimed = outbox.claim(session, name, self.holder, self.clock(), self.lease)
            session.commit()
        if not claimed:
            return 0
        try:
            with self.store.session() as session:
                batch = outbox.next_batch(session, name, CHANGES_PER_ROUND)
                if batch is None:
                    return 0
                feeds = changed_feeds(session, batch.scopes)
            try:
                sender.announce(feeds)
            except DeliveryFailed as error:
                self._failed(name, batch, error)
                return 0
            with self.store.writing() as session:
                outbox.delivered(session, name, batch, self.clock())
                session.commit()
            return batch.last_id - batch.first_id + 1
        finally:
            with self.store.writing() as session:
                outbox.release(session, name, self.holder)
                session.commit()

    def _failed(self, name: str, batch: outbox.Batch, error: DeliveryFailed) -> None:
        now = self.clock()
        with self.store.writing() as session:
            attempts = outbox.attempts(session, name)
            wait = error.retry_after
            if wait is None:
                wait = self.settings.push_retry_seconds * 2**attempts
            wait = min(wait, self.settings.push_retry_max_seconds)
            gave_up = outbox.failed(
                session,
                name,
                batch,
                str(error),
                now + timedelta(seconds=wait),
                self.settings.push_max_attempts,
                now,
            )
            session.commit()
        if gave_up:
            log.error("outbox: %s: gave up after %d tries: %s", name, attempts + 1, error)
        else:
            log.warning("outbox: %s: %s (try %d, again in %.0f s)", name, error, attempts + 1, wait)


def changed_feeds(session: Session, scopes: Sequence[str]) -> list[ChangedFeed]:
    """The first page of every feed of each scope, in every format (none for a scope whose
    category, tag or author is gone). Combined category feeds are not among them: their
    answers carry each category's surrogate key, so purges by key reach them, and they
    advertise no hub (feeds.render.describe)."""
    parts = {scope: scope_parts(scope) for scope in scopes}
    slugs = queries.term_slugs(
        session, [(kind, term_id) for kind, term_id, _ in parts.values() if term_id is not None]
    )
    feeds = []
    for scope, (kind, term_id, language) in parts.items():
        if term_id is not None and (kind, term_id) not in slugs:
            feeds.append(ChangedFeed(scope, ()))
            continue
        named = (slugs[kind, term_id],) if term_id is not None else ()
        specs = tuple(FeedSpec(fmt, kind, named, language) for fmt in FeedFormat)
        feeds.append(ChangedFeed(scope, specs))
    return feeds


def deliver_in_background(store: Store, settings: Settings) -> threading.Event | None:
    """Deliver the outbox from a daemon thread of this process, as ``feeds serve`` does
    when ``push_in_server`` is on and hubs or purges are configured; the event stops it.
    None when there is nothing to do. ConfigError for a purge whose token is missing."""
    from feeds.push.senders import senders_from

    senders = senders_from(settings) if settings.push_in_server else []
    if not senders:
        if not settings.push_in_server:
            return None  # feeds worker delivers, with its own config
        with store.writing() as session:  # no hub or purge any more: stop recording changes
            outbox.ensure_targets(session, [], datetime.now(UTC))
            session.commit()
        return None
    stop = threading.Event()
    delivery = Delivery(store, settings, senders)
    delivery.start_targets()
    threading.Thread(
        target=delivery.run_forever, args=(stop,), name="feeds-outbox", daemon=True
    ).start()
    return stop
