"""Alembic migrations: they build the models' schema, and an upgrade keeps every post."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from feeds import create_app
from feeds.migrations import SCHEMA_HEAD
from feeds.settings import Settings
from feeds.store import Store, StoreUnavailable
from feeds.store.db import head_revision
from feeds.store.models import Base
from tests.conftest import REPO, make_settings, parse_feed


def test_migrations_build_exactly_the_models_schema(store: Store) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrading_a_database_with_data_keeps_every_post_id_and_date(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'old.db'}")
    store = Store(settings.database_url)
    store.create_schema("0001")
    published = datetime(2023, 9, 22, 9, 0, tzinfo=UTC)
    with store.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO categories (id, slug, name) VALUES (1, 'tech', 'Tech');")
        )
        connection.execute(
            text(
                "INSERT INTO posts (id, entry_id, slug, title, summary, content_html, language,"
                " status, published, updated, created) VALUES (7, 'urn:uuid:1234', 'old-post',"
                " 'Old “post” & co', 'S', '<p>C</p>', 'en', 'published', :p, :p, :p)"
            ),
            {"p": "2023-09-22 09:00:00.000000"},
        )
        connection.execute(text("INSERT INTO post_categories VALUES (7, 1)"))
        for scope in ("site", "lang:en", "cat:1", "cat:1/lang:en"):
            connection.execute(
                text("INSERT INTO scope_entries VALUES (:s, :p, 7)"),
                {"s": scope, "p": "2023-09-22 09:00:00.000000"},
            )
    try:
        create_app(settings)
    except StoreUnavailable as refused:
        assert "run `feeds db upgrade`" in str(refused)
    else:
        raise AssertionError("the app started on a schema behind the code")

    store.create_schema()
    assert store.schema_revision() == head_revision()
    (entry,) = parse_feed(create_app(settings).test_client().get("/feeds/all.atom").data).entries
    assert entry.id == "urn:uuid:1234"
    assert entry.title == "Old “post” & co"
    assert datetime.fromisoformat(entry.published) == published
    assert datetime.fromisoformat(entry.updated) == published
    assert [tag.term for tag in entry.tags] == ["tech"]


def test_schema_head_is_alembics_head() -> None:
    assert head_revision() == SCHEMA_HEAD


def test_serving_imports_no_alembic(store: Store, settings: Settings) -> None:
    # Each worker checks the schema with a plain query; Alembic would cost it ~11 MiB.
    program = (
        "import sys; from feeds import create_app; from feeds.settings import Settings; "
        f"create_app(Settings.load().replace(database_url={settings.database_url!r})); "
        "print(sorted(name for name in sys.modules if name.split('.')[0] in ('alembic', 'mako')))"
    )
    env = {**os.environ, "FEEDS_CONFIG": str(REPO / "config.toml")}
    done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
