"""What the HTTP benchmarks share: servers started on 127.0.0.1 and stopped for sure, wrk runs,
datasets named by a file path (SQLite) or a SQLAlchemy URL (PostgreSQL…).

Servers run in their own process group, started by us and ended by their id. Every wait
is bounded.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
VENV_BIN = Path(sys.executable).parent
CPUS = os.cpu_count() or 1
WORKERS = CPUS  # one process per core
THREADS = 2 * CPUS  # threads per process, for connections waiting on the network
HOST = "127.0.0.1"
START_SECONDS = 60
SOCKET = r"Socket errors: (.*)"


@dataclass(frozen=True)
class ServerSpec:
    """How to start one server: its label, its command line (a ``{port}`` placeholder)
    and the environment it adds."""

    label: str
    argv: tuple[str, ...]
    env: Mapping[str, str]


def gunicorn(label: str, app: str, env: Mapping[str, str]) -> ServerSpec:
    """``app`` (a factory call, as gunicorn takes it) under gunicorn gthread, keep-alive on."""
    argv = (
        str(VENV_BIN / "gunicorn"),
        f"--bind={HOST}:{{port}}",
        "--worker-class=gthread",
        f"--workers={WORKERS}",
        f"--threads={THREADS}",
        "--keep-alive=5",
        f"--pythonpath={BENCH}",
        "--log-level=warning",
        app,
    )
    return ServerSpec(label, argv, env)


def granian(label: str, factory: str, env: Mapping[str, str]) -> ServerSpec:
    """The factory ``factory`` (``module:function``) under granian's WSGI interface."""
    argv = (
        str(VENV_BIN / "granian"),
        "--interface=wsgi",
        f"--host={HOST}",
        "--port={port}",
        f"--workers={WORKERS}",
        f"--blocking-threads={THREADS}",
        "--factory",
        "--log-level=warning",
        f"--working-dir={BENCH}",
        factory,
    )
    return ServerSpec(label, argv, env)


def database_url(dataset: str | Path) -> str:
    """A dataset's SQLAlchemy URL: a URL as it is, a file path as a SQLite store."""
    given = str(dataset)
    return given if "://" in given else f"sqlite:///{Path(given).resolve()}"


def backend(dataset: str | Path) -> str:
    """The dataset's database: ``sqlite``, ``postgresql``…"""
    return make_url(database_url(dataset)).get_backend_name()


def feeds_production(label: str, env: Mapping[str, str]) -> ServerSpec:
    """feeds as the README runs it in production: ``feeds serve --production`` (granian, its
    default threads, feeds' own settings and its JSON access log, one line per request)."""
    argv = (
        str(VENV_BIN / "feeds"),
        "serve",
        "--production",
        f"--host={HOST}",
        "--port={port}",
        f"--workers={WORKERS}",
    )
    return ServerSpec(label, argv, env)


def store_env(dataset: str | Path, **extra: str) -> dict[str, str]:
    """The environment that points feeds (and the naive app) at a dataset."""
    return {
        "FEEDS_CONFIG": str(REPO / "config.toml"),
        "FEEDS_DATABASE_URL": database_url(dataset),
        **extra,
    }


@dataclass
class Server:
    """A started server: its spec, port and process."""

    spec: ServerSpec
    port: int
    process: subprocess.Popen[bytes]

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on this server."""
        return f"http://{HOST}:{self.port}{path}"

    def worker_pids(self) -> list[int]:
        """The pids of the server's worker processes (the master's children, but for
        multiprocessing's resource tracker)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = [int(pid) for pid in children.read_text().split()]
        return [pid for pid in pids if b"resource_tracker" not in _cmdline(pid)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def free_port() -> int:
    """A TCP port nobody listens on at the moment."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@contextmanager
def running(spec: ServerSpec, ready_path: str, log_dir: Path) -> Iterator[Server]:
    """Start ``spec``, wait until ``ready_path`` answers 200, and stop it (group) on exit."""
    port = free_port()
    argv = [part.replace("{port}", str(port)) for part in spec.argv]
    log_dir.mkdir(parents=True, exist_ok=True)
    log = (log_dir / f"{spec.label.replace('/', '-')}.log").open("ab")
    process = subprocess.Popen(
        argv,
        cwd=REPO,
        env={**os.environ, **spec.env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server(spec, port, process)
    try:
        _wait_ready(server, ready_path)
        yield server
    finally:
        stop_process_group(process)
        log.close()


def _wait_ready(server: Server, path: str) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.spec.label} exited with {server.process.returncode}")
        try:
            if fetch(server.url(path)).status == 200:
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise RuntimeError(f"{server.spec.label} did not answer {path} in {START_SECONDS} s")


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """End the server's process group (it was started in its own session), then reap it."""
    for sent in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sent)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=15)
            return
        except subprocess.TimeoutExpired:
            continue


@dataclass(frozen=True)
class Fetched:
    """One HTTP answer: status, headers (lower-case names) and body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


def fetch(url: str, headers: Mapping[str, str] | None = None, timeout: float = 60) -> Fetched:
    """GET ``url``; 3xx and 4xx answers are returned, not raised."""
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return Fetched(answer.status, _lower(answer.headers.items()), answer.read())
    except urllib.error.HTTPError as answer:
        return Fetched(answer.code, _lower(answer.headers.items()), answer.read())


def _lower(items: Sequence[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in items}


@dataclass(frozen=True)
class WrkResult:
    """One wrk run: requests per second, and the answers that went wrong."""

    requests_per_second: float
    requests: int
    bad_answers: int
    socket_errors: int


def wrk(
    url: str,
    headers: Mapping[str, str] | None = None,
    *,
    seconds: float = 5,
    connections: int = 32,
    threads: int = 2,
    script: Path | None = None,
) -> WrkResult:
    """Drive ``url`` with wrk for ``seconds`` and parse its summary."""
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--timeout=10s"]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    if script is not None:
        argv += ["-s", str(script)]
    output = subprocess.run(
        [*argv, url], capture_output=True, text=True, timeout=seconds + 60, check=True
    ).stdout
    return WrkResult(
        requests_per_second=float(_field(output, r"Requests/sec:\s+([\d.]+)")),
        requests=int(_field(output, r"(\d+) requests in")),
        bad_answers=int(_field(output, r"Non-2xx or 3xx responses: (\d+)", "0")),
        socket_errors=sum(int(n) for n in re.findall(r"\w+ (\d+)", _field(output, SOCKET, ""))),
    )


def _field(text: str, pattern: str, default: str | None = None) -> str:
    found = re.search(pattern, text)
    if found is None:
        if default is None:
            raise RuntimeError(f"wrk output without {pattern!r}:\n{text}")
        return default
    return found.group(1)


def count_posts(dataset: str | Path) -> int:
    """How many posts a dataset holds."""
    return read_one(dataset, "SELECT count(*) FROM posts")


def largest_category(dataset: str | Path) -> str:
    """The slug of the category with the most posts (every dataset's largest feed)."""
    return largest(dataset, "categories")[0]


# Each kind of term: its table, the table linking it to posts, and the linking column.
_TERM_TABLES = {
    "categories": ("categories", "post_categories", "category_id"),
    "tags": ("tags", "post_tags", "tag_id"),
    "authors": ("authors", "post_authors", "author_id"),
}


def largest(dataset: str | Path, kind: str, count: int = 1) -> list[str]:
    """The slugs of the ``count`` categories, tags or authors (``kind``) with the most
    posts, largest first."""
    table, link, column = _TERM_TABLES[kind]
    query = (
        f"SELECT t.slug FROM {table} t JOIN {link} l ON l.{column} = t.id "  # noqa: S608
        f"GROUP BY t.id, t.slug ORDER BY count(*) DESC, t.slug LIMIT {int(count)}"
    )
    url = make_url(database_url(dataset))
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        raise FileNotFoundError(f"no SQLite dataset at {url.database}")
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(query)).scalars())
    finally:
        engine.dispose()


def read_one(dataset: str | Path, query: str) -> Any:
    """The one value ``query`` answers on a dataset."""
    url = make_url(database_url(dataset))
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        raise FileNotFoundError(f"no SQLite dataset at {url.database}")  # not a new empty one
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return connection.execute(text(query)).scalar_one()
    finally:
        engine.dispose()


def aligned(lines: Sequence[Sequence[str]]) -> list[str]:
    """Rows of cells as text columns, right-aligned, `` | `` between them."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return [" | ".join(t.rjust(w) for t, w in zip(line, widths, strict=True)) for line in lines]


def human_count(number: int) -> str:
    """1000 → 1k, 100000 → 100k, 1000000 → 1M."""
    for unit, size in (("M", 1_000_000), ("k", 1000)):
        if number >= size and number % size == 0:
            return f"{number // size}{unit}"
    return str(number)
