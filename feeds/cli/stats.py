"""``feeds stats``: who follows each feed, as a table."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from feeds.cli.group import with_store
from feeds.settings import Settings
from feeds.store import Store
from feeds.store.subscribers import WINDOW, FeedSubscribers

HEADINGS = ("feed", "subscribers", "aggregators", "individuals", "services")


@click.command()
@with_store("current")
def stats(settings: Settings, store: Store) -> None:
    """Who follows each feed over the last 7 days: aggregators' counts and readers."""
    from feeds.store.subscribers import feed_subscribers

    with store.session() as session:
        figures = feed_subscribers(session, datetime.now(UTC))
    if not figures:
        click.echo(f"no feed was polled in the last {WINDOW.days} days")
        return
    click.echo("\n".join(table([HEADINGS, *(row(figure) for figure in figures)])))


def row(figure: FeedSubscribers) -> tuple[str, ...]:
    """One feed's line: its figures, and each aggregator's count."""
    counts = (figure.subscribers, figure.aggregators, figure.individuals)
    return (figure.feed, *(str(count) for count in counts), figure.services_line)


def table(rows: list[tuple[str, ...]]) -> list[str]:
    """``rows`` in columns: text left-aligned, numbers right-aligned."""
    widths = [max(len(cells[column]) for cells in rows) for column in range(len(rows[0]))]
    numeric = [column in (1, 2, 3) for column in range(len(widths))]
    return [
        "  ".join(
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(cells, widths, numeric, strict=True)
        ).rstrip()
        for cells in rows
    ]
