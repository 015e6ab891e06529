"""What a feeds app holds (settings, store, feed service, the failed-authentication count,
the poll tally), reached through typed accessors instead of string-keyed ``app.extensions``
lookups."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

from flask import Flask, current_app
from flask.sansio.app import App

from feeds.serving.service import FeedService
from feeds.serving.spec import FeedSpec
from feeds.settings import Settings
from feeds.store import Store
from feeds.store.activity import ScopeActivity
from feeds.subscribers.tally import PollTally
from feeds.web.auth import FailedAuthentications

_EXTENSION = "feeds"
Made = TypeVar("Made")


class KeptPerRevision(Generic[Made]):
    """One thing made from the store, kept while the store's revision stays the one it was
    made at, and made again when it moves; with ``at_most_every``, not more often than that
    many seconds (until then the last one made is answered: for what is costly to make and
    may lag a write a little, as the feeds page)."""

    def __init__(self, at_most_every: float = 0.0) -> None:
        self.at_most_every = at_most_every
        self._kept: tuple[int, float, Made] | None = None  # revision, when made, what

    def get(self, revision: int, make: Callable[[], Made]) -> Made:
        """What was made for ``revision`` (or, within ``at_most_every``, last); else
        ``make()``, kept. Threads may make it twice at once; either is kept."""
        kept, now = self._kept, time.monotonic()
        if kept is not None and (kept[0] == revision or now - kept[1] < self.at_most_every):
            return kept[2]
        made = make()
        self._kept = (revision, now, made)
        return made


@dataclass(frozen=True)
class AppState:
    """The parts of one app, made once by create_app."""

    settings: Settings
    store: Store
    service: FeedService
    auth_failures: FailedAuthentications
    tally: PollTally  # who polls the feeds (feeds.subscribers)
    # The feeds page as written in each language (feeds.web.pages), and the posts and newest
    # post of each feed it lists, made again at most every feeds_page_refresh_seconds (the
    # count reads the whole scope index): a language's page first written within that time
    # shows the same counts as the others.
    feeds_pages: KeptPerRevision[dict[str, str]]
    feed_activity: KeptPerRevision[Mapping[FeedSpec, ScopeActivity]]
    # The last feed index made (feeds.web.routes), for the store revision it was made at.
    feed_index: KeptPerRevision[dict[str, Any]] = field(default_factory=KeptPerRevision)


def attach(app: Flask, state: AppState) -> None:
    """Give ``app`` its parts (create_app does it, once)."""
    app.extensions[_EXTENSION] = state


def app_state(app: App | None = None) -> AppState:
    """The parts of ``app``, or of the app handling the current request."""
    return cast(AppState, (app or current_app).extensions[_EXTENSION])
