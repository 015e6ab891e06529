"""The commands that serve or render the feeds: ``serve``, ``check``, ``build``, ``snippet``."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from feeds.cli.group import CommandContext, with_store
from feeds.settings import Settings
from feeds.store import Store


@click.command()
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
    context: CommandContext,
    host: str,
    port: int,
    production: bool,
    workers: int | None,
    threads: int | None,
) -> None:
    """Serve the feeds over HTTP."""
    import logging.config

    from feeds import create_app
    from feeds.push.delivery import deliver_in_background
    from feeds.push.senders import senders_from
    from feeds.server.dev_server import JsonErrorRequestHandler
    from feeds.server.listen import listen_address
    from feeds.server.production import LOGGING
    from feeds.server.production import serve as serve_production
    from feeds.web.app_state import app_state

    settings = context.settings()
    address = listen_address(host, port)  # a busy port or bad host: one line, before any other
    app = create_app(settings)  # fails here, once, on bad settings or a schema behind
    senders_from(settings)  # a purge token missing: one line here, not one per worker
    click.echo(f"serving {settings.site_title!r} feeds on http://{host}:{port}/feeds.json")
    if production:
        app_state(app).store.dispose()  # each worker creates the app and its pool
        serve_production(address, port, workers, threads, context.config_path)
        return
    logging.config.dictConfig(LOGGING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # feeds logs each request itself
    deliver_in_background(app_state(app).store, settings)
    app.run(host=address, port=port, request_handler=JsonErrorRequestHandler)


@click.command()
@click.argument("directory", type=click.Path(file_okay=False))
@with_store("current")
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


@click.command()
@click.pass_obj
def check(context: CommandContext) -> None:
    """Render every feed through the HTTP routes and report what a reader would stumble on."""
    from feeds import create_app
    from feeds.render.index import listed_feeds
    from feeds.store import queries
    from feeds.tools.check import feed_problems
    from feeds.web.app_state import app_state

    settings = context.settings()
    app = create_app(settings)
    with app_state(app).store.session() as session:
        slugs = [c.slug for c in queries.all_categories(session)]
        listed = queries.listed_terms(session, datetime.now(UTC), settings.tag_feed_min_posts)
    client = app.test_client()
    failures = 0
    specs = listed_feeds(settings, slugs, listed)
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


@click.command()
@click.option("--category", metavar="SLUG", help="A category's page.")
@click.option("--tag", metavar="SLUG", help="A tag's page.")
@click.option("--author", metavar="SLUG", help="An author's page.")
@click.option("--language", metavar="CODE", help="The page in one language (fr, ar…).")
@with_store("current")
def snippet(
    settings: Settings,
    store: Store,
    category: str | None,
    tag: str | None,
    author: str | None,
    language: str | None,
) -> None:
    """Print the autodiscovery <link rel="alternate"> tags (Atom, RSS, JSON Feed) to paste
    into a blog page's <head>: the home page's, or with options a category's, tag's or
    author's page's, in every language or in one."""
    from dataclasses import replace

    from feeds.render.snippet import discovery_tags
    from feeds.serving.spec import FeedFormat, FeedSpec, ScopeKind
    from feeds.store import queries

    named = [
        (kind, slug)
        for kind, slug in (
            (ScopeKind.CATEGORY, category),
            (ScopeKind.TAG, tag),
            (ScopeKind.AUTHOR, author),
        )
        if slug is not None
    ]
    if len(named) > 1:
        raise click.ClickException("give one of --category, --tag, --author, not several")
    scope = FeedSpec.parse(settings, FeedFormat.ATOM.value, language=language)  # UnknownLanguage
    if named:
        kind, slug = named[0]
        scope = replace(scope, kind=kind, slugs=(slug,))  # one slug, even one holding "+"
    with store.session() as session:
        terms = [term for _, term in queries.feed_terms(session, scope)]  # UnknownCategory…
    click.echo(discovery_tags(settings, scope, terms))
