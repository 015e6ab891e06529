"""The feed service: from a FeedSpec to the bytes that answer it, through the cache.

FeedSpec → scope revision (RevisionBoard) → cache (spec, revision) ──hit──► Representation
                                                 │ miss
                                                 ▼
                           store query (latest N in scope) → render → compress → cache

When the store cannot be reached, a feed whose representation is in the cache is served
from it (stale-if-error) for up to ``stale_if_error_seconds`` after it was last known
current; any other feed raises StoreUnavailable (503).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from feeds.render import render_feed
from feeds.server.metrics import CACHE_HITS, CACHE_LOOKUPS, CACHE_MISSES, RENDER_SECONDS
from feeds.serving.cache import FeedCache, Representation
from feeds.serving.spec import BadCombination, FeedFormat, FeedNotFound, FeedSpec
from feeds.settings import Settings
from feeds.store import Store, StoreUnavailable, queries
from feeds.store.revisions import RevisionBoard

CACHE_STALE = CACHE_LOOKUPS.labels("stale")


class Served(NamedTuple):
    """A representation and how it was found: ``cache`` is "hit", "miss" (rendered now) or
    "stale" (from the cache, the store unreachable; ``stale_seconds`` since it was last
    known current)."""

    representation: Representation
    cache: str
    stale_seconds: int | None = None


class FeedService:
    """Answers feed requests of one process: settings, store, revisions and cache."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.revisions = RevisionBoard(store, settings.revision_check_seconds)
        self.cache = FeedCache(settings.cache_bytes)
        self.stale_if_error = timedelta(seconds=settings.stale_if_error_seconds)

    def representation(self, spec: FeedSpec, now: datetime | None = None) -> Served:
        """The current representation of ``spec`` and how it was found; with the store
        unreachable, the cached one while it is recent enough (see ``stale``).

        Raises FeedNotFound for a category, tag or author the store does not have,
        BadCombination for one in a combined feed, StoreUnavailable
        when the store cannot be reached and the cache has nothing to answer with."""
        now = now or datetime.now(UTC)
        cached = self.cache.get(spec)
        try:
            view = self.revisions.view()
            revision = view.revision_for(spec)
            if cached is not None and cached.is_current(revision, now):
                CACHE_HITS.inc()
                return Served(cached, "hit")
            with RENDER_SECONDS.time():
                fresh = self.render(spec, revision, now)
        except StoreUnavailable:
            stale = self.stale(spec, cached, now)
            if stale is None:
                raise
            CACHE_STALE.inc()
            return stale
        CACHE_MISSES.inc()
        self.cache.put(spec, fresh)
        return Served(fresh, "miss")

    def site_updated(self, now: datetime | None = None) -> datetime:
        """When the site's content last changed: the update time of its site feed (its
        newest entry or tombstone), read through the cache like any feed."""
        return self.representation(FeedSpec(FeedFormat.ATOM), now).representation.last_modified

    def stale(self, spec: FeedSpec, cached: Representation | None, now: datetime) -> Served | None:
        """``cached`` served stale, if it was known current less than stale_if_error ago.

        It was known current at the last successful revision read if its revision was the
        scope's then; otherwise (its feed had changed, unseen) only when it was rendered."""
        if cached is None:
            return None
        known_at = cached.rendered_at
        view, confirmed_at = self.revisions.last_known()
        if confirmed_at is not None and confirmed_at > known_at:
            try:
                revision = view.revision_for(spec)
            except (FeedNotFound, BadCombination):  # gone since it was cached
                revision = None
            if revision is not None and cached.is_current(revision, confirmed_at):
                known_at = confirmed_at
        age = max(now - known_at, timedelta(0))
        if age > self.stale_if_error:
            return None
        return Served(cached, "stale", int(age.total_seconds()))

    def render(self, spec: FeedSpec, revision: int, now: datetime) -> Representation:
        """Query and render ``spec`` as it is at ``now``, labelled with ``revision``."""
        with self.store.reaching(), self.store.session() as session:
            content = queries.feed_content(
                session,
                spec,
                now=now,
                limit=self.settings.items_per_feed,
                deleted_window=timedelta(days=self.settings.deleted_entries_days),
                archive_size=self.settings.archive_size,
            )
        rendered = render_feed(spec, self.settings, content)
        return Representation.of(
            rendered, revision, content.valid_until, rendered_at=now, immutable=content.final
        )
