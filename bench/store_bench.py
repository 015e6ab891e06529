"""PostgreSQL against SQLite: the same load benchmark on both stores in one run, and the ratios.

    python bench/store_bench.py [--sqlite /tmp/feeds-100k.db] \
        [--postgresql postgresql+psycopg://postgres@127.0.0.1:54339/feeds_100k] \
        [--servers granian,gunicorn] [--runs 3] [--seconds 5] [--miss-runs 60]

Both stores hold the same dataset (bench/dataset.py, same size and seed; bench/postgres.sh
starts the PostgreSQL cluster). First it times the miss path in process on each store, as
bench/miss_latency.py does (FeedService.render of the largest category's Atom feed, and of
it in one language). Then, for each store and server (granian as `feeds serve --production`
runs it, gunicorn gthread), it starts feeds on 127.0.0.1 twice: with its cache, and with the
cache off (FEEDS_CACHE_BYTES=0), checks that both stores answer the very same feed, and drives that
feed with wrk (2 threads, 32 connections): cached 200 (identity), 304 (If-None-Match), and
the miss path over HTTP (200 with the cache off: query, render, gzip on every request).
Runs are interleaved (run 1 of every cell, then run 2…), the two stores side by side. It
prints one table: per answer and server, each store's figure and PostgreSQL/SQLite.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass

from harness import (
    Server,
    ServerSpec,
    aligned,
    count_posts,
    feeds_production,
    fetch,
    gunicorn,
    human_count,
    largest_category,
    read_one,
    running,
    store_env,
    wrk,
)
from miss_latency import cells_of, p95
from miss_latency import measure as measure_misses
from serve_bench import LOGS, answer_headers, ratio, ratio_text, spread

SQLITE, POSTGRESQL = "SQLite", "PostgreSQL"
SERVERS: dict[str, Callable[[str, Mapping[str, str]], ServerSpec]] = {
    "granian": feeds_production,
    "gunicorn": lambda label, env: gunicorn(label, "feeds:create_app()", env),
}
CACHED, MISS = ("200", "304"), "miss"
KINDS = (*CACHED, MISS)
KIND_NAMES = {"200": "200 cached", "304": "304", MISS: "200 cache off"}
WARMUP_SECONDS = 1

Samples = dict[tuple[str, str, str], list[float]]  # (kind, server, store) → req/s


@dataclass(frozen=True)
class Cell:
    """One kind of answer, from one server on one store, and the headers that ask for it."""

    kind: str
    server: str
    store: str
    started: Server
    headers: Mapping[str, str]


def start(
    stack: ExitStack, stores: Mapping[str, str], servers: Sequence[str], path: str
) -> list[Cell]:
    """Start feeds on every store under every server, with its cache and without; every
    cell, kinds then servers then stores."""
    cells = []
    for store, dataset in stores.items():
        for cache, kinds in (("cached", CACHED), ("no-cache", (MISS,))):
            extra = {"FEEDS_CACHE_BYTES": "0"} if cache == "no-cache" else {}
            env = store_env(dataset, **extra)
            for server in servers:
                spec = SERVERS[server](f"{store}-{server}-{cache}", env)
                started = stack.enter_context(running(spec, path, LOGS))
                headers = answer_headers(started, path)  # checks its 200, 304 and gzip too
                headers[MISS] = headers["200"]
                cells += [Cell(kind, server, store, started, headers[kind]) for kind in kinds]
    order = {kind: number for number, kind in enumerate(KINDS)}
    return sorted(cells, key=lambda c: (order[c.kind], servers.index(c.server), c.store))


def same_feed(cells: Sequence[Cell], path: str) -> bool:
    """Whether every server answers the same bytes for the feed."""
    return len({fetch(cell.started.url(path)).body for cell in cells}) == 1


def measure(cells: Sequence[Cell], path: str, runs: int, seconds: float, samples: Samples) -> None:
    """``runs`` wrk runs of every cell, interleaved, after a short warm-up of each."""
    for cell in cells:
        wrk(cell.started.url(path), cell.headers, seconds=WARMUP_SECONDS)
    for run in range(runs):
        for cell in cells:
            result = wrk(cell.started.url(path), cell.headers, seconds=seconds)
            if result.bad_answers or result.socket_errors:
                print(f"! {cell.started.spec.label} {cell.kind} run {run}: {result}")
            samples[cell.kind, cell.server, cell.store].append(result.requests_per_second)


def http_rows(samples: Samples, servers: Sequence[str]) -> Iterator[list[str]]:
    """A row per answer and server: req/s on each store, and PostgreSQL/SQLite."""
    for kind in KINDS:
        for server in servers:
            sqlite, postgresql = (samples[kind, server, store] for store in (SQLITE, POSTGRESQL))
            yield [
                f"{KIND_NAMES[kind]}, req/s",
                server,
                spread(sqlite),
                spread(postgresql),
                ratio_text(ratio(postgresql, sqlite), places=2),
            ]


def miss_rows(stores: Mapping[str, str], language: str, runs: int) -> list[list[str]]:
    """The miss path in process (miss_latency's cells), a row per feed: median ms (p95) on
    each store, and PostgreSQL/SQLite of the medians and of the p95s."""
    cells = [
        cell for store, dataset in stores.items() for cell in cells_of(dataset, language, store)
    ]
    timings, _ = measure_misses(cells, runs)
    rows = []
    for feed in dict.fromkeys(cell.feed for cell in cells):
        sqlite, postgresql = (
            [seconds * 1000 for seconds in timings[cell]] for cell in cells if cell.feed == feed
        )
        rows.append(
            [
                f"miss in process, ms ({feed})",
                "-",
                f"{statistics.median(sqlite):.1f} (p95 {p95(sqlite):.1f})",
                f"{statistics.median(postgresql):.1f} (p95 {p95(postgresql):.1f})",
                f"{statistics.median(postgresql) / statistics.median(sqlite):.2f}× "
                f"(p95 {p95(postgresql) / p95(sqlite):.2f}×)",
            ]
        )
    return rows


def describe(stores: Mapping[str, str]) -> str:
    """Which posts and which database versions and settings are compared."""
    counts = {store: count_posts(dataset) for store, dataset in stores.items()}
    if len(set(counts.values())) != 1:
        raise SystemExit(f"the stores hold different datasets: {counts} posts")
    settings = ", ".join(
        f"{name} {read_one(stores[POSTGRESQL], f'SHOW {name}')}"
        for name in ("server_version", "fsync", "shared_buffers")
    )
    return (
        f"{human_count(counts[SQLITE])} posts in each store; SQLite {sqlite3.sqlite_version}; "
        f"PostgreSQL: {settings}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite", default="/tmp/feeds-100k.db")
    parser.add_argument(
        "--postgresql", default="postgresql+psycopg://postgres@127.0.0.1:54339/feeds_100k"
    )
    parser.add_argument("--servers", default=",".join(SERVERS))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--miss-runs", type=int, default=60)
    parser.add_argument("--language", default="en")
    args = parser.parse_args()
    stores = {SQLITE: args.sqlite, POSTGRESQL: args.postgresql}
    servers = args.servers.split(",")
    if unknown := set(servers) - set(SERVERS):
        parser.error(f"unknown servers {sorted(unknown)}; known: {', '.join(SERVERS)}")
    started = time.monotonic()
    print(describe(stores))
    misses = miss_rows(stores, args.language, args.miss_runs)
    path = f"/feeds/category/{largest_category(args.sqlite)}.atom"
    samples: Samples = defaultdict(list)
    with ExitStack() as stack:
        cells = start(stack, stores, servers, path)
        if not same_feed(cells, path):
            print("! the stores answer different bytes for the feed")
        wrk_seconds = len(cells) * (WARMUP_SECONDS + args.runs * args.seconds)
        print(f"{len(cells)} cells, about {wrk_seconds:.0f} s of wrk")
        measure(cells, path, args.runs, args.seconds, samples)
    print(
        f"GET {path}; req/s: median (min–max) of {args.runs} runs of wrk -t2 -c32 "
        f"-d{args.seconds:g}s; in process: {args.miss_runs} renders per feed.\n"
        "PostgreSQL/SQLite of req/s (below 1: PostgreSQL slower): of the medians (worst–best "
        "run pairs); of ms in process (above 1: PostgreSQL slower): of the medians (of the p95s)"
    )
    head = ["answer", "server", SQLITE, POSTGRESQL, "PostgreSQL/SQLite"]
    print("\n".join(aligned([head, *http_rows(samples, servers), *misses])))
    print(f"took {time.monotonic() - started:.0f} s")
    raw = {" ".join(key): values for key, values in samples.items()}
    (LOGS / "store_bench.json").write_text(json.dumps(raw, indent=1))


if __name__ == "__main__":
    main()
