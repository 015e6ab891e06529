"""Requests per second of a category feed: feeds against the usual way and a bare callable.

    python bench/serve_bench.py --datasets /tmp/feeds-1k.db,/tmp/feeds-100k.db [--runs 3]

For each dataset (made by bench/dataset.py; a SQLite path or a database URL) it starts, on
127.0.0.1, feeds (``feeds:create_app()``) and the bare callable (bench/bare_app.py, serving
the bytes feeds answered) each under gunicorn gthread and under granian (WSGI; feeds as
``feeds serve --production`` runs it, with its access log), and the
naive baseline (bench/naive_app.py) under gunicorn gthread; then drives each, in turn, with
wrk (2 threads, 32 connections, 5 s) for the 50-entry Atom feed of the largest category: 200
identity, 304 (If-None-Match with the current ETag), and gzip (Accept-Encoding: gzip). Runs
are interleaved (run 1 of every cell, then run 2…) so that noise spreads over all servers.
It prints one table, a row per server: req/s (median and range over runs), feeds/naive
(naive under gunicorn in every row) and bare/feeds (bare under the row's server), then each
target met or missed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from harness import (
    Server,
    aligned,
    count_posts,
    feeds_production,
    fetch,
    granian,
    gunicorn,
    human_count,
    largest_category,
    running,
    store_env,
    wrk,
)

FEEDS, NAIVE, BARE = "feeds", "naive", "bare"
SERVERS = ("gunicorn", "granian")
KINDS = ("200", "304", "gzip")
# At the largest dataset: feeds/naive at least this much; everywhere, bare/feeds at most this.
TARGETS = {"200": 50.0, "304": 100.0}
BARE_TARGET = 2.0
LOGS = Path("/tmp/bench-logs")

Samples = dict[tuple[str, str, str], list[float]]  # (dataset, kind, app/server) → req/s


@dataclass(frozen=True)
class Target:
    """A server under load and the request headers of each kind of answer."""

    server: Server
    path: str
    headers: Mapping[str, Mapping[str, str]]


def answer_headers(server: Server, path: str) -> dict[str, dict[str, str]]:
    """The headers of each kind, with the ETag the server gives now; checks its answers."""
    first = fetch(server.url(path))
    etag = first.headers["etag"]
    headers = {"200": {}, "304": {"If-None-Match": etag}, "gzip": {"Accept-Encoding": "gzip"}}
    label = server.spec.label
    if first.status != 200 or fetch(server.url(path), headers["304"]).status != 304:
        raise RuntimeError(f"{label}: no 200 then 304 on {path}")
    encoding = fetch(server.url(path), headers["gzip"]).headers.get("content-encoding")
    if not label.startswith(NAIVE) and encoding != "gzip":
        raise RuntimeError(f"{label}: no gzip answer on {path}")
    return headers


def start_servers(stack: ExitStack, dataset: str, path: str) -> list[Target]:
    """Start feeds and bare under both servers, naive under gunicorn, on ``dataset``;
    the bare callable serves the very bytes feeds answered."""
    env = store_env(dataset)
    first = stack.enter_context(
        running(gunicorn(f"{FEEDS}/gunicorn", "feeds:create_app()", env), path, LOGS)
    )
    body = LOGS / "bare-body.atom"
    body.write_bytes(fetch(first.url(path)).body)
    bare_env = {"FEEDS_BENCH_BARE_BODY": str(body)}
    specs = [
        feeds_production(f"{FEEDS}/granian", env),
        gunicorn(f"{NAIVE}/gunicorn", "naive_app:create_app()", env),
        gunicorn(f"{BARE}/gunicorn", "bare_app:create_app()", bare_env),
        granian(f"{BARE}/granian", "bare_app:create_app", bare_env),
    ]
    servers = [first, *(stack.enter_context(running(spec, path, LOGS)) for spec in specs)]
    return [Target(server, path, answer_headers(server, path)) for server in servers]


def measure(dataset: str, runs: int, seconds: float, samples: Samples) -> str:
    """Run every cell of one dataset ``runs`` times; returns the dataset's label."""
    label = human_count(count_posts(dataset))
    path = f"/feeds/category/{largest_category(dataset)}.atom"
    with ExitStack() as stack:
        targets = start_servers(stack, dataset, path)
        for target, kind in cells(targets):  # warm every worker's cache and connections
            wrk(target.server.url(path), target.headers[kind], seconds=1)
        for run in range(runs):
            for target, kind in cells(targets):
                result = wrk(target.server.url(path), target.headers[kind], seconds=seconds)
                if result.bad_answers or result.socket_errors:
                    print(f"! {target.server.spec.label} {kind} run {run}: {result}")
                samples[label, kind, target.server.spec.label].append(result.requests_per_second)
    return label


def cells(targets: Sequence[Target]) -> Iterator[tuple[Target, str]]:
    """Every (server, kind) pair, kinds outermost."""
    return ((target, kind) for kind in KINDS for target in targets)


def spread(values: Sequence[float]) -> str:
    """``median (min–max)`` of req/s."""
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}–{max(values):,.0f})"


def ratio(top: Sequence[float], bottom: Sequence[float]) -> tuple[float, float, float]:
    """top/bottom: of the medians, the worst case (min/max) and the best case (max/min)."""
    return (
        statistics.median(top) / statistics.median(bottom),
        min(top) / max(bottom),
        max(top) / min(bottom),
    )


@dataclass(frozen=True)
class Row:
    """One line of the table: feeds, naive (always under gunicorn) and bare under a server."""

    dataset: str
    kind: str
    server: str
    feeds: Sequence[float]
    naive: Sequence[float]
    bare: Sequence[float]

    def cells(self) -> list[str]:
        """The row as text."""
        return [
            self.dataset,
            self.kind,
            self.server,
            spread(self.feeds),
            spread(self.naive),
            spread(self.bare),
            ratio_text(ratio(self.feeds, self.naive)),
            ratio_text(ratio(self.bare, self.feeds)),
        ]


def rows(samples: Samples, labels: Sequence[str]) -> list[Row]:
    """Every row, datasets then kinds then servers."""
    return [
        Row(
            label,
            kind,
            server,
            samples[label, kind, f"{FEEDS}/{server}"],
            samples[label, kind, f"{NAIVE}/gunicorn"],
            samples[label, kind, f"{BARE}/{server}"],
        )
        for label in labels
        for kind in KINDS
        for server in SERVERS
    ]


def table(rows: Sequence[Row]) -> list[str]:
    """The one table: req/s per cell, then feeds/naive and bare/feeds."""
    head = ["posts", "answer", "server", "feeds", "naive (gunicorn)", "bare", "feeds/naive"]
    return aligned([[*head, "bare/feeds"], *(row.cells() for row in rows)])


def ratio_text(values: tuple[float, float, float], places: int = 1) -> str:
    """A ratio as ``median× (worst–best)``, with ``places`` decimals."""
    median, worst, best = values
    return f"{median:,.{places}f}× ({worst:,.{places}f}–{best:,.{places}f})"


def verdicts(rows: Sequence[Row]) -> list[str]:
    """Each target, on the medians, met or missed."""
    lines = []
    largest = rows[-1].dataset
    for row in rows:
        wanted = TARGETS.get(row.kind)
        if row.dataset == largest and wanted is not None:
            got = ratio(row.feeds, row.naive)[0]
            text = f"{row.kind} at {largest} ({row.server}): feeds/naive ≥ {wanted:g}×"
            lines.append(_verdict(text, got >= wanted, got))
        got = ratio(row.bare, row.feeds)[0]
        text = f"{row.kind} at {row.dataset} ({row.server}): bare/feeds ≤ {BARE_TARGET:g}×"
        lines.append(_verdict(text, got <= BARE_TARGET, got))
    return lines


def _verdict(text: str, met: bool, got: float) -> str:
    return f"{'met   ' if met else 'MISSED'} {text} (got {got:,.2f}×)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="/tmp/feeds-1k.db,/tmp/feeds-100k.db")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    samples: Samples = defaultdict(list)
    started = time.monotonic()
    labels = [
        measure(dataset, args.runs, args.seconds, samples) for dataset in args.datasets.split(",")
    ]
    print(
        f"req/s, median (min–max) of {args.runs} runs of wrk -t2 -c32 -d{args.seconds:g}s; "
        f"GET of the largest category's Atom feed (50 entries); "
        f"ratios: of the medians (worst–best run pairs)"
    )
    table_rows = rows(samples, labels)
    print("\n".join(table(table_rows)))
    print("\n".join(verdicts(table_rows)))
    print(f"took {time.monotonic() - started:.0f} s")
    raw = {" ".join(key): values for key, values in samples.items()}
    (LOGS / "serve_bench.json").write_text(json.dumps(raw, indent=1))


if __name__ == "__main__":
    main()
