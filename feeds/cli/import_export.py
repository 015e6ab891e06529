"""The commands that move posts in and out: ``import wxr|feed|jsonl`` and ``export``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from feeds.cli.group import with_store
from feeds.ingest.runner import DEFAULT_BATCH_SIZE, Importer, ImportOptions
from feeds.settings import Settings
from feeds.store import Store

if TYPE_CHECKING:
    from feeds.ingest.source import Source


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


@click.group("import")
def import_group() -> None:
    """Import posts: a WordPress export, an RSS or Atom feed, or JSON Lines.

    Importing the same file again changes nothing: posts are matched by their id.
    """


@import_group.command("wxr")
@click.argument("file")
@_language_option
@_import_options
@with_store("create")
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
@with_store("create")
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
@with_store("create")
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
    for warning in report.warnings:
        click.echo(f"  {warning.position}: warning: {warning.reason}")


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


@click.command("export")
@click.argument("file", default="-")
@with_store("current")
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
