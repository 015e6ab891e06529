"""The ``feeds`` command group and what its commands share: the config named on the command
line, the store with the schema a command needs, and one mapping of user errors to
``Error: …`` lines."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

import click

from feeds.ingest.runner import ImportFailed
from feeds.server.listen import CannotListen
from feeds.serving.spec import FeedNotFound
from feeds.settings import ConfigError, Settings
from feeds.store import Store, StoreUnavailable

# The errors a user can cause or fix: each is one line that says what to do. FeedNotFound:
# a category, tag, author or language named on the command line that the site lacks.
_USER_ERRORS = (ConfigError, StoreUnavailable, ImportFailed, CannotListen, FeedNotFound)


class _FeedsGroup(click.Group):
    """The command group: every user error of every command becomes ``Error: …``, exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except _USER_ERRORS as error:
            raise click.ClickException(str(error)) from None


class CommandContext:
    """What every command shares: the config file named on the command line."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path

    def settings(self) -> Settings:
        """The settings, read once per command."""
        return Settings.load(self.config_path)


_Command = TypeVar("_Command", bound=Callable[..., None])


def with_store(schema: str) -> Callable[[_Command], _Command]:
    """Give the command its settings and store, with the schema ``create``d (or upgraded),
    ``current`` (else StoreUnavailable: run `feeds db upgrade`), or ``any``."""

    def decorate(command: _Command) -> _Command:
        @functools.wraps(command)
        @click.pass_obj
        def run(context: CommandContext, /, *args: Any, **kwargs: Any) -> None:
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
    context.obj = CommandContext(config_path)
