"""The commands of the outbox: ``worker`` delivers it, ``outbox`` says where it stands."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click

from feeds.cli.group import with_store
from feeds.settings import ConfigError, Settings
from feeds.store import Store


@click.command()
@click.option("--once", is_flag=True, help="Deliver what is waiting, then stop.")
@with_store("current")
def worker(settings: Settings, store: Store, once: bool) -> None:
    """Deliver the outbox to the configured hubs and purge targets until stopped.

    `feeds serve` delivers it too (push_in_server); run this instead, or as well, where
    delivery should live in a process of its own. Any number may run: each change is
    delivered by one of them.
    """
    from feeds.push.delivery import Delivery
    from feeds.push.senders import senders_from

    senders = senders_from(settings)
    if not senders:
        raise ConfigError("no [[hubs]] or [[purges]] in the config: nothing to deliver to")
    delivery = Delivery(store, settings, senders)
    if once:
        click.echo(f"announced {delivery.run_once()} changes")
        return
    stop = threading.Event()

    def stop_on(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    for received in (signal.SIGTERM, signal.SIGINT):
        signal.signal(received, stop_on)
    click.echo(f"delivering to {', '.join(delivery.names)}", err=True)
    delivery.run_forever(stop)


@click.command()
@click.option("--failures", "show_failures", is_flag=True, help="List the batches given up on.")
@with_store("current")
def outbox(settings: Settings, store: Store, show_failures: bool) -> None:
    """Where each hub and purge target stands: changes waiting, delivered, failed."""
    from feeds.push.senders import target_names
    from feeds.store import outbox as store_outbox

    names = target_names(settings)
    with store.session() as session:
        statuses = {status.name: status for status in store_outbox.statuses(session, names)}
        failures = store_outbox.failures(session) if show_failures else []
    if not names:
        click.echo("no hubs or purge targets configured")
    for name in names:
        status = statuses.get(name)
        if status is None:
            click.echo(f"{name}: not started yet (no worker or server has run with it)")
            continue
        line = (
            f"{name}: {status.pending} waiting, {status.delivered} delivered, "
            f"{status.failures} given up"
        )
        if status.attempts:
            line += (
                f"; {status.attempts} failed tries, next at {status.next_attempt:%Y-%m-%d %H:%M:%S}"
                f" UTC: {status.last_error}"
            )
        click.echo(line)
    for failure in failures:
        click.echo(
            f"{failure.failed:%Y-%m-%d %H:%M:%S} UTC {failure.target}: changes "
            f"{failure.first_id}-{failure.last_id} ({failure.scopes}) after "
            f"{failure.attempts} tries: {failure.error}"
        )
