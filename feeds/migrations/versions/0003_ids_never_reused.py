"""Ids never reused: posts, categories and authors get AUTOINCREMENT on SQLite.

Without it SQLite gives a new row the largest id + 1, so deleting the newest post and
creating another handed its id out again, and an old /api/posts/<id> URL named another
post. PostgreSQL's sequences never hand a number out twice: there, nothing changes.

SQLite cannot add AUTOINCREMENT to a table, so each table is recreated (batch mode) with
every row and its ids; the foreign keys that point at it name it, and stay (create_schema
turns foreign keys off while migrations run, so dropping the old copy cascades nowhere).
SQLite's counter starts at the largest id present. For categories, the scope keys of the
revisions and tombstones (``cat:<id>``) remember deleted ones too, and the counter starts
past them, so that no new category inherits an old one's tombstones. Post and author ids
deleted above the largest present before this migration leave no trace: they are the last
that can come back.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("posts", "categories", "authors")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _recreate(autoincrement=True)
    _count_categories_from(_largest_category_id_in_scopes())


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _recreate(autoincrement=False)


def _recreate(autoincrement: bool) -> None:
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass


def _largest_category_id_in_scopes() -> int:
    scopes = op.get_bind().scalars(
        sa.text(
            "SELECT scope FROM scope_revisions WHERE scope LIKE 'cat:%' "
            "UNION SELECT scope FROM deleted_entries WHERE scope LIKE 'cat:%'"
        )
    )
    found = (re.match(r"cat:(\d+)", scope) for scope in scopes)
    return max((int(match[1]) for match in found if match), default=0)


def _count_categories_from(largest: int) -> None:
    bind = op.get_bind()
    counter = bind.scalar(sa.text("SELECT seq FROM sqlite_sequence WHERE name = 'categories'"))
    if counter is None:
        bind.execute(
            sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES ('categories', :n)"),
            {"n": largest},
        )
    elif counter < largest:
        bind.execute(
            sa.text("UPDATE sqlite_sequence SET seq = :n WHERE name = 'categories'"),
            {"n": largest},
        )
