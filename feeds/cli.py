"""The ``feeds`` command: init, demo, serve, check."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from feeds.settings import ConfigError, Settings
from feeds.store import Store, StoreUnavailable


@contextmanager
def _clear_errors() -> Iterator[None]:
    """Turn the errors a user can cause or fix into a message and exit status 1."""
    try:
        yield
    except (ConfigError, StoreUnavailable) as error:
        raise click.ClickException(str(error)) from None


class _Context:
    """What every command shares: the config file named on the command line."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path

    def settings(self) -> Settings:
        with _clear_errors():
            return Settings.load(self.config_path)

    def store(self, settings: Settings) -> Store:
        with _clear_errors():
            return Store(settings.database_url)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
@click.pass_obj
def init(context: _Context) -> None:
    """Create the post store's tables in the configured database."""
    settings = context.settings()
    store = context.store(settings)
    with _clear_errors():
        store.create_schema()
    click.echo(f"schema ready in {store.engine.url.render_as_string(hide_password=True)}")


@main.command()
@click.option(
    "--posts",
    "count",
    type=click.IntRange(0),
    default=1000,
    show_default=True,
    help="How many generated posts besides the sample page's own.",
)
@click.pass_obj
def demo(context: _Context, count: int) -> None:
    """Load the demo blog: the sample page's posts plus COUNT generated ones.

    Running it again adds only the posts that are missing.
    """
    from feeds.demo import demo_posts, load_demo, seed_data

    settings = context.settings()
    store = context.store(settings)
    with _clear_errors():
        store.create_schema()
        total = len(seed_data()["posts"]) + count
        with (
            store.session() as session,
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
@click.pass_obj
def serve(context: _Context, host: str, port: int) -> None:
    """Serve the feeds over HTTP with Flask's own server."""
    from feeds import create_app

    settings = context.settings()
    with _clear_errors():
        app = create_app(settings)
    click.echo(f"serving {settings.site_title!r} feeds on http://{host}:{port}/feeds.json")
    app.run(host=host, port=port)


@main.command()
@click.pass_obj
def check(context: _Context) -> None:
    """Render every feed through the HTTP routes and report what a reader would stumble on."""
    from feeds import create_app
    from feeds.check import feed_problems
    from feeds.spec import every_feed
    from feeds.store import queries

    settings = context.settings()
    with _clear_errors():
        app = create_app(settings)
        with app.extensions["feeds.store"].session() as session:
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
