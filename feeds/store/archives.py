"""Archived feeds (RFC 5005 section 4): sealing the fixed ranges of each archive scope, and
where a scope's subscription document starts.

The site scope and each category scope (every language) have archives. Archive n holds
the scope's posts after archive n-1's bound up to and including its own (ArchiveBound).
Once at least ``items_per_feed + archive_size`` posts visible now follow the last bound,
the oldest ``archive_size`` of them are sealed as the next archive, and the bound never
moves. Only sealed archives exist: the subscription document (the feed's first page)
holds every post after the last bound, so it never shows fewer than ``items_per_feed``
posts (when the scope has them) nor more than ``items_per_feed + archive_size - 1``.

Every write seals the archive scopes it touches (feeds.store.index.touch_scopes), with
one statement per scope when nothing is full; ``feeds db upgrade`` seals every scope of a
store written before archives existed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Select, func, literal, select
from sqlalchemy.orm import Session

from feeds.serving.spec import PageCursor, ScopeKind
from feeds.settings import Settings
from feeds.store.keyset import Position, past
from feeds.store.models import ArchiveBound, Category, ScopeEntry
from feeds.store.scopes import SITE_SCOPE, scope_key, scope_parts
from feeds.store.types import UTCDateTime

# Below every post's position: where a scope with no sealed archive starts.
_START = PageCursor(datetime.min.replace(tzinfo=UTC), 0)


def is_archive_scope(scope: str) -> bool:
    """Whether a scope key (feeds.store.scopes.scope_key) has archives: ``site``, ``cat:3``."""
    kind, _, language = scope_parts(scope)
    return kind in (ScopeKind.SITE, ScopeKind.CATEGORY) and language is None


def bound_position(bound: ArchiveBound) -> PageCursor:
    """The position of the last post of the archive a bound closes."""
    return PageCursor(bound.last_published, bound.last_post_id)


def archive_range(
    scope: str,
    after: PageCursor | Position | None = None,
    through: PageCursor | None = None,
    now: datetime | None = None,
) -> list[ColumnElement[bool]]:
    """The conditions on ScopeEntry of a range of ``scope``: after one position, up to and
    including another, visible at ``now``; each left out when None. One index range scan."""
    conditions = [ScopeEntry.scope == scope]
    if now is not None:
        conditions.append(ScopeEntry.published <= now)
    if after is not None:
        conditions.append(past(after, ScopeEntry.published, ScopeEntry.post_id, older=False))
    if through is not None:
        # Post ids are integers: up to and including id n is below n + 1.
        below = PageCursor(through.published, through.post_id + 1)
        conditions.append(past(below, ScopeEntry.published, ScopeEntry.post_id, older=True))
    return conditions


def newest_archive_number(scope: str) -> Select[int | None]:
    """SELECT of the number of the newest sealed archive of ``scope`` (NULL: none yet)."""
    return select(func.max(ArchiveBound.number)).where(ArchiveBound.scope == scope)


def subscription_size(
    session: Session, scope: str, now: datetime, feed_size: int, archive_size: int
) -> tuple[int, int | None]:
    """How many posts the subscription document of ``scope`` shows at ``now``: every post
    after the last bound, at least ``feed_size``; and the number of the newest sealed
    archive (None: none yet). One statement, which walks at most ``feed_size +
    archive_size - 1`` index rows."""
    after_bound = (
        select(ScopeEntry.post_id)
        .where(*archive_range(scope, after=_last_bound(scope), now=now))
        .limit(feed_size + archive_size - 1)
        .subquery()
    )
    count = select(func.count()).select_from(after_bound).scalar_subquery()
    shown, newest = session.execute(
        select(count, newest_archive_number(scope).scalar_subquery())
    ).one()
    return max(shown, feed_size), newest


def seal_archives(
    session: Session, scopes: Iterable[str], settings: Settings, now: datetime
) -> list[str]:
    """Seal every archive that is full, at ``now``, in the archive scopes among ``scopes``;
    the scopes where one was sealed.

    Each check is one statement reading at most ``items_per_feed + archive_size`` rows of
    the scope index, from the last bound on: never a scan of the scope, at any store size."""
    sealed = []
    for scope in sorted({scope for scope in scopes if is_archive_scope(scope)}):
        if _seal_scope(session, scope, settings.items_per_feed, settings.archive_size, now):
            sealed.append(scope)
    return sealed


def seal_every_archive_scope(session: Session, settings: Settings, now: datetime) -> list[str]:
    """Seal what is full in the site scope and every category's: a store written before
    archives existed (or before ``archive_size`` shrank) catching up. The scopes sealed."""
    categories = session.scalars(select(Category.id))
    category_scopes = [scope_key(ScopeKind.CATEGORY, category_id) for category_id in categories]
    return seal_archives(session, [SITE_SCOPE, *category_scopes], settings, now)


def _last_bound(scope: str) -> Position:
    """The position of the last bound of ``scope`` as the database reads it within a
    statement (two primary key seeks), or, before the first is sealed, the start."""
    newest = (
        select(ArchiveBound.last_published, ArchiveBound.last_post_id)
        .where(ArchiveBound.scope == scope)
        .order_by(ArchiveBound.number.desc())
        .limit(1)
    )
    published = newest.with_only_columns(ArchiveBound.last_published).scalar_subquery()
    post_id = newest.with_only_columns(ArchiveBound.last_post_id).scalar_subquery()
    return (
        func.coalesce(published, literal(_START.published, UTCDateTime())),
        func.coalesce(post_id, literal(_START.post_id)),
    )


def _seal_scope(
    session: Session, scope: str, feed_size: int, archive_size: int, now: datetime
) -> bool:
    """Seal the full archives of one scope, oldest first; whether any was."""

    def after(position: PageCursor | Position) -> Select[int]:
        return (
            select(ScopeEntry.post_id)
            .where(*archive_range(scope, after=position, now=now))
            .order_by(ScopeEntry.published, ScopeEntry.post_id)
        )

    # Full when feed_size posts follow the archive_size after the bound: the subscription
    # document then starts after the new bound. Asked as one post id, nearly always
    # absent, in one statement with the bound, so that a write decodes no row.
    full = after(_last_bound(scope)).offset(archive_size + feed_size - 1).limit(1)
    if session.scalar(full) is None:
        return False
    last = session.scalars(
        select(ArchiveBound)
        .where(ArchiveBound.scope == scope)
        .order_by(ArchiveBound.number.desc())
        .limit(1)
    ).first()
    number, position = (last.number, bound_position(last)) if last else (0, _START)
    while True:
        sealing = after(position).add_columns(ScopeEntry.published).offset(archive_size - 1)
        post_id, published = session.execute(sealing.limit(1)).one()
        number += 1
        position = PageCursor(published, post_id)
        session.add(
            ArchiveBound(
                scope=scope,
                number=number,
                last_published=published,
                last_post_id=post_id,
                sealed=now,
            )
        )
        session.flush()
        if session.scalar(after(position).offset(archive_size + feed_size - 1).limit(1)) is None:
            return True
