"""Concurrent writers on SQLite: 8 API writers and 4 readers, before and after a change.

    python bench/write_concurrency.py --before /tmp/feeds-before [--after /tmp/feeds-after] \
        [--seconds 30] [--runs 3] [--servers dev,production] [--writers 8] [--readers 4] \
        [--threads N]

``--before`` and ``--after`` are checkouts of the two versions to compare (``git worktree add
--detach /tmp/feeds-before <commit>``); ``--after`` defaults to this repository's working
tree. For each run, server and code (interleaved: run 1 of every cell, then run 2…), it
makes a fresh SQLite store with that code (``feeds init``, then ``feeds demo --posts 200``),
starts ``feeds serve`` (Flask's server) or ``feeds serve --production`` (granian, its
defaults) on it with that code first on PYTHONPATH, and for ``--seconds`` runs writers that
POST new posts through the admin API without pause and readers that GET feeds and the API's
post list without pause, each request on a new connection. It prints, per server and code,
the median over runs of: acknowledged (201) writes per second, the share of writes answered
503 and of other failures, p50/p99/max latency of the acknowledged writes, how many
acknowledged posts are missing from the store afterwards (must be 0), reads per second, their
p50/p99 latency and the share not answered 200; then after/before.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from harness import HOST, REPO, VENV_BIN, aligned, free_port, stop_process_group

TOKEN = "bench-write-concurrency-token"
SEED_POSTS = 200
CATEGORIES = ("blog-posts", "tech", "product-news", "company-news")
TAGS = ("ledger", "security", "release", "guide", "wallet")
READ_PATHS = (
    "/feeds/all.atom",
    "/feeds/category/tech.rss",
    "/fr/feeds/all.atom",
    "/api/posts?limit=20",
)
SERVERS = {"dev": (), "production": ("--production",)}
START_SECONDS = 60
LOGS = Path("/tmp/bench-logs")


@dataclass
class Load:
    """What one run's clients saw."""

    seconds: float
    write_latencies: list[float] = field(default_factory=list)  # acknowledged writes, s
    write_answers: Counter[str] = field(default_factory=Counter)  # status or error name
    reads: Counter[str] = field(default_factory=Counter)  # status or error name
    read_latencies: list[float] = field(default_factory=list)  # every read, s
    acknowledged: list[str] = field(default_factory=list)  # slugs answered 201
    lock: threading.Lock = field(default_factory=threading.Lock)

    def write_count(self) -> int:
        return sum(self.write_answers.values())

    def share(self, *answers: str) -> float:
        """The share of writes (%) that got one of ``answers``."""
        total = self.write_count()
        return 100 * sum(self.write_answers[a] for a in answers) / total if total else 0.0

    def failed_share(self) -> float:
        """The share of writes (%) answered neither 201 nor 503."""
        return 100 - self.share("201") - self.share("503")


def call(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    """One request on a new connection (as the tests' pollers make it): status and body."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def drive(port: int, label: str, writers: int, readers: int, seconds: float) -> Load:
    """Run the writers and readers against ``port`` for ``seconds``."""
    load = Load(seconds)
    deadline = time.monotonic() + seconds

    def write(number: int) -> None:
        rng = random.Random(f"{label}-{number}")
        sequence = 0
        while time.monotonic() < deadline:
            sequence += 1
            slug = f"bench-{label}-{number}-{sequence}"
            document = {
                "title": f"Writer {number}, post {sequence}",
                "slug": slug,
                "language": rng.choice(("en", "fr")),
                "summary": "A post written by the concurrency benchmark.",
                "content_html": "<p>" + "Some text of the post. " * 40 + "</p>",
                "categories": rng.sample(CATEGORIES, 2),
                "tags": rng.sample(TAGS, 2),
                "authors": ["Bench Writer"],
            }
            started = time.perf_counter()
            try:
                status, _ = call(port, "POST", "/api/posts", json.dumps(document).encode())
                answer = str(status)
            except OSError as error:
                status, answer = 0, type(error).__name__
            elapsed = time.perf_counter() - started
            with load.lock:
                load.write_answers[answer] += 1
                if status == 201:
                    load.write_latencies.append(elapsed)
                    load.acknowledged.append(slug)

    def read(number: int) -> None:
        rng = random.Random(f"{label}-reader-{number}")
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                answer = str(call(port, "GET", rng.choice(READ_PATHS))[0])
            except OSError as error:
                answer = type(error).__name__
            elapsed = time.perf_counter() - started
            with load.lock:
                load.reads[answer] += 1
                load.read_latencies.append(elapsed)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    threads += [threading.Thread(target=read, args=(n,)) for n in range(readers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return load


def code_env(code: Path, database: Path) -> dict[str, str]:
    """The environment that runs feeds from ``code`` on ``database``."""
    return {
        **os.environ,
        "PYTHONPATH": str(code),
        "FEEDS_CONFIG": str(code / "config.toml"),
        "FEEDS_DATABASE_URL": f"sqlite:///{database}",
        "FEEDS_ADMIN_TOKEN": TOKEN,
    }


def make_store(code: Path, database: Path) -> None:
    """A fresh store made by ``code`` itself (its own migrations), holding the demo posts."""
    env = code_env(code, database)
    for argv in (["init"], ["demo", "--posts", str(SEED_POSTS)]):
        subprocess.run(
            [str(VENV_BIN / "feeds"), *argv], cwd=code, env=env, check=True, capture_output=True
        )


@contextmanager
def serving(
    code: Path, database: Path, server: str, label: str, threads: int | None = None
) -> Iterator[int]:
    """``feeds serve`` of ``code`` (in its own process group, ended by its id): its port."""
    port = free_port()
    argv = [str(VENV_BIN / "feeds"), "serve", *SERVERS[server], "--host", HOST, "--port", str(port)]
    if threads is not None and server == "production":
        argv += ["--threads", str(threads)]
    env = {**code_env(code, database), "FEEDS_BASE_URL": f"http://{HOST}:{port}"}
    LOGS.mkdir(parents=True, exist_ok=True)
    with (LOGS / f"write-concurrency-{label}.log").open("ab") as log:
        # The console script, not ``python -m``: -m would put the working directory first
        # on sys.path, ahead of PYTHONPATH. cwd is the code's own checkout all the same.
        process = subprocess.Popen(
            argv, cwd=code, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_ready(process, port)
            yield port
        finally:
            stop_process_group(process)


def wait_ready(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} (see {LOGS})")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/readyz", timeout=5) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise RuntimeError(f"the server did not get ready in {START_SECONDS} s")


def missing(database: Path, slugs: Sequence[str]) -> int:
    """How many of the acknowledged posts the store does not hold."""
    with sqlite3.connect(database) as connection:
        held = {row[0] for row in connection.execute("SELECT slug FROM posts")}
    return len(set(slugs) - held)


@dataclass
class Cell:
    """One server × code, over the runs."""

    writes_per_second: list[float] = field(default_factory=list)
    refused: list[float] = field(default_factory=list)  # % 503
    failed: list[float] = field(default_factory=list)  # % other non-201 answers and errors
    p50: list[float] = field(default_factory=list)  # ms
    p99: list[float] = field(default_factory=list)
    worst: list[float] = field(default_factory=list)
    reads_per_second: list[float] = field(default_factory=list)
    read_p50: list[float] = field(default_factory=list)  # ms
    read_p99: list[float] = field(default_factory=list)
    read_failed: list[float] = field(default_factory=list)  # % of reads not answered 200
    lost: list[int] = field(default_factory=list)
    answers: Counter[str] = field(default_factory=Counter)

    def add(self, load: Load, lost: int) -> None:
        latencies = sorted(load.write_latencies) or [float("nan")]
        self.writes_per_second.append(len(load.write_latencies) / load.seconds)
        self.refused.append(load.share("503"))
        self.failed.append(load.failed_share())
        self.p50.append(percentile(latencies, 0.5))
        self.p99.append(percentile(latencies, 0.99))
        self.worst.append(1000 * latencies[-1])
        reads = sum(load.reads.values())
        self.reads_per_second.append(reads / load.seconds)
        read_latencies = sorted(load.read_latencies) or [float("nan")]
        self.read_p50.append(percentile(read_latencies, 0.5))
        self.read_p99.append(percentile(read_latencies, 0.99))
        self.read_failed.append(100 * (reads - load.reads["200"]) / reads if reads else 0.0)
        self.lost.append(lost)
        self.answers.update(load.write_answers)


def percentile(ordered: Sequence[float], share: float) -> float:
    """The value below which ``share`` of the sorted seconds lie, in ms."""
    return 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def report(cells: dict[tuple[str, str], Cell], servers: Sequence[str]) -> list[str]:
    """The table of every cell, then after/before per server."""
    lines = [["server", "code", "writes/s", "503 %", "other %", "p50 ms", "p99 ms", "max ms",
              "lost", "reads/s", "read p50", "read p99", "read not 200 %"]]  # fmt: skip
    for server in servers:
        for code in ("before", "after"):
            cell = cells[(server, code)]
            lines.append([
                server, code, f"{median(cell.writes_per_second):.1f}",
                f"{median(cell.refused):.1f}", f"{median(cell.failed):.1f}",
                f"{median(cell.p50):.0f}", f"{median(cell.p99):.0f}", f"{median(cell.worst):.0f}",
                str(max(cell.lost)), f"{median(cell.reads_per_second):.1f}",
                f"{median(cell.read_p50):.0f}", f"{median(cell.read_p99):.0f}",
                f"{median(cell.read_failed):.1f}",
            ])  # fmt: skip
    out = aligned(lines)
    out.append("")
    for server in servers:
        before, after = cells[(server, "before")], cells[(server, "after")]
        throughput = ratio(after.writes_per_second, before.writes_per_second)
        out.append(
            f"{server}: writes/s after/before {throughput}, "
            f"p50 {ratio(after.p50, before.p50)}, p99 {ratio(after.p99, before.p99)}, "
            f"reads/s {ratio(after.reads_per_second, before.reads_per_second)}; "
            f"answers before {dict(before.answers)}, after {dict(after.answers)}"
        )
    return out


def ratio(top: Sequence[float], bottom: Sequence[float]) -> str:
    below = median(bottom)
    return f"{median(top) / below:.2f}×" if below else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="checkout of the old code")
    parser.add_argument("--after", type=Path, default=REPO, help="checkout of the new code")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--servers", default="dev,production")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--threads", type=int, help="threads per granian worker [its default]")
    args = parser.parse_args()
    servers = args.servers.split(",")
    codes = {"before": args.before.resolve(), "after": args.after.resolve()}
    cells = {(server, code): Cell() for server in servers for code in codes}
    with tempfile.TemporaryDirectory(prefix="feeds-write-bench-") as directory:
        for run in range(1, args.runs + 1):
            for server in servers:
                for code, checkout in codes.items():
                    label = f"{server}-{code}-{run}"
                    database = Path(directory) / f"{label}.db"
                    make_store(checkout, database)
                    with serving(checkout, database, server, label, args.threads) as port:
                        load = drive(port, label, args.writers, args.readers, args.seconds)
                    lost = missing(database, load.acknowledged)
                    cells[(server, code)].add(load, lost)
                    print(
                        f"run {run} {server:10} {code:6}: {len(load.write_latencies)} written,"
                        f" {dict(load.write_answers)}, lost {lost}",
                        file=sys.stderr,
                        flush=True,
                    )
    print(
        f"{args.writers} writers + {args.readers} readers, {args.seconds:g} s, "
        f"median of {args.runs} run(s)"
    )
    print("\n".join(report(cells, servers)))


if __name__ == "__main__":
    main()
