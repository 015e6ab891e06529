"""Tag and author feeds: authors get a slug, tag ids are never reused, and the scope index
gets the rows of every tag's and author's scopes (alone and in the post's language).

An author's slug is made from the name, as new authors' are (feeds.store.taxonomy), with
-2, -3… when two names give the same one. The index rows and the revisions of the new
scopes are written here, in SQL, for every published post; the store's revision moves on,
so that every process reads the new scopes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from feeds.store.cleaning import ascii_slug, first_free
from feeds.store.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# kind prefix of the scope key, link table, its term column
_TERM_LINKS = (("tag", "post_tags", "tag_id"), ("author", "post_authors", "author_id"))


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("authors") as batch:
        batch.add_column(sa.Column("slug", sa.String(200), nullable=True))
    taken: set[str] = set()
    for author_id, name in bind.execute(sa.text("SELECT id, name FROM authors ORDER BY id")):
        slug = first_free(ascii_slug(name) or "author", taken.__contains__)
        taken.add(slug)
        bind.execute(
            sa.text("UPDATE authors SET slug = :slug WHERE id = :id"),
            {"slug": slug, "id": author_id},
        )
    sqlite = bind.dialect.name == "sqlite"
    counter = _sqlite_counter("authors") if sqlite else None
    with op.batch_alter_table("authors", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.alter_column("slug", existing_type=sa.String(200), nullable=False)
        batch.create_unique_constraint("uq_authors_slug", ["slug"])
    if sqlite:  # ids never reused: the scopes tag:<id> outlive a tag
        _restore_sqlite_counter("authors", counter)
        with op.batch_alter_table(
            "tags", recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ):
            pass
    _index_terms()


def _sqlite_counter(table: str) -> int | None:
    """SQLite's AUTOINCREMENT counter of ``table``: the largest id it ever handed out."""
    counter = op.get_bind().scalar(
        sa.text("SELECT seq FROM sqlite_sequence WHERE name = :table"), {"table": table}
    )
    return int(counter) if counter is not None else None


def _restore_sqlite_counter(table: str, counter: int | None) -> None:
    """Put back a counter that recreating the table (batch mode) set to the largest id
    present, so that the ids of deleted rows above it are not handed out again."""
    if counter is not None and (_sqlite_counter(table) or 0) < counter:
        op.get_bind().execute(
            sa.text("UPDATE sqlite_sequence SET seq = :seq WHERE name = :table"),
            {"seq": counter, "table": table},
        )


def downgrade() -> None:
    bind = op.get_bind()
    for prefix, _, _ in _TERM_LINKS:
        for table in ("scope_entries", "scope_revisions", "deleted_entries"):
            bind.execute(sa.text(f"DELETE FROM {table} WHERE scope LIKE '{prefix}:%'"))  # noqa: S608
    if bind.dialect.name == "sqlite":
        with op.batch_alter_table(
            "tags", recreate="always", table_kwargs={"sqlite_autoincrement": False}
        ):
            pass
    with op.batch_alter_table("authors", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_constraint("uq_authors_slug", type_="unique")
        batch.drop_column("slug")


def _index_terms() -> None:
    """The scope rows of every published post's tags and authors, and their revisions."""
    bind = op.get_bind()
    for prefix, link_table, term_column in _TERM_LINKS:
        term_key = f"'{prefix}:' || CAST(link.{term_column} AS VARCHAR)"
        for key in (term_key, f"{term_key} || '/lang:' || posts.language"):
            bind.execute(
                sa.text(
                    "INSERT INTO scope_entries (scope, published, post_id) "  # noqa: S608
                    f"SELECT {key}, posts.published, posts.id FROM {link_table} AS link "
                    "JOIN posts ON posts.id = link.post_id "
                    "WHERE posts.status = 'published' AND posts.published IS NOT NULL"
                )
            )
    store = bind.scalar(sa.text("SELECT revision FROM scope_revisions WHERE scope = 'store'"))
    if store is None:
        return  # an empty store: nothing was ever indexed
    values = {"revision": store + 1, "now": datetime.now(UTC)}
    now = sa.bindparam("now", type_=UTCDateTime())
    bind.execute(
        sa.text(
            "UPDATE scope_revisions SET revision = :revision, changed = :now WHERE scope = 'store'"
        ).bindparams(now),
        values,
    )
    bind.execute(
        sa.text(
            "INSERT INTO scope_revisions (scope, revision, changed) "
            "SELECT DISTINCT scope, :revision, :now FROM scope_entries "
            "WHERE scope LIKE 'tag:%' OR scope LIKE 'author:%'"
        ).bindparams(now),
        values,
    )
