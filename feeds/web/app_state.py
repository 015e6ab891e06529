"""What a feeds app holds (settings, store, feed service, the failed-authentication count,
the poll tally), reached through typed accessors instead of string-keyed ``app.extensions``
lookups."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

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


@dataclass(frozen=True)
class AppState:
    """The parts of one app, made once by create_app."""

    settings: Settings
    store: Store
    service: FeedService
    auth_failures: FailedAuthentications
    tally: PollTally  # who polls the feeds (feeds.subscribers)
    # The last feed index made (feeds.web.routes), by the store revision it was made at.
    feed_index: dict[int, dict[str, Any]] = field(default_factory=dict)
    # The posts and newest post of each listed feed (feeds.web.pages), likewise.
    feed_activity: dict[int, Mapping[FeedSpec, ScopeActivity]] = field(default_factory=dict)
    # The feeds page as written in each language (feeds.web.pages), likewise.
    feeds_pages: dict[int, dict[str, str]] = field(default_factory=dict)


def attach(app: Flask, state: AppState) -> None:
    """Give ``app`` its parts (create_app does it, once)."""
    app.extensions[_EXTENSION] = state


def app_state(app: App | None = None) -> AppState:
    """The parts of ``app``, or of the app handling the current request."""
    return cast(AppState, (app or current_app).extensions[_EXTENSION])
