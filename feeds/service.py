"""The feed service: from a FeedSpec to the bytes that answer it, through the cache.

FeedSpec → scope revision (RevisionBoard) → cache (spec, revision) ──hit──► Representation
                                                 │ miss
                                                 ▼
                           store query (latest N in scope) → render → compress → cache
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from feeds.cache import FeedCache, Representation
from feeds.metrics import CACHE_HITS, CACHE_MISSES, RENDER_SECONDS
from feeds.render import render_feed
from feeds.settings import Settings
from feeds.spec import FeedSpec
from feeds.store import Store, queries
from feeds.store.revisions import RevisionBoard


class FeedService:
    """Answers feed requests of one process: settings, store, revisions and cache."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.revisions = RevisionBoard(store, settings.revision_check_seconds)
        self.cache = FeedCache(settings.cache_bytes)

    def representation(
        self, spec: FeedSpec, now: datetime | None = None
    ) -> tuple[Representation, bool]:
        """The current representation of ``spec``, and whether it came from the cache
        (else it was rendered and cached now).

        Raises UnknownCategory for a category the store does not have."""
        now = now or datetime.now(UTC)
        view = self.revisions.view()
        revision = view.revision_of(view.scope_of(spec))
        cached = self.cache.get(spec)
        if cached is not None and cached.is_current(revision, now):
            CACHE_HITS.inc()
            return cached, True
        CACHE_MISSES.inc()
        with RENDER_SECONDS.time():
            fresh = self.render(spec, revision, now)
        self.cache.put(spec, fresh)
        return fresh, False

    def render(self, spec: FeedSpec, revision: int, now: datetime) -> Representation:
        """Query and render ``spec`` as it is at ``now``, labelled with ``revision``."""
        with self.store.reaching(), self.store.session() as session:
            content = queries.feed_content(
                session,
                spec,
                now=now,
                limit=self.settings.items_per_feed,
                deleted_window=timedelta(days=self.settings.deleted_entries_days),
            )
        rendered = render_feed(spec, self.settings, content)
        return Representation.of(rendered, revision, content.valid_until)
