"""The ``feeds`` command: init, demo, serve, check, build, import, export, db.

One setup for every command: the group reads the config once (``--config``), a command that
needs the store says which schema it needs (``_with_store``), and every error a user can fix
(a bad setting, an unreachable database, a schema behind, a refused import) leaves as one
``Error: …`` line and exit status 1, in one place (``_FeedsGroup``).

The schema policy: commands that write (init, db upgrade, demo, import) create or upgrade
the schema; commands that read (export, build, check, serve) need it current and say to run
``feeds db upgrade`` otherwise.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from feeds.ingest.runner import DEFAULT_BATCH_SIZE, Importer, ImportFailed, ImportOptions
from feeds.server.listen import CannotListen
from feeds.settings import ConfigError, Settings
from feeds.store import Store, StoreUnavailable

if TYPE_CHECKING:
    from feeds.ingest.source import Source


# The errors a user can cause or fix: each is one line that says what to do.
_USER_ERRORS = (ConfigError, StoreUnavailable, ImportFailed, CannotListen)


class _FeedsGroup(click.Group):
    """The command group: every user error of every command becomes ``Error: …``, exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except _USER_ERRORS as error:
            raise click.ClickException(str(error)) from None


class _Context:
    """What every command shares: the config file named on the command line."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path

    def settings(self) -> Settings:
        """The settings, read once per command."""
        return Settings.load(self.config_path)


_Command = TypeVar("_Command", bound=Callable[..., None])


def _with_store(schema: str) -> Callable[[_Command], _Command]:
    """Give the command its settings and store, with the schema ``create``d (or upgraded),
    ``current`` (else StoreUnavailable: run `feeds db upgrade`), or ``any``."""

    def decorate(command: _Command) -> _Command:
        @functools.wraps(command)
        @click.pass_obj
        def run(context: _Context, /, *args: Any, **kwargs: Any) -> None:
            settings = context.settings()
            store = Store(settings.database_url)
            if schema == "create":
                store.create_schema()
            elif schema == "current":
                store.check_schema()
            command(settings, store, *args, **kwargs)

        return cast(_Command, run)

    return decorate


@click.group(cls=_FeedsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar="FEEDS_CONFIG",
    help="The config file (default: $FEEDS_CONFIG, else ./config.toml if present).",
)
@click.pass_context
def main(context: click.Context, config_path: str | None) -> None:
    """feeds: RSS 2.0 and Atom 1.0 feeds of a multilingual blog."""
    context.obj = _Context(config_path)


@main.command()
@_with_store("create")
def init(_settings: Settings, store: Store) -> None:
    """Create the post store's schema in the configured database (runs the migrations)."""
    _say_schema(store)


@main.group("db")
def db_group() -> None:
    """The database schema: its migrations."""


@db_group.command("upgrade")
@_with_store("create")
def db_upgrade(_settings: Settings, store: Store) -> None:
    """Bring the schema to the newest migration, keeping every post."""
    _say_schema(store)


@db_group.command("current")
@_with_store("any")
def db_current(_settings: Settings, store: Store) -> None:
    """Say which migration the database is at, and which this feeds needs."""
    from feeds.store.db import head_revision

    current = store.schema_revision()
    head = head_revision()
    state = "up to date" if current == head else "behind: run `feeds db upgrade`"
    click.echo(f"database at {current or 'no schema'}, feeds needs {head}: {state}")
    if current != head:
        sys.exit(1)


def _say_schema(store: Store) -> None:
    revision = store.schema_revision()
    where = store.engine.url.render_as_string(hide_password=True)
    click.echo(f"schema at migration {revision} in {where}")


@main.command()
@click.option(
    "--posts",
    "count",
    type=click.IntRange(0),
    default=1000,
    show_default=True,
    help="How many generated posts besides the sample page's own.",
)
@_with_store("create")
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


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--production",
    is_flag=True,
    help="Serve with granian (worker processes, keep-alive) instead of Flask's own server.",
)
@click.option("--workers", type=click.IntRange(1), help="Worker processes [default: CPU count]")
@click.option("--threads", type=click.IntRange(1), help="Threads per worker [default: 2]")
@click.pass_obj
def serve(
    context: _Context,
    host: str,
    port: int,
    production: bool,
    workers: int | None,
    threads: int | None,
) -> None:
    """Serve the feeds over HTTP."""
    import logging.config

    from feeds import create_app
    from feeds.server.dev_server import JsonErrorRequestHandler
    from feeds.server.listen import listen_address
    from feeds.server.production import LOGGING
    from feeds.server.production import serve as serve_production
    from feeds.web.app_state import app_state

    settings = context.settings()
    address = listen_address(host, port)  # a busy port or bad host: one line, before any other
    app = create_app(settings)  # fails here, once, on bad settings or a schema behind
    click.echo(f"serving {settings.site_title!r} feeds on http://{host}:{port}/feeds.json")
    if production:
        app_state(app).store.dispose()  # each worker creates the app and its pool
        serve_production(address, port, workers, threads, context.config_path)
        return
    logging.config.dictConfig(LOGGING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # feeds logs each request itself
    app.run(host=address, port=port, request_handler=JsonErrorRequestHandler)


@main.command()
@click.argument("directory", type=click.Path(file_okay=False))
@_with_store("current")
def build(settings: Settings, store: Store, directory: str) -> None:
    """Write every feed (and a .gz of each) into DIRECTORY for nginx or a CDN.

    Incremental and atomic: only feeds whose revision moved are rendered and rewritten.
    """
    from pathlib import Path

    from feeds.serving.service import FeedService
    from feeds.tools.static_build import build_static

    try:
        result = build_static(FeedService(settings, store), Path(directory))
    except OSError as error:
        raise click.ClickException(f"cannot write {directory}: {error.strerror}") from None
    click.echo(
        f"built {directory}: {len(result.written)} written, {len(result.identical)} unchanged, "
        f"{len(result.skipped)} skipped (revision unchanged), {len(result.removed)} removed"
    )


@main.command()
@click.pass_obj
def check(context: _Context) -> None:
    """Render every feed through the HTTP routes and report what a reader would stumble on."""
    from feeds import create_app
    from feeds.serving.spec import every_feed
    from feeds.store import queries
    from feeds.tools.check import feed_problems
    from feeds.web.app_state import app_state

    settings = context.settings()
    app = create_app(settings)
    with app_state(app).store.session() as session:
        slugs = [c.slug for c in queries.all_categories(session)]
    client = app.test_client()
    failures = 0
    specs = every_feed(settings, slugs)
    for spec in specs:
        response = client.get(spec.path)
        problems = (
            feed_problems(spec, response.data)
            if response.status_code == 200
            else [f"HTTP {response.status_code}: {response.get_data(as_text=True)}"]
        )
        for problem in problems:
            click.echo(f"{spec.path}: {problem}", err=True)
        failures += bool(problems)
    click.echo(
        f"checked {len(specs)} feeds: {len(specs) - failures} fine, {failures} with problems"
    )
    if failures:
        sys.exit(1)


# --- import and export -------------------------------------------------------------------


def _import_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options every importer takes."""
    options = [
        click.option(
            "--dry-run",
            is_flag=True,
            help="Run the whole import and report it, then roll it back: nothing is written.",
        ),
        click.option(
            "--strict",
            is_flag=True,
            help="One transaction: the first bad record aborts the import, nothing is written.",
        ),
        click.option(
            "--batch-size",
            type=click.IntRange(1),
            default=DEFAULT_BATCH_SIZE,
            show_default=True,
            help="Commit every N records (not with --strict or --dry-run).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


_language_option = click.option(
    "--language",
    metavar="CODE",
    help="Import every post in this configured language (default: the one the file says).",
)


@main.group("import")
def import_group() -> None:
    """Import posts: a WordPress export, an RSS or Atom feed, or JSON Lines.

    Importing the same file again changes nothing: posts are matched by their id.
    """


@import_group.command("wxr")
@click.argument("file")
@_language_option
@_import_options
@_with_store("create")
def import_wxr_command(settings: Settings, store: Store, file: str, **options: Any) -> None:
    """Import a WordPress export (WXR) FILE: its posts, drafts and scheduled posts.

    Each post keeps its WordPress <guid> as its entry id; pages, attachments, menu items
    and trashed posts are skipped. After it, WordPress feed URLs redirect to the new feeds.
    """
    from feeds.ingest.wxr import WXR_IMPORTER

    _run_import(settings, store, WXR_IMPORTER, file, ImportOptions(**options))


@import_group.command("feed")
@click.argument("url_or_file")
@_language_option
@_import_options
@_with_store("create")
def import_feed_command(settings: Settings, store: Store, url_or_file: str, **options: Any) -> None:
    """Import an RSS or Atom feed's entries, from a URL or a file.

    Each entry keeps its own id (guid, else link), so that readers see no duplicates.
    """
    from feeds.ingest.feed import FEED_IMPORTER

    _run_import(
        settings, store, FEED_IMPORTER, url_or_file, ImportOptions(**options), allow_url=True
    )


@import_group.command("jsonl")
@click.argument("file")
@_import_options
@_with_store("create")
def import_jsonl_command(settings: Settings, store: Store, file: str, **options: Any) -> None:
    """Import JSON Lines FILE (- for standard input): one post a line, as `feeds export`
    writes it. Posts are matched by external_id, else entry_id."""
    from feeds.ingest.jsonl import JSONL_IMPORTER

    _run_import(settings, store, JSONL_IMPORTER, file, ImportOptions(**options))


def _run_import(
    settings: Settings,
    store: Store,
    importer: Importer,
    location: str,
    options: ImportOptions,
    allow_url: bool = False,
) -> None:
    """Open the source, run the importer with a progress bar, print the counts and skips."""
    from feeds.ingest.source import open_source

    with (
        open_source(location, allow_url, settings=settings) as source,
        _progress(source) as progress,
    ):
        report = importer.run(store, settings, source, options, progress)
    click.echo(report.counts() + (" (dry run: nothing was written)" if report.dry_run else ""))
    for skip in report.skips:
        click.echo(f"  {skip.position}: {skip.reason}")


@contextmanager
def _progress(source: Source) -> Iterator[Callable[[], None] | None]:
    """A progress bar on a terminal's stderr, advanced by the bytes the parser has read."""
    if source.size is None or not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(
        length=source.size, label=f"importing {source.name}", file=sys.stderr
    ) as bar:
        yield lambda: bar.update(source.bytes_read - bar.pos)


@main.command("export")
@click.argument("file", default="-")
@_with_store("current")
def export(settings: Settings, store: Store, file: str) -> None:
    """Write every post, drafts too, to FILE (default: standard output) as JSON Lines.

    `feeds import jsonl` reads it back: into an empty store, it gives the same posts.
    """
    from feeds.ingest.export import STDOUT, export_posts

    try:
        count = export_posts(store, settings, file)
    except OSError as error:
        raise click.ClickException(f"cannot write {file}: {error.strerror}") from None
    click.echo(f"exported {count} posts to {file}", err=file == STDOUT)
