"""The feeds command: what it does, and the clear messages it gives when it cannot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from feeds.cli import main
from feeds.serving.spec import FeedFormat, FeedSpec
from feeds.store import Store
from feeds.store.db import head_revision
from feeds.store.models import Post
from feeds.tools.check import feed_problems
from tests.conftest import REPO, database_url


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "FEEDS_CONFIG": str(REPO / "config.toml"),
        "FEEDS_DATABASE_URL": database_url(tmp_path, "cli"),
    }


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env, prog_name="feeds")
    return result.exit_code, result.output


def post_count(env: dict[str, str]) -> int:
    store = Store(env["FEEDS_DATABASE_URL"])
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(Post)) or 0


def test_init_creates_the_schema(env: dict[str, str]) -> None:
    code, output = run(env, "init")
    assert code == 0, output
    assert f"schema at migration {head_revision()}" in output
    assert Store(env["FEEDS_DATABASE_URL"]).schema_revision() == head_revision()


def test_demo_twice_does_not_duplicate_posts(env: dict[str, str]) -> None:
    code, output = run(env, "demo", "--posts", "60")
    assert code == 0, output
    assert "70 created" in output
    assert post_count(env) == 70
    code, output = run(env, "demo", "--posts", "60")
    assert "0 created, 70 already there" in output
    code, output = run(env, "demo", "--posts", "80")
    assert "20 created, 70 already there" in output
    assert post_count(env) == 90


def test_check_passes_on_the_demo(env: dict[str, str]) -> None:
    run(env, "demo", "--posts", "50")
    code, output = run(env, "check")
    assert code == 0, output
    assert "checked 447 feeds: 447 fine, 0 with problems" in output


def test_check_reports_problems_in_a_feed() -> None:
    spec = FeedSpec(FeedFormat.RSS)
    broken = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b"<link>/relative</link><description>d</description>"
        b"<item><title>a</title><guid>same</guid></item>"
        b"<item><title>b</title><guid>same</guid></item></channel></rss>"
    )
    problems = feed_problems(spec, broken)
    assert "link is not absolute: '/relative'" in problems
    assert "two entries share an id" in problems
    assert "the feed does not say its language" in problems
    assert feed_problems(spec, b"<rss><channel>")[0].startswith("not well-formed XML")


def test_serve_refuses_a_database_without_schema(env: dict[str, str]) -> None:
    code, output = run(env, "serve")
    assert code == 1
    assert "run `feeds init` first" in output


def test_bad_config_file_gives_a_message_not_a_traceback(
    env: dict[str, str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("items_per_feed = 'lots'\n", encoding="utf-8")
    code, output = run(env, "--config", str(bad), "init")
    assert code == 1
    assert output.strip() == "Error: items_per_feed: expected int, got str"


def test_missing_config_file_gives_a_message(env: dict[str, str], tmp_path: Path) -> None:
    code, output = run(env, "--config", str(tmp_path / "none.toml"), "check")
    assert code == 1
    assert "does not exist" in output


def test_unreachable_database_gives_a_message(env: dict[str, str], tmp_path: Path) -> None:
    env["FEEDS_DATABASE_URL"] = f"sqlite:///{tmp_path / 'no-such-dir' / 'feeds.db'}"
    code, output = run(env, "init")
    assert code == 1
    assert "cannot reach the database" in output
    assert "unable to open database file" in output


def test_unusable_database_url_gives_a_message(env: dict[str, str]) -> None:
    env["FEEDS_DATABASE_URL"] = "nosuchdb://somewhere/feeds"
    code, output = run(env, "init")
    assert code == 1
    assert "cannot use database URL" in output


def test_unknown_option_exits_non_zero(env: dict[str, str]) -> None:
    code, output = run(env, "demo", "--colour")
    assert code == 2
    assert "No such option '--colour'" in output


@pytest.mark.process
def test_the_installed_command_runs(env: dict[str, str]) -> None:
    """`python -m feeds` and the console script behave the same: a message and exit 1."""
    result = subprocess.run(
        [sys.executable, "-m", "feeds", "--config", "/nonexistent.toml", "init"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "config file /nonexistent.toml does not exist" in result.stderr


def test_db_current_tells_whether_the_schema_is_behind(env: dict[str, str]) -> None:
    Store(env["FEEDS_DATABASE_URL"]).create_schema("0001")
    code, output = run(env, "db", "current")
    assert code == 1
    assert f"database at 0001, feeds needs {head_revision()}" in output
    code, output = run(env, "serve")
    assert code == 1 and "run `feeds db upgrade` first" in output
    code, output = run(env, "db", "upgrade")
    assert code == 0, output
    code, output = run(env, "db", "current")
    assert code == 0 and "up to date" in output


def test_build_writes_the_static_export_incrementally(env: dict[str, str], tmp_path: Path) -> None:
    run(env, "demo", "--posts", "20")
    target = tmp_path / "site"
    code, output = run(env, "build", str(target))
    assert code == 0, output
    assert "484 written, 0 unchanged, 0 skipped" in output
    assert (target / "fr/feeds/category/tech.atom.gz").is_file()
    code, output = run(env, "build", str(target))
    assert "0 written, 0 unchanged, 484 skipped" in output


def test_build_refuses_a_database_without_schema(env: dict[str, str], tmp_path: Path) -> None:
    code, output = run(env, "build", str(tmp_path / "site"))
    assert code == 1
    assert "run `feeds init` first" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export"], "no feeds schema yet: run `feeds init` first"),
        (["build", "out"], "no feeds schema yet: run `feeds init` first"),
        (["check"], "no feeds schema yet: run `feeds init` first"),
        (["snippet"], "no feeds schema yet: run `feeds init` first"),
        (["serve", "--port", "1"], "no feeds schema yet: run `feeds init` first"),
        (["import", "jsonl", "missing.jsonl"], "cannot read missing.jsonl"),
    ],
)
def test_every_command_answers_a_fixable_error_with_one_error_line(
    env: dict[str, str], args: list[str], message: str
) -> None:
    """One setup for every command: the same mapping of user errors to `Error: …`, exit 1."""
    code, output = run(env, *args)
    assert code == 1, output
    lines = [line for line in output.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1 and message in lines[0], output
    assert "Traceback" not in output


@pytest.mark.parametrize("command", ["export", "build", "check", "serve"])
def test_a_misspelled_environment_variable_stops_every_command(
    env: dict[str, str], command: str
) -> None:
    code, output = run(
        {**env, "FEEDS_ITME_PER_FEED": "5"}, command, *(["out"] * (command == "build"))
    )
    assert code == 1
    assert output.strip().endswith("did you mean FEEDS_ITEMS_PER_FEED?")
