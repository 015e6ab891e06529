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
from functools import cache

from sqlalchemy import ColumnElement, Select, String, bindparam, func, literal, select
from sqlalchemy.orm import Session

from feeds.serving.spec import PageCursor, ScopeKind
from feeds.settings import Settings
from feeds.store.keyset import Position, past
from feeds.store.models import ArchiveBound, Category, ScopeEntry
from feeds.store.scopes import SITE_SCOPE, scope_key, scope_parts
from feeds.store.types import UTCDateTime

# The parameters of the statements built once: which scope, and when.
_SCOPE = bindparam("scope", type_=String())
_NOW = bindparam("now", type_=UTCDateTime())
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
    scope: str | ColumnElement[str],
    after: PageCursor | Position | None = None,
    through: PageCursor | None = None,
    now: datetime | ColumnElement[datetime] | None = None,
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


def newest_archive_number(scope: str | ColumnElement[str]) -> Select[int | None]:
    """SELECT of the number of the newest sealed archive of ``scope`` (NULL: none yet)."""
    return select(func.max(ArchiveBound.number)).where(ArchiveBound.scope == scope)


def subscription_size(
    session: Session, scope: str, now: datetime, feed_size: int, archive_size: int
) -> tuple[int, int | None]:
    """How many posts the subscription document of ``scope`` shows at ``now``: every post
    after the last bound, at least ``feed_size``; and the number of the newest sealed
    archive (None: none yet). One statement, which walks at most ``feed_size +
    archive_size - 1`` index rows."""
    count = _subscription_count(feed_size + archive_size - 1)
    shown, newest = session.execute(count, {"scope": scope, "now": now}).one()
    return max(shown, feed_size), newest


@cache
def _subscription_count(most: int) -> Select[int, int | None]:
    """How many posts (up to ``most``) follow the last bound of the scope (parameter
    ``scope``) at ``now`` (parameter), and the newest archive's number. Built once."""
    after_bound = _after_last_bound().limit(most).subquery()
    count = select(func.count()).select_from(after_bound).scalar_subquery()
    return select(count, newest_archive_number(_SCOPE).scalar_subquery())


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


def _last_bound(scope: str | ColumnElement[str]) -> Position:
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
    probe = {"scope": scope, "now": now}
    if session.scalar(_fullness_probe(feed_size + archive_size), probe) is None:
        return False
    number = session.scalar(newest_archive_number(scope)) or 0
    sealing = _after_last_bound().add_columns(ScopeEntry.published).offset(archive_size - 1)
    while True:
        post_id, published = session.execute(sealing.limit(1), probe).one()
        number += 1
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
        if session.scalar(_fullness_probe(feed_size + archive_size), probe) is None:
            return True


@cache
def _fullness_probe(full_size: int) -> Select[int]:
    """Whether the scope's next archive is full: the id of the ``full_size``th post visible
    at ``now`` after its last bound, nearly always absent, so that a write decodes no row.
    Full then, since ``items_per_feed`` posts follow the ``archive_size`` sealed, and the
    subscription document starts after the new bound. Built once: a write pays no
    statement building."""
    return _after_last_bound().offset(full_size - 1).limit(1)


def _after_last_bound() -> Select[int]:
    """The posts of the scope (parameter ``scope``) after its last bound, visible at
    ``now`` (parameter), oldest first, in one statement that reads the bound itself."""
    return (
        select(ScopeEntry.post_id)
        .where(*archive_range(_SCOPE, after=_last_bound(_SCOPE), now=_NOW))
        .order_by(ScopeEntry.published, ScopeEntry.post_id)
    )
