"""The commands that set up the store: ``init``, ``db upgrade``, ``db current``, ``demo``."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from feeds.cli.group import with_store
from feeds.settings import Settings
from feeds.store import Store


@click.command()
@with_store("create")
def init(settings: Settings, store: Store) -> None:
    """Create the post store's schema in the configured database (runs the migrations)."""
    _say_schema(store)
    _seal_archives(settings, store)


@click.group("db")
def db_group() -> None:
    """The database schema: its migrations."""


@db_group.command("upgrade")
@with_store("create")
def db_upgrade(settings: Settings, store: Store) -> None:
    """Bring the schema to the newest migration, keeping every post, and seal the archives
    a store written before archives existed has full."""
    _say_schema(store)
    _seal_archives(settings, store)


@db_group.command("current")
@with_store("any")
def db_current(_settings: Settings, store: Store) -> None:
    """Say which migration the database is at, and which this feeds needs."""
    from feeds.store.db import head_revision

    current = store.schema_revision()
    head = head_revision()
    state = "up to date" if current == head else "behind: run `feeds db upgrade`"
    click.echo(f"database at {current or 'no schema'}, feeds needs {head}: {state}")
    if current != head:
        sys.exit(1)


def _seal_archives(settings: Settings, store: Store) -> None:
    from feeds.store.archives import seal_every_archive_scope
    from feeds.store.index import touch_scopes

    now = datetime.now(UTC)
    with store.writing() as session:
        sealed = seal_every_archive_scope(session, settings, now)
        if sealed:  # so that running servers render those feeds again
            touch_scopes(session, sealed, now, settings)
        session.commit()
    if sealed:
        click.echo(f"archives sealed in {len(sealed)} feed scopes")


def _say_schema(store: Store) -> None:
    revision = store.schema_revision()
    where = store.engine.url.render_as_string(hide_password=True)
    click.echo(f"schema at migration {revision} in {where}")


@click.command()
@click.option(
    "--posts",
    "count",
    type=click.IntRange(0),
    default=1000,
    show_default=True,
    help="How many generated posts besides the sample page's own.",
)
@with_store("create")
def demo(settings: Settings, store: Store, count: int) -> None:
    """Load the demo blog: the sample page's posts plus COUNT generated ones.

    Running it again adds only the posts that are missing.
    """
    from feeds.tools.demo import demo_posts, load_demo, seed_data

    total = len(seed_data()["posts"]) + count
    with (
        store.writing() as session,
        click.progressbar(
            demo_posts(settings, count), length=total, label="demo posts", file=sys.stderr
        ) as posts,
    ):
        result = load_demo(session, settings, posts)
        session.commit()
    click.echo(f"demo loaded: {result.created} created, {result.unchanged} already there")
