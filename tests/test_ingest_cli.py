"""`feeds import …` and `feeds export`: counts and skips on stdout, one-line errors, exit codes."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from feeds.cli import main
from feeds.store import Store
from tests.conftest import REPO
from tests.fixtures import BILLION_LAUGHS, RSS, WXR, post_count

OLD = "https://oldblog.example.com"
WXR_SKIPS = [
    f"  item 3 (guid {OLD}/?page_id=2): post type 'page' (only posts are imported)",
    f"  item 4 (guid {OLD}/wp-content/uploads/2019/05/chips.jpg): post type 'attachment' "
    "(only posts are imported)",
    f"  item 5 (guid {OLD}/?p=5): post type 'nav_menu_item' (only posts are imported)",
    f"  item 8 (guid {OLD}/?p=105): in the trash",
]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "FEEDS_CONFIG": str(REPO / "config.toml"),
        "FEEDS_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
    }


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, input=stdin, prog_name="feeds")


def count(env: dict[str, str]) -> int:
    store = Store(env["FEEDS_DATABASE_URL"])
    try:
        return post_count(store)
    finally:
        store.dispose()


def test_import_prints_the_counts_then_each_skip(env: dict[str, str]) -> None:
    result = run(env, "import", "wxr", str(WXR))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "created 9, updated 0, unchanged 0, skipped 4",
        *WXR_SKIPS,
    ]
    assert result.stderr == ""  # no progress bar when stderr is not a terminal
    again = run(env, "import", "wxr", str(WXR))
    assert again.stdout.splitlines()[0] == "created 0, updated 0, unchanged 9, skipped 4"


def test_a_dry_run_says_so_and_writes_nothing(env: dict[str, str]) -> None:
    result = run(env, "import", "feed", str(RSS), "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        "created 4, updated 0, unchanged 0, skipped 2 (dry run: nothing was written)"
    )
    assert count(env) == 0


def test_jsonl_is_read_from_standard_input_with_bad_lines_listed(env: dict[str, str]) -> None:
    lines = [
        json.dumps({"title": "One", "language": "en", "entry_id": "urn:x:1"}),
        json.dumps({"title": "Two", "language": "en", "published": "2024-05-01 09:00"}),
    ]
    result = run(env, "import", "jsonl", "-", stdin="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "created 1, updated 0, unchanged 0, skipped 1",
        "  line 2: published: '2024-05-01 09:00' is not an RFC 3339 date-time with a time zone "
        "(like 2024-05-01T09:00:00Z or 2024-05-01T09:00:00+02:00)",
    ]


def test_export_and_import_round_trip_through_the_command(
    env: dict[str, str], tmp_path: Path
) -> None:
    run(env, "import", "wxr", str(WXR))
    exported = run(env, "export")
    assert exported.exit_code == 0, exported.output
    assert exported.stderr == "exported 9 posts to -\n"
    assert len(exported.stdout.splitlines()) == 9
    path = tmp_path / "posts.jsonl"
    result = run(env, "export", str(path))
    assert result.stdout == f"exported 9 posts to {path}\n"
    assert path.read_text(encoding="utf-8") == exported.stdout
    env["FEEDS_DATABASE_URL"] = f"sqlite:///{tmp_path / 'copy.db'}"
    result = run(env, "import", "jsonl", str(path))
    assert result.stdout == "created 9, updated 0, unchanged 0, skipped 0\n"


def test_export_to_an_unwritable_place_is_a_clear_error(
    env: dict[str, str], tmp_path: Path
) -> None:
    run(env, "init")
    result = run(env, "export", str(tmp_path / "no-such-dir" / "posts.jsonl"))
    assert result.exit_code == 1
    assert result.output == (
        f"Error: cannot write {tmp_path}/no-such-dir/posts.jsonl: No such file or directory\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["import", "feed", str(RSS), "--strict"],
            "Error: item 4 (guid tag:old.example.org,2024:post-20): no date; "
            "nothing was imported (--strict)",
        ),
        (
            ["import", "wxr", str(BILLION_LAUGHS)],
            f"Error: {BILLION_LAUGHS}: refused: the XML declares a document type (<!DOCTYPE rss>)",
        ),
        (["import", "jsonl", "/no/such/file.jsonl"], "Error: cannot read /no/such/file.jsonl"),
        (["import", "wxr", str(REPO / "tests")], f"Error: cannot read {REPO / 'tests'}"),
        (["import", "wxr", str(WXR), "--language", "klingon"], "Error: --language 'klingon'"),
        (["import", "feed", "ftp://example.com/feed"], "Error: cannot read ftp://example.com/feed"),
    ],
)
def test_a_refused_import_exits_1_with_one_line(
    env: dict[str, str], args: list[str], message: str
) -> None:
    result = run(env, *args)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1
    assert count(env) == 0


def test_a_bad_batch_size_is_a_usage_error(env: dict[str, str]) -> None:
    result = run(env, "import", "wxr", str(WXR), "--batch-size", "0")
    assert result.exit_code == 2
    assert "Invalid value for '--batch-size'" in result.output


@pytest.mark.process
def test_the_real_command_shows_a_progress_bar_on_a_terminal(env: dict[str, str]) -> None:
    """Run as a user would: `python -m feeds`, stderr a terminal (a pseudo-terminal here)."""
    primary, secondary = pty.openpty()
    completed = subprocess.run(
        [sys.executable, "-m", "feeds", "import", "wxr", str(WXR)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=secondary,
        text=True,
        timeout=120,
        check=False,
    )
    os.close(secondary)
    terminal = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the pseudo-terminal is closed once read to the end
            break
        if not chunk:
            break
        terminal += chunk
    os.close(primary)
    assert completed.returncode == 0
    assert completed.stdout.startswith("created 9, updated 0, unchanged 0, skipped 4\n")
    shown = terminal.decode()
    assert f"importing {WXR}" in shown and "100%" in shown
    assert "Traceback" not in shown
