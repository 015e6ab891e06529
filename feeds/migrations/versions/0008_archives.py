"""Archived feeds (RFC 5005 section 4): where each sealed archive of a scope ends.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10

The bounds are sealed by ``feeds db upgrade`` after this migration (it has the settings:
``items_per_feed`` and ``archive_size``), and by every later write to a scope.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from feeds.store.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "archive_bounds",
        sa.Column("scope", sa.String(300), nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_published", UTCDateTime(), nullable=False),
        sa.Column("last_post_id", sa.Integer(), nullable=False),
        sa.Column("sealed", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "number", name="pk_archive_bounds"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("archive_bounds")
