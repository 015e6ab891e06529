"""What a process knows of the store's revisions, refreshed at most every few moments.

A feed request needs the revision of its scope to tell whether its cached bytes are
current. Reading it from the database on every poll would cost a query per request, so
each process keeps a RevisionView and re-reads it only when it is older than the
configured staleness bound: one primary-key read of the store's own revision, and a full
reload of the revision table and of the slugs of categories, tags and authors only when
that moved. A write in any
process or instance is therefore seen everywhere within the bound.

When the database cannot be reached, the failure is remembered for RETRY_SECONDS only:
meanwhile requests are told at once (StoreUnavailable, so that cached feeds can be served
stale) instead of each trying to connect, and the first read after it that succeeds ends
the outage, with no restart.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select

from feeds.serving.spec import FeedSpec, ScopeKind
from feeds.store.db import Store, StoreUnavailable
from feeds.store.models import STORE_SCOPE, TERM_MODELS, ScopeRevision
from feeds.store.scopes import feed_scopes

# How long a failed read is taken as the answer before the database is tried again: at most
# ten connection attempts a second per process during an outage, and recovery seen within
# a tenth of a second of the database's return.
RETRY_SECONDS = 0.1
MEMO_SIZE = 4096


@dataclass(frozen=True)
class RevisionView:
    """The store's revisions, and the ids of its categories, tags and authors by slug, as
    read at one moment."""

    store_revision: int = -1
    scope_revisions: Mapping[str, int] = field(default_factory=dict)
    term_ids: Mapping[ScopeKind, Mapping[str, int]] = field(default_factory=dict)
    # revision_for's answers: worked out once per feed while this view is current (a poll
    # then costs one dict lookup, as the cache's), at most MEMO_SIZE of them.
    _memo: dict[FeedSpec, int] = field(default_factory=dict, repr=False, compare=False)

    def revision_for(self, spec: FeedSpec) -> int:
        """The revision of the feed ``spec`` (``revision_of(scopes_of(spec))``), remembered
        for this view; raises as ``scopes_of`` does."""
        known = self._memo.get(spec)
        if known is None:
            if len(self._memo) >= MEMO_SIZE:  # older pages' cursors are many: stay bounded
                self._memo.clear()
            known = self._memo[spec] = self.revision_of(self.scopes_of(spec))
        return known

    def scopes_of(self, spec: FeedSpec) -> tuple[str, ...]:
        """The scope keys a feed reads (feeds.store.scopes.feed_scopes: an unknown term is
        UnknownCategory, UnknownTag, UnknownAuthor or BadCombination)."""
        return feed_scopes(spec, self.term_ids.get(spec.kind, {}))

    def revision_of(self, scopes: Iterable[str]) -> int:
        """The revision of a feed reading these scopes: the newest of theirs (0 if nothing
        was ever written to them). Revisions come from one counter for the whole store, so
        it moves whenever any of them does."""
        return max((self.scope_revisions.get(scope, 0) for scope in scopes), default=0)


class RevisionBoard:
    """One process's RevisionView, refreshed when older than ``staleness_seconds``."""

    def __init__(self, store: Store, staleness_seconds: float) -> None:
        self.store = store
        self.staleness_seconds = staleness_seconds
        self._view = RevisionView()
        self._read_at = float("-inf")  # time.monotonic() of the last successful read
        # The last view read and when, on the clock: one tuple, so that it is read whole.
        self._known: tuple[RevisionView, datetime | None] = (self._view, None)
        self._failure: str | None = None  # why the last read failed, if it did
        self._failed_at = float("-inf")
        self._lock = threading.Lock()

    def view(self) -> RevisionView:
        """The current view, re-read from the database if it is older than the bound.

        Raises StoreUnavailable when the database cannot be reached (or could not be,
        less than RETRY_SECONDS ago)."""
        if time.monotonic() - self._read_at < self.staleness_seconds:
            return self._view
        # While the database is failing, a request does not queue behind another's attempt
        # to reach it (a connection attempt can take long): it is told at once.
        failure = self._failure
        if not self._lock.acquire(blocking=failure is None):
            raise StoreUnavailable(failure)
        try:
            started = time.monotonic()
            if started - self._read_at < self.staleness_seconds:
                return self._view
            if self._failure is not None and started - self._failed_at < RETRY_SECONDS:
                raise StoreUnavailable(self._failure)
            confirmed_at = datetime.now(UTC)
            try:
                self._view = self._read()
            except StoreUnavailable as error:
                self._failure, self._failed_at = str(error), time.monotonic()
                raise
            self._read_at, self._failure = started, None
            self._known = (self._view, confirmed_at)
            return self._view
        finally:
            self._lock.release()

    def last_known(self) -> tuple[RevisionView, datetime | None]:
        """The last view read successfully, and when (None: never), for answering from
        the cache while the database cannot be reached."""
        return self._known

    def _read(self) -> RevisionView:
        with self.store.reaching(), self.store.session() as session:
            store_revision = session.scalar(
                select(ScopeRevision.revision).where(ScopeRevision.scope == STORE_SCOPE)
            )
            if store_revision is None:
                store_revision = 0
            if store_revision == self._view.store_revision:
                return self._view
            scopes = session.execute(select(ScopeRevision.scope, ScopeRevision.revision)).all()
            term_ids = {
                kind: {
                    slug: term_id for slug, term_id in session.execute(select(model.slug, model.id))
                }
                for kind, model in TERM_MODELS.items()
            }
        return RevisionView(
            store_revision=store_revision,
            scope_revisions={scope: revision for scope, revision in scopes},
            term_ids=term_ids,
        )
