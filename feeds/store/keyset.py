"""The keyset condition: rows past a (date, post id) position, the one way every paged or
ranged read (older feed pages, archives, the admin listing) walks an index from a point."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, literal, tuple_

from feeds.serving.spec import PageCursor
from feeds.store.types import UTCDateTime


def past(
    cursor: PageCursor,
    date: SQLColumnExpression[datetime],
    post_id: SQLColumnExpression[int],
    *,
    older: bool,
) -> ColumnElement[bool]:
    """(date, post id) below the cursor's position (``older``), else above it.

    The row value is PostgreSQL's index condition; SQLite starts its walk along an index on
    an expression (ix_posts_listing) only from the plain date comparison before it."""
    published = literal(cursor.published, UTCDateTime())
    position = tuple_(published, cursor.post_id)
    if older:
        return and_(date <= published, tuple_(date, post_id) < position)
    return and_(date >= published, tuple_(date, post_id) > position)
