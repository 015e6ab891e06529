"""Settings: config.toml, FEEDS_* overrides, and clear errors for bad configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from feeds.settings import ConfigError, Settings
from tests.conftest import REPO

pytestmark = pytest.mark.backend_independent  # no database


def test_repository_config_loads_with_eleven_languages() -> None:
    settings = Settings.load(REPO / "config.toml", environ={})
    assert settings.site_title == "Ledger Blog"
    assert len(settings.languages) == 11
    assert settings.languages["ar"] == "العربية"
    assert settings.database_url.startswith("sqlite:///")


def test_environment_overrides_every_kind_of_key() -> None:
    environ = {
        "FEEDS_DATABASE_URL": "sqlite:////tmp/other.db",
        "FEEDS_BASE_URL": "https://feeds.example.org/",
        "FEEDS_ITEMS_PER_FEED": "20",
        "FEEDS_LANGUAGES": '{en = "English", fr = "Français"}',
    }
    settings = Settings.load(REPO / "config.toml", environ=environ)
    assert settings.database_url == "sqlite:////tmp/other.db"
    assert settings.base_url == "https://feeds.example.org"
    assert settings.items_per_feed == 20
    assert settings.languages == {"en": "English", "fr": "Français"}


def test_config_file_is_chosen_by_feeds_config(tmp_path: Path) -> None:
    config = tmp_path / "site.toml"
    config.write_text('site_title = "Elsewhere"\n', encoding="utf-8")
    assert Settings.load(environ={"FEEDS_CONFIG": str(config)}).site_title == "Elsewhere"


@pytest.mark.parametrize(
    ("text", "environ", "message"),
    [
        ("site_title = ", {}, "is not valid TOML"),
        ("colour = 'blue'", {}, "unknown key 'colour'"),
        ("items_per_feed = 'many'", {}, "items_per_feed: expected int"),
        ("items_per_feed = 0", {}, "items_per_feed: must be at least 1"),
        ("base_url = '/relative'", {}, "base_url: '/relative' is not an absolute"),
        ("default_language = 'xx'", {}, "default_language: 'xx' is not one of"),
        ("post_url = '/blog/{slug}'", {}, "post_url: '/blog/slug' is not an absolute"),
        ("category_url = '{home}/{nope}'", {}, "category_url: must contain {slug}"),
        ("post_url = '{home}/{nope}/{slug}'", {}, "post_url: bad placeholder"),
        ("", {"FEEDS_ITEMS_PER_FEED": "lots"}, "FEEDS_ITEMS_PER_FEED: 'lots' is not a valid"),
        ("", {"FEEDS_CACHE_MAX_AGE": "true"}, "cache_max_age: expected int"),
    ],
)
def test_bad_configuration_is_refused_with_a_clear_message(
    tmp_path: Path, text: str, environ: dict[str, str], message: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        Settings.load(config, environ=environ)


def test_missing_config_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        Settings.load(tmp_path / "nope.toml", environ={})


def test_admin_token_comes_from_the_environment_or_a_file(tmp_path: Path) -> None:
    assert Settings.load(REPO / "config.toml", environ={}).admin_token == ""
    direct = Settings.load(REPO / "config.toml", environ={"FEEDS_ADMIN_TOKEN": "s3cret"})
    assert direct.admin_token == "s3cret"
    assert "s3cret" not in repr(direct)
    secret = tmp_path / "token"
    secret.write_text("from-file\n", encoding="utf-8")
    from_file = Settings.load(REPO / "config.toml", environ={"FEEDS_ADMIN_TOKEN_FILE": str(secret)})
    assert from_file.admin_token == "from-file"


def test_admin_token_in_the_config_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("admin_token = 'oops'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="a secret does not belong in the config file"):
        Settings.load(config, environ={})


def test_unreadable_token_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="FEEDS_ADMIN_TOKEN_FILE: cannot read"):
        Settings.load(environ={"FEEDS_ADMIN_TOKEN_FILE": str(tmp_path / "missing")})


def test_boolean_keys_take_toml_booleans() -> None:
    environ = {"FEEDS_WORDPRESS_REDIRECTS": "false"}
    assert Settings.load(REPO / "config.toml", environ=environ).wordpress_redirects is False
    with pytest.raises(ConfigError, match="wordpress_redirects: expected bool"):
        Settings.load(REPO / "config.toml", environ={"FEEDS_WORDPRESS_REDIRECTS": "1"})


def test_a_misspelled_environment_variable_is_refused_with_a_hint() -> None:
    with pytest.raises(
        ConfigError, match="FEEDS_ITME_PER_FEED: no such setting; did you mean FEEDS_ITEMS_PER_FEED"
    ):
        Settings.load(REPO / "config.toml", environ={"FEEDS_ITME_PER_FEED": "5"})


def test_variables_of_the_test_suite_and_benchmarks_are_not_settings() -> None:
    environ = {"FEEDS_TEST_DATABASE_URL": "x", "FEEDS_BENCH_PG_PORT": "1", "FEEDS_CONFIG": ""}
    assert Settings.load(REPO / "config.toml", environ=environ).items_per_feed == 50


@pytest.mark.parametrize(
    "key",
    ["max_terms_per_post", "import_max_bytes", "import_fetch_seconds", "auth_failures_per_minute"],
)
def test_bounds_must_be_positive(key: str) -> None:
    with pytest.raises(ConfigError, match=f"{key}: must be positive"):
        Settings.load(REPO / "config.toml", environ={f"FEEDS_{key.upper()}": "0"})
