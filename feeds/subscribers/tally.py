"""The polls a process answered, tallied in memory and written to the store in the background.

A poll only sets one key of a dict, (path, User-Agent, address): no parsing, no hashing, no
lock (setting a dict item is atomic), no database. Every FLUSH_SECONDS a thread of the
process takes the dict that was retired at the previous flush (so that no request thread
still holding it can write after it is read) and puts a fresh one in place; it then turns
each distinct poll into an aggregator's count or a reader's keyed hash and writes them in
one transaction (feeds.store.subscribers). The dict holds at most MAX_PENDING polls between
flushes; past that, polls are not counted rather than let memory grow.

Counted: answers to GET and HEAD of a feed (200 or 304), from a client that is not a
browser (browsers send Sec-Fetch-Mode: a person looking at a feed is not subscribed).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import weakref
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.wsgi import get_path_info

from feeds.server.flusher import Flusher
from feeds.serving.spec import FeedSpec
from feeds.settings import Settings
from feeds.store import Store, StoreUnavailable
from feeds.store import subscribers as stored
from feeds.subscribers.agents import aggregator_report, is_reader

FLUSH_SECONDS = 10.0
MAX_PENDING = 50_000
# A longer User-Agent is cut to this many characters before it is parsed or hashed.
MAX_USER_AGENT = 512
MAX_FEED_KEY = 500
log = logging.getLogger(__name__)

Poll = tuple[str, str, str]  # PATH_INFO, User-Agent, address


def feed_key(spec: FeedSpec) -> str:
    """The feed a poll counts for: its path without the format's extension, the page or the
    archive (``/fr/feeds/category/news``), so that the Atom and RSS forms of a feed, and
    its pages, are one feed."""
    return spec.at_archive(None).path.removesuffix(f".{spec.format.value}")


class PollTally:
    """The polls one app answered since its last flush, and their way to ``store``."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.store = store
        self._pending: dict[Poll, None] = {}
        self._retired: dict[Poll, None] = {}
        self._flushing = threading.Lock()
        self._pruned: date | None = None
        self._key: tuple[date, bytes] | None = None  # today's hash key, once read
        self._feed_key: Callable[[str], str | None] = lru_cache(maxsize=4096)(
            lambda path: _feed_of(settings, path)
        )
        _register(self)

    def saw(self, environ: dict[str, Any]) -> None:
        """Count a feed poll (its answer was 200 or 304); a browser's is not counted."""
        pending = self._pending
        if "HTTP_SEC_FETCH_MODE" in environ or len(pending) >= MAX_PENDING:
            return
        pending[
            (
                environ.get("PATH_INFO", ""),
                environ.get("HTTP_USER_AGENT", ""),
                environ.get("REMOTE_ADDR", ""),
            )
        ] = None

    def flush(self, now: datetime | None = None, *, everything: bool = False) -> None:
        """Write the polls retired at the previous flush, and retire the pending ones
        (``everything``: write those too, when no request can come any more)."""
        with self._flushing:
            batch, self._retired, self._pending = self._retired, self._pending, {}
            if everything:
                batch, self._retired = {**batch, **self._retired}, {}
            if batch:
                self._write(list(batch), now or datetime.now(UTC))

    def _write(self, polls: list[Poll], now: datetime) -> None:
        counts: dict[tuple[str, str, str], int] = {}
        readers: set[tuple[str, str]] = set()
        try:
            with self.store.writing.begin() as session:
                key = self._day_key(session, now.date())
                for path, user_agent, address in polls:
                    feed = self._feed_key(path)
                    if feed is None:
                        continue
                    user_agent = user_agent[:MAX_USER_AGENT]
                    report = aggregator_report(user_agent)
                    if report is not None:
                        where = (feed, report.service, report.feed_id)
                        counts[where] = max(counts.get(where, 0), report.subscribers)
                    elif is_reader(user_agent):
                        readers.add((feed, reader_hash(key, address, user_agent)))
                service_counts = [stored.ServiceCount(*where, n) for where, n in counts.items()]
                stored.record_polls(session, now, service_counts, readers)
                if self._pruned != now.date():
                    stored.prune(session, now.date())
                    self._pruned = now.date()
        except (StoreUnavailable, SQLAlchemyError) as error:
            # The polls are dropped: their readers poll again, and report again.
            log.warning("subscriber counts not written: %s", str(error).splitlines()[0])

    def _day_key(self, session: Session, day: date) -> bytes:
        if self._key is None or self._key[0] != day:
            self._key = (day, stored.day_key(session, day))
        return self._key[1]


def reader_hash(key: bytes, address: str, user_agent: str) -> str:
    """A reader's HMAC-SHA256 of (address, User-Agent) under a day's ``key``, in hex."""
    message = f"{address}\n{user_agent}".encode("utf-8", "surrogateescape")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _feed_of(settings: Settings, raw_path: str) -> str | None:
    try:
        spec = FeedSpec.from_url(settings, get_path_info({"PATH_INFO": raw_path}))
    except Exception:  # any error the path gives is the feed endpoint's to answer
        return None
    key = feed_key(spec) if spec is not None else None
    return key if key is not None and len(key) <= MAX_FEED_KEY else None


# Every tally of this process, flushed by one thread of its own (its writes reach the
# database: they must not hold up the hit path's flusher); a tally no app holds any more is
# dropped from the set by itself.
_tallies: weakref.WeakSet[PollTally] = weakref.WeakSet()
_lock = threading.Lock()


def _flush_all(everything: bool = False) -> None:
    with _lock:
        tallies = list(_tallies)
    for tally in tallies:
        try:
            tally.flush(everything=everything)
        except Exception:  # a bug in one app's tally must not keep the others' counts back
            log.exception("subscriber counts of one app not written")


_FLUSHER = Flusher("feeds-subscribers", FLUSH_SECONDS)
_FLUSHER.on_flush(_flush_all, at_exit=lambda: _flush_all(everything=True))


def _register(tally: PollTally) -> None:
    """Flush ``tally`` every FLUSH_SECONDS, in this process's subscribers thread."""
    with _lock:
        _tallies.add(tally)
    _FLUSHER.start()
