"""Settings given as arrays of TOML tables: the WebSub hubs (``[[hubs]]``) and the caches
to purge (``[[purges]]``). Each table becomes a frozen dataclass, checked key by key, with
errors that name it (``hubs[0].param: …``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Self, get_type_hints

from feeds.settings.checks import (
    ConfigError,
    refuse_unknown_keys,
    require_absolute_url,
    require_header_safe_url,
)

HUB_PARAMS = ("hub.url", "hub.topic")
MAX_HUB_BATCH = 1000
PURGE_KINDS = ("url", "fastly", "cloudflare")
PURGE_METHODS = ("PURGE", "POST", "GET", "DELETE")
PURGE_API_URLS = {
    "fastly": "https://api.fastly.com",
    "cloudflare": "https://api.cloudflare.com/client/v4",
}
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ConfigTable:
    """One table of an array of tables; subclasses are frozen dataclasses."""

    REQUIRED: ClassVar[tuple[str, ...]] = ()
    __dataclass_fields__: ClassVar[dict[str, Any]]  # what makes it a dataclass, to mypy

    @classmethod
    def from_table(cls, key: str, position: int, table: Any) -> Self:
        """The ``position``-th table of ``key``, its keys and value types checked
        (ConfigError naming ``key[position].<name>``)."""
        where = f"{key}[{position}]"
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: expected a table, got {type(table).__name__}")
        names = [f.name for f in fields(cls)]
        refuse_unknown_keys(f"{where}: ", table, names)
        for name in cls.REQUIRED:
            if name not in table:
                raise ConfigError(f"{where}: {name} is required")
        hints = get_type_hints(cls)
        for name, value in table.items():
            expected = hints[name]
            if isinstance(value, bool) is not (expected is bool) or not isinstance(value, expected):
                raise ConfigError(
                    f"{where}.{name}: expected {expected.__name__}, got {type(value).__name__}"
                )
        try:
            return cls(**table)
        except ConfigError as error:
            raise ConfigError(f"{where}.{error}") from None


@dataclass(frozen=True)
class Hub(ConfigTable):
    """A WebSub hub: every feed links to it (rel="hub"), and a change is published to it by
    a POST of ``hub.mode=publish`` with the changed feeds' URLs in ``param`` (``hub.url``
    or ``hub.topic``, as the hub reads them), at most ``batch`` URLs a request."""

    REQUIRED = ("url",)

    url: str
    param: str = "hub.url"
    batch: int = 100

    def __post_init__(self) -> None:
        require_absolute_url("url", self.url)
        require_header_safe_url("url", self.url)
        if self.param not in HUB_PARAMS:
            raise ConfigError(f"param: {self.param!r} is not one of {', '.join(HUB_PARAMS)}")
        if not 1 <= self.batch <= MAX_HUB_BATCH:
            raise ConfigError(f"batch: must be from 1 to {MAX_HUB_BATCH}")

    @property
    def name(self) -> str:
        """What the hub is known by in the outbox, the CLI and /metrics."""
        return f"hub {self.url}"


@dataclass(frozen=True)
class Purge(ConfigTable):
    """A cache to purge when feeds change (feeds/push/purge.py).

    ``kind = "url"``: a ``method`` request to ``url``, a template with ``{url}`` (the
    feed's absolute URL) or ``{path}``, per changed feed. ``"fastly"`` and ``"cloudflare"``:
    a purge by surrogate key of the ``service_id`` or ``zone_id``, with the API token read
    from the environment variable ``token_env``; ``url`` overrides their API's address.
    """

    REQUIRED = ("kind",)

    kind: str
    url: str = ""
    method: str = "PURGE"
    service_id: str = ""
    zone_id: str = ""
    token_env: str = ""
    soft: bool = False

    def __post_init__(self) -> None:
        if self.kind not in PURGE_KINDS:
            raise ConfigError(f"kind: {self.kind!r} is not one of {', '.join(PURGE_KINDS)}")
        if self.kind == "url":
            self._check_url_template()
            return
        object.__setattr__(self, "url", self.url or PURGE_API_URLS[self.kind])
        require_absolute_url("url", self.url)
        needed = "service_id" if self.kind == "fastly" else "zone_id"
        if not getattr(self, needed):
            raise ConfigError(f"{needed}: required for a {self.kind} purge")
        if not _ENV_NAME.fullmatch(self.token_env):
            raise ConfigError(
                "token_env: the name of the environment variable that holds the API token"
            )

    def _check_url_template(self) -> None:
        if self.method not in PURGE_METHODS:
            raise ConfigError(f"method: {self.method!r} is not one of {', '.join(PURGE_METHODS)}")
        if "{url}" not in self.url and "{path}" not in self.url:
            raise ConfigError("url: a template with {url} or {path} is required")
        try:
            example = self.url.format(url="https://example.com/feeds/all.atom", path="/feeds/all")
        except (KeyError, IndexError, ValueError) as error:
            raise ConfigError(f"url: bad placeholder in {self.url!r}: {error}") from None
        require_absolute_url("url", example)

    @property
    def name(self) -> str:
        """What the purge is known by in the outbox, the CLI and /metrics."""
        if self.kind == "url":
            return f"purge {self.method} {self.url}"
        return f"{self.kind} {self.service_id or self.zone_id}"


def check_unique(key: str, tables: Sequence[Any], attribute: str) -> None:
    """ConfigError if two tables of ``key`` share ``attribute`` (a hub listed twice)."""
    if not isinstance(tables, tuple):
        raise ConfigError(f"{key}: expected a tuple")
    values = [getattr(table, attribute) for table in tables]
    for value in values:
        if values.count(value) > 1:
            raise ConfigError(f"{key}: {value!r} is listed twice")
