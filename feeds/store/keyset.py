"""The keyset condition: rows past a (date, post id) position, the one way every paged or
ranged read (older feed pages, archives, the admin listing) walks an index from a point."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, literal, tuple_

from feeds.serving.spec import PageCursor
from feeds.store.types import UTCDateTime

# A position in SQL: (date, post id), as literals or as expressions the database works out
# (a scalar subquery reading an archive's bound).
Position = tuple[ColumnElement[datetime], ColumnElement[int]]


def position_of(cursor: PageCursor) -> Position:
    """A cursor's position as SQL literals."""
    return literal(cursor.published, UTCDateTime()), literal(cursor.post_id)


def past(
    cursor: PageCursor | Position,
    date: SQLColumnExpression[datetime],
    post_id: SQLColumnExpression[int],
    *,
    older: bool,
) -> ColumnElement[bool]:
    """(date, post id) below the cursor's position (``older``), else above it.

    The row value is PostgreSQL's index condition; SQLite starts its walk along an index
    (on an expression too, as ix_posts_listing) only from the plain date comparison beside it."""
    published, number = position_of(cursor) if isinstance(cursor, PageCursor) else cursor
    position = tuple_(published, number)
    if older:
        return and_(date <= published, tuple_(date, post_id) < position)
    return and_(date >= published, tuple_(date, post_id) > position)
