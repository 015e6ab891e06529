"""The senders the settings ask for: one per hub, one per purge target."""

from __future__ import annotations

import os
from collections.abc import Mapping

from feeds.push.purge import CloudflarePurge, FastlyPurge, UrlPurge
from feeds.push.sender import Sender
from feeds.push.websub import WebSubHub
from feeds.serving.links import SiteLinks
from feeds.settings import ConfigError, Settings
from feeds.settings.tables import Purge


def senders_from(settings: Settings, environ: Mapping[str, str] | None = None) -> list[Sender]:
    """Every configured hub and purge target, in the config's order. Purge API tokens come
    from ``environ`` (default: the process environment): ConfigError if one is missing."""
    environ = os.environ if environ is None else environ
    links, timeout = SiteLinks(settings), settings.push_timeout_seconds
    senders: list[Sender] = [WebSubHub(hub, links, timeout) for hub in settings.hubs]
    for position, purge in enumerate(settings.purges):
        senders.append(_purge_sender(f"purges[{position}]", purge, environ, links, timeout))
    return senders


def target_names(settings: Settings) -> list[str]:
    """The outbox names of the configured hubs and purge targets (no token needed)."""
    return [hub.name for hub in settings.hubs] + [purge.name for purge in settings.purges]


def _purge_sender(
    where: str, purge: Purge, environ: Mapping[str, str], links: SiteLinks, timeout: float
) -> Sender:
    if purge.kind == "url":
        return UrlPurge(purge, links, timeout)
    token = environ.get(purge.token_env, "").strip()
    if not token:
        raise ConfigError(f"{where}.token_env: {purge.token_env} is not set in the environment")
    if purge.kind == "fastly":
        return FastlyPurge(purge, token, timeout)
    return CloudflarePurge(purge, token, timeout)
