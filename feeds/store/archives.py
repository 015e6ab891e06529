"""Archived feeds (RFC 5005 section 4): sealing the fixed ranges of each archive scope.

The site scope and each category scope (every language) have archives. Archive n of a
scope holds its posts after archive n-1's bound up to and including its own bound
(ArchiveBound). Once, after the last bound, the scope holds at least ``items_per_feed +
archive_size`` posts visible now, the oldest ``archive_size`` of them are sealed as the
next archive: none of them can be in the subscription document any more, and the bound
never moves. The posts after the last bound that the subscription document no longer
shows form the open archive (feeds.store.queries.archive_shelf), which becomes the next
sealed one, under the same number, when it is full.

Every write seals the archive scopes it touches (feeds.store.index.touch_scopes); ``feeds
db upgrade`` seals every scope of a store written before archives existed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from feeds.serving.spec import PageCursor
from feeds.settings import Settings
from feeds.store.keyset import past
from feeds.store.models import ArchiveBound, Category, ScopeEntry

_ARCHIVE_SCOPE = re.compile(r"site|cat:[0-9]+")


def is_archive_scope(scope: str) -> bool:
    """Whether a scope key (feeds.store.index.scope_key) has archives: ``site``, ``cat:3``."""
    return _ARCHIVE_SCOPE.fullmatch(scope) is not None


def last_archive_bound(session: Session, scope: str) -> ArchiveBound | None:
    """The bound of the newest sealed archive of ``scope``, if it has one."""
    statement = (
        select(ArchiveBound)
        .where(ArchiveBound.scope == scope)
        .order_by(ArchiveBound.number.desc())
        .limit(1)
    )
    return session.scalar(statement)


def bound_position(bound: ArchiveBound) -> PageCursor:
    """The position of the last post of the archive a bound closes."""
    return PageCursor(bound.last_published, bound.last_post_id)


def archive_range(
    scope: str,
    after: PageCursor | None = None,
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


def seal_archives(
    session: Session, scopes: Iterable[str], settings: Settings, now: datetime
) -> list[str]:
    """Seal every archive that is full, at ``now``, in the archive scopes among ``scopes``;
    the scopes where one was sealed.

    Each check reads at most ``items_per_feed + archive_size`` rows of the scope index,
    from the last bound on: never a scan of the scope, at any store size."""
    sealed = []
    for scope in sorted({scope for scope in scopes if is_archive_scope(scope)}):
        if _seal_scope(session, scope, settings.items_per_feed, settings.archive_size, now):
            sealed.append(scope)
    return sealed


def seal_every_archive_scope(session: Session, settings: Settings, now: datetime) -> list[str]:
    """Seal what is full in the site scope and every category's: a store written before
    archives existed (or before ``archive_size`` shrank) catching up. The scopes sealed."""
    category_scopes = [f"cat:{category_id}" for category_id in session.scalars(select(Category.id))]
    return seal_archives(session, ["site", *category_scopes], settings, now)


def _seal_scope(
    session: Session, scope: str, feed_size: int, archive_size: int, now: datetime
) -> bool:
    """Seal the full archives of one scope, oldest first; whether any was."""
    last = session.execute(
        select(ArchiveBound.number, ArchiveBound.last_published, ArchiveBound.last_post_id)
        .where(ArchiveBound.scope == scope)
        .order_by(ArchiveBound.number.desc())
        .limit(1)
    ).first()
    number, position = (last[0], PageCursor(last[1], last[2])) if last else (0, None)
    first_number = number
    while True:
        after_bound = (
            select(ScopeEntry.published, ScopeEntry.post_id)
            .where(*archive_range(scope, after=position, now=now))
            .order_by(ScopeEntry.published, ScopeEntry.post_id)
        )
        # Full when feed_size posts follow the archive_size after the bound: the
        # subscription document (the newest feed_size) then starts after the new bound.
        # Asked as one post id, nearly always absent, so that a write decodes no row.
        full = after_bound.with_only_columns(ScopeEntry.post_id).offset(
            archive_size + feed_size - 1
        )
        if session.scalar(full.limit(1)) is None:
            break
        published, post_id = session.execute(after_bound.offset(archive_size - 1).limit(1)).one()
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
    return number > first_number
