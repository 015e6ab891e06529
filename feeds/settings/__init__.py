"""Settings: one object, read once from config.toml and FEEDS_* environment variables.

Every key of the config file can be overridden by an environment variable named
``FEEDS_`` + the key in upper case (``database_url`` → ``FEEDS_DATABASE_URL``).
String keys take the variable's text as it is; other keys take a TOML value
(``FEEDS_ITEMS_PER_FEED=20``, ``FEEDS_LANGUAGES='{en = "English", fr = "Français"}'``,
``FEEDS_HUBS='[{url = "https://hub.example/"}]'``). Keys given as arrays of tables
(``[[hubs]]``, ``[[purges]]``) are checked table by table (feeds/settings/tables.py).
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from feeds.settings.checks import ConfigError, refuse_unknown_keys, require_absolute_url
from feeds.settings.tables import ConfigTable, Hub, Purge, check_unique

CONFIG_ENV = "FEEDS_CONFIG"
ENV_PREFIX = "FEEDS_"
DEFAULT_CONFIG_FILE = "config.toml"
SECRET_KEY = "admin_token"
# FEEDS_* variables that are not settings: the config file, the secret, and the prefixes
# kept for the test suite and the benchmarks.
NOT_SETTINGS = frozenset({CONFIG_ENV, "FEEDS_ADMIN_TOKEN", "FEEDS_ADMIN_TOKEN_FILE"})
RESERVED_PREFIXES = ("FEEDS_TEST_", "FEEDS_BENCH_")


@dataclass(frozen=True)
class Settings:
    """What feeds needs to know about the site it serves."""

    site_title: str = "feeds"
    site_description: str = "Posts from the blog"
    base_url: str = "http://127.0.0.1:8000"
    home_url: str = "http://127.0.0.1:8000/blog"
    language_home_url: str = "http://127.0.0.1:8000/{lang}/blog"
    post_url: str = "{home}/{slug}"
    category_url: str = "{home}/category/{slug}"
    tag_url: str = "{home}/tag/{slug}"
    author_url: str = "{home}/author/{slug}"
    default_language: str = "en"
    languages: Mapping[str, str] = field(default_factory=lambda: {"en": "English"})
    items_per_feed: int = 50
    # Combined category feeds (/feeds/category/a+b.atom): at most this many categories.
    max_combined_categories: int = 4
    # /feeds.json lists a tag's feeds once the tag has this many published posts.
    tag_feed_min_posts: int = 3
    # Posts per sealed archive document (RFC 5005 archived feeds of the site and categories).
    archive_size: int = 50
    cache_max_age: int = 300
    # Shared caches (a CDN, a proxy): how long they hold a feed (s-maxage, at most
    # cache_max_age), and, with cdn_max_age, how long a CDN that is purged on change may.
    shared_max_age: int = 60
    cdn_max_age: int = 0
    stale_while_revalidate_seconds: int = 60
    database_url: str = "sqlite:///feeds.db"
    max_request_bytes: int = 1_048_576
    cache_bytes: int = 67_108_864
    revision_check_seconds: float = 1.0
    deleted_entries_days: int = 30
    wordpress_redirects: bool = True
    wordpress_prefix: str = ""
    access_log: bool = True
    # A browser's top-level navigation to a feed URL (Sec-Fetch-Dest: document) gets the
    # feed's HTML page; every other client gets the feed.
    browser_pages: bool = True
    # The feeds page counts every listed feed's posts (a read of the whole scope index: about
    # 2 s at a million posts): after a write it does so again, but at most this often.
    feeds_page_refresh_seconds: float = 60.0
    # Bounds on the work one input may cause.
    max_terms_per_post: int = 100
    import_max_bytes: int = 268_435_456
    import_max_item_bytes: int = 16_777_216
    import_fetch_seconds: float = 60.0
    import_max_redirects: int = 5
    import_allow_private_addresses: bool = False
    # With the database unreachable, cached feeds are still served this long.
    stale_if_error_seconds: int = 86_400
    auth_failures_per_minute: int = 10
    # WebSub hubs every feed links to, and changes are published to.
    hubs: tuple[Hub, ...] = ()
    # Caches to purge when feeds change (see Purge).
    purges: tuple[Purge, ...] = ()
    # Delivering the outbox to hubs and caches (feeds/push/): in every server process too.
    push_in_server: bool = True
    push_poll_seconds: float = 1.0
    push_timeout_seconds: float = 10.0
    push_lease_seconds: float = 120.0
    push_retry_seconds: float = 5.0
    push_retry_max_seconds: float = 3600.0
    push_max_attempts: int = 10
    # A secret: only from FEEDS_ADMIN_TOKEN or the file FEEDS_ADMIN_TOKEN_FILE names.
    admin_token: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        for name in ("base_url", "home_url"):
            require_absolute_url(name, getattr(self, name))
        if not self.languages:
            raise ConfigError("languages: at least one language is needed")
        if self.default_language not in self.languages:
            raise ConfigError(
                f"default_language: {self.default_language!r} is not one of languages "
                f"({', '.join(self.languages)})"
            )
        for name in ("items_per_feed", "max_combined_categories", "archive_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}: must be at least 1")
        for name in (
            "cache_max_age",
            "shared_max_age",
            "cdn_max_age",
            "stale_while_revalidate_seconds",
            "deleted_entries_days",
            "tag_feed_min_posts",
            "revision_check_seconds",
            "stale_if_error_seconds",
            "import_max_redirects",
            "feeds_page_refresh_seconds",
        ):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name}: must not be negative")
        for name in (
            "max_terms_per_post",
            "import_max_bytes",
            "import_max_item_bytes",
            "import_fetch_seconds",
            "auth_failures_per_minute",
            "push_poll_seconds",
            "push_timeout_seconds",
            "push_lease_seconds",
            "push_retry_seconds",
            "push_retry_max_seconds",
            "push_max_attempts",
        ):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name}: must be positive")
        if self.cache_bytes < 0:
            raise ConfigError("cache_bytes: must not be negative")
        if self.max_request_bytes < 1024:
            raise ConfigError("max_request_bytes: must be at least 1024")
        if self.wordpress_prefix and not (
            self.wordpress_prefix.startswith("/") and not self.wordpress_prefix.endswith("/")
        ):
            raise ConfigError(
                "wordpress_prefix: must start with / and not end with / (or be empty)"
            )
        for name in ("post_url", "category_url", "tag_url", "author_url"):
            template = getattr(self, name)
            if "{slug}" not in template:
                raise ConfigError(f"{name}: must contain {{slug}}")
            require_absolute_url(name, _fill(name, template, home=self.home_url))
        require_absolute_url(
            "language_home_url", _fill("language_home_url", self.language_home_url)
        )
        check_unique("hubs", self.hubs, "url")
        check_unique("purges", self.purges, "name")
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        object.__setattr__(self, "languages", dict(self.languages))

    @classmethod
    def load(
        cls, path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
    ) -> Settings:
        """Read the config file (``path``, else $FEEDS_CONFIG, else ./config.toml if present),
        then apply FEEDS_* overrides from ``environ`` (default: the process environment)."""
        environ = os.environ if environ is None else environ
        chosen = path or environ.get(CONFIG_ENV)
        if chosen is not None:
            values = _read_toml(Path(chosen))
        elif Path(DEFAULT_CONFIG_FILE).is_file():
            values = _read_toml(Path(DEFAULT_CONFIG_FILE))
        else:
            values = {}
        if SECRET_KEY in values:
            raise ConfigError(
                f"{SECRET_KEY}: a secret does not belong in the config file; set "
                f"{ENV_PREFIX}ADMIN_TOKEN or {ENV_PREFIX}ADMIN_TOKEN_FILE in the environment"
            )
        values.update(_environment_overrides(environ))
        values.update(_secret_from_environment(environ))
        return cls.from_mapping(values)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Settings:
        """Build settings from plain values, checking every key and type."""
        refuse_unknown_keys("", values, [f.name for f in fields(cls)])
        for name, value in values.items():
            _check_type(name, value)
        values = dict(values)
        for name, kind in _TABLE_SETTINGS.items():
            if name in values:
                values[name] = tuple(
                    kind.from_table(name, position, table)
                    for position, table in enumerate(values[name])
                )
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        """A copy of these settings with some keys changed."""
        return dataclasses.replace(self, **changes)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from None
    except OSError as error:
        raise ConfigError(f"config file {path} cannot be read: {error.strerror}") from None


def _secret_from_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The admin token, from FEEDS_ADMIN_TOKEN or the file FEEDS_ADMIN_TOKEN_FILE names."""
    variable = ENV_PREFIX + SECRET_KEY.upper()
    if environ.get(variable):
        return {SECRET_KEY: environ[variable].strip()}
    path = environ.get(variable + "_FILE")
    if not path:
        return {}
    try:
        return {SECRET_KEY: Path(path).read_text(encoding="utf-8").strip()}
    except OSError as error:
        raise ConfigError(f"{variable}_FILE: cannot read {path}: {error.strerror}") from None


def _environment_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """The settings FEEDS_* variables set; ConfigError for a FEEDS_* variable that names no
    setting (a misspelling would otherwise be ignored without a word)."""
    known = {ENV_PREFIX + setting.name.upper() for setting in fields(Settings)}
    for variable in sorted(environ):
        if (
            variable.startswith(ENV_PREFIX)
            and variable not in known | NOT_SETTINGS
            and not variable.startswith(RESERVED_PREFIXES)
        ):
            close = difflib.get_close_matches(variable, sorted(known), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise ConfigError(f"{variable}: no such setting{hint}")
    overrides: dict[str, Any] = {}
    for setting in fields(Settings):
        variable = ENV_PREFIX + setting.name.upper()
        if setting.name == SECRET_KEY or variable not in environ:
            continue
        raw = environ[variable]
        if _SETTING_TYPES[setting.name] is str:
            overrides[setting.name] = raw
            continue
        try:
            overrides[setting.name] = tomllib.loads(f"value = {raw}")["value"]
        except tomllib.TOMLDecodeError:
            raise ConfigError(f"{variable}: {raw!r} is not a valid TOML value") from None
    return overrides


def _checked_class(hint: Any) -> type:
    """The class a setting's value must be, as TOML gives it, for its type hint; TypeError
    (at import) for a hint no check is written for."""
    if isinstance(hint, type) and hint in (str, int, bool, float):
        return hint
    origin = get_origin(hint)
    if isinstance(origin, type) and issubclass(origin, Mapping) and get_args(hint) == (str, str):
        return dict  # a TOML table of strings
    if origin is tuple and _table_kind(hint) is not None:
        return list  # a TOML array of tables
    raise TypeError(f"Settings: no type check for {hint}")


def _table_kind(hint: Any) -> type[ConfigTable] | None:
    """The table type of a ``tuple[Hub, ...]`` hint, else None."""
    arguments = get_args(hint)
    if (
        len(arguments) == 2
        and arguments[1] is Ellipsis
        and isinstance(arguments[0], type)
        and issubclass(arguments[0], ConfigTable)
    ):
        return arguments[0]
    return None


# Each setting's real type hint (evaluated, not its annotation's text), and the class it
# is checked against.
_SETTING_TYPES: dict[str, Any] = get_type_hints(Settings)
_SETTING_CLASSES = {name: _checked_class(hint) for name, hint in _SETTING_TYPES.items()}
# The settings given as arrays of tables, and the type of each table.
_TABLE_SETTINGS = {
    name: kind for name, hint in _SETTING_TYPES.items() if (kind := _table_kind(hint)) is not None
}


def _type_name(hint: Any) -> str:
    """``int``, ``Mapping[str, str]``: a type hint as the config's author reads it."""
    if isinstance(hint, type):
        return hint.__name__
    if get_origin(hint) is tuple:
        return "an array of tables"
    arguments = ", ".join(_type_name(argument) for argument in get_args(hint))
    return f"{_type_name(get_origin(hint))}[{arguments}]"


def _check_type(name: str, value: Any) -> None:
    expected = _SETTING_CLASSES[name]
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return  # 2 is a fine number of seconds
    if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
        hint = _type_name(_SETTING_TYPES[name])
        raise ConfigError(f"{name}: expected {hint}, got {type(value).__name__}")
    if isinstance(value, dict) and not all(isinstance(v, str) for v in value.values()):
        raise ConfigError(f"{name}: every value must be a string")


def _fill(name: str, template: str, home: str = "https://example.com") -> str:
    try:
        return template.format(home=home, slug="slug", lang="en")
    except (KeyError, IndexError, ValueError) as error:
        raise ConfigError(f"{name}: bad placeholder in {template!r}: {error}") from None
