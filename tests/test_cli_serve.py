"""`feeds serve` where it cannot listen (a busy port, a bad --host): one `Error: …` line and
exit status 1 from either server, with no Python traceback and no Rust backtrace."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from feeds.settings import Settings
from feeds.store import Store
from tests.conftest import REPO

pytestmark = pytest.mark.process

SERVERS = {"dev": [], "production": ["--production", "--workers", "1"]}


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port on 127.0.0.1 that another socket listens on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def feeds(
    settings: Settings, rust_backtrace: bool, *args: str, code: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the feeds command (or ``code`` in its place) on ``args``, with or without
    RUST_BACKTRACE=1 in its environment."""
    env = {**os.environ, "FEEDS_CONFIG": str(REPO / "config.toml")}
    env["FEEDS_DATABASE_URL"] = settings.database_url
    env.pop("RUST_BACKTRACE", None)
    if rust_backtrace:
        env["RUST_BACKTRACE"] = "1"
    program = ["-c", code] if code is not None else ["-m", "feeds"]
    return subprocess.run(
        [sys.executable, *program, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("rust_backtrace", [True, False], ids=["RUST_BACKTRACE", "plain"])
@pytest.mark.parametrize("server", SERVERS)
def test_serve_on_a_busy_port_says_so_in_one_line(
    store: Store, settings: Settings, busy_port: int, server: str, rust_backtrace: bool
) -> None:
    result = feeds(settings, rust_backtrace, "serve", *SERVERS[server], "--port", str(busy_port))
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [
        f"Error: cannot listen on 127.0.0.1 port {busy_port}: Address already in use"
    ]


@pytest.mark.parametrize("rust_backtrace", [True, False], ids=["RUST_BACKTRACE", "plain"])
@pytest.mark.parametrize("host", ["999.1.1.1", "no-such-host.invalid"])
@pytest.mark.parametrize("server", SERVERS)
def test_serve_on_a_bad_host_says_so_in_one_line(
    store: Store, settings: Settings, server: str, host: str, rust_backtrace: bool
) -> None:
    result = feeds(settings, rust_backtrace, "serve", *SERVERS[server], "--host", host)
    assert result.returncode == 1, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(f"Error: cannot listen on {host} port 8000: ")


def test_a_port_taken_after_the_check_is_still_one_error_line_from_granian(
    store: Store, settings: Settings, busy_port: int
) -> None:
    """granian's own bind failure (the port taken between feeds' check and granian's bind)
    ends in the same line, without its traceback or backtrace."""
    unchecked = (
        "import sys; import feeds.server.listen as listen; "
        "listen.listen_address = lambda host, port: host; "
        "from feeds.cli import main; main(sys.argv[1:], prog_name='feeds')"
    )
    args = ("serve", *SERVERS["production"], "--port", str(busy_port))
    result = feeds(settings, True, *args, code=unchecked)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "backtrace" not in result.stderr.lower()
    assert result.stderr.splitlines()[-1] == (
        f"Error: cannot listen on 127.0.0.1 port {busy_port}: Address already in use (os error 98)"
    )
