"""The admin API lists posts newest first: an index on (publication or creation date, id).

``GET /api/posts`` pages by keyset on the same position as the feeds' older pages; this
index makes every page of it one range scan, however deep.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_posts_listing", "posts", [sa.text("coalesce(published, created)"), "id"])


def downgrade() -> None:
    op.drop_index("ix_posts_listing", "posts")
