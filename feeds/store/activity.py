"""How many posts each feed scope shows, and when its newest was published: what the feeds
page (feeds.web.pages) says of every feed it lists."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from feeds.store.models import ScopeEntry


@dataclass(frozen=True, slots=True)
class ScopeActivity:
    """The posts a scope shows, and the publication date of its newest (None: no post)."""

    posts: int = 0
    newest: datetime | None = None


def scope_activity(
    session: Session, scopes: Collection[str], now: datetime
) -> dict[str, ScopeActivity]:
    """The activity of each of ``scopes`` at ``now``: its posts published by then (a
    scheduled post counts once it is due; drafts have no index rows); a scope with none is
    left out.

    One grouped read of the scope index. Unlike the feeds' reads it walks each scope's whole
    range of the primary key, so its cost grows with the store: the feeds page keeps its
    answer for a store revision (bench/README.md, *Issue 14: directory counts*)."""
    if not scopes:
        return {}
    rows = session.execute(
        select(ScopeEntry.scope, func.count(), func.max(ScopeEntry.published))
        .where(ScopeEntry.scope.in_(sorted(scopes)), ScopeEntry.published <= now)
        .group_by(ScopeEntry.scope)
    )
    return {scope: ScopeActivity(posts, newest) for scope, posts, newest in rows}
