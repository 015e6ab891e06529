"""Miss-path latency: query + render + gzip of a feed (FeedService.render), as the store grows.

    python bench/miss_latency.py \
        --datasets /tmp/feeds-1k.db,/tmp/feeds-100k.db,/tmp/feeds-1m.db [--runs 60]

For each dataset (bench/dataset.py) it times, in process, what a cache miss costs: the
latest-50 query of the scope, feedgen rendering, gzip and the ETag. Two feeds: the largest
category's Atom feed, and the same category in one language (``--language``, default en).
Rounds are interleaved over datasets and feeds, after a few warm-up renders (so the
store's pages are in the OS cache: this is the warm miss). It prints median and p95 per
cell and the ratio of the largest store to the smallest (target ≤ 1.5).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from harness import REPO, count_posts, human_count, largest_category

from feeds.service import FeedService
from feeds.settings import Settings
from feeds.spec import FeedFormat, FeedSpec
from feeds.store import Store

WARMUP = 5
TARGET = 1.5


@dataclass(frozen=True)
class Cell:
    """One feed of one dataset, and the service that renders it."""

    dataset: str
    feed: str
    spec: FeedSpec
    service: FeedService

    def render_seconds(self) -> float:
        """The time of one miss: query, render, gzip and ETag."""
        started = time.perf_counter()
        self.service.render(self.spec, 0, datetime.now(UTC))
        return time.perf_counter() - started

    def entries(self) -> int:
        """How many entries the feed holds."""
        body = self.service.render(self.spec, 0, datetime.now(UTC)).identity
        return body.count(b"<entry>") + body.count(b"<entry ")


def cells_of(database: Path, language: str) -> list[Cell]:
    """The two feeds of one dataset."""
    settings = Settings.load(REPO / "config.toml", environ={})
    settings = settings.replace(database_url=f"sqlite:///{database}")
    service = FeedService(settings, Store(settings.database_url))
    category = largest_category(database)
    label = human_count(count_posts(database))
    return [
        Cell(label, f"category {category}", FeedSpec(FeedFormat.ATOM, category), service),
        Cell(
            label,
            f"category {category} × {language}",
            FeedSpec(FeedFormat.ATOM, category, language),
            service,
        ),
    ]


def measure(cells: Sequence[Cell], runs: int) -> dict[Cell, list[float]]:
    """``runs`` timings of each cell, interleaved, after WARMUP untimed renders each."""
    timings: dict[Cell, list[float]] = defaultdict(list)
    for _ in range(WARMUP):
        for cell in cells:
            cell.render_seconds()
    for _ in range(runs):
        for cell in cells:
            timings[cell].append(cell.render_seconds())
    return timings


def p95(values: Sequence[float]) -> float:
    """The 95th percentile."""
    return statistics.quantiles(values, n=20)[18]


def report(cells: Sequence[Cell], timings: dict[Cell, list[float]]) -> list[str]:
    """The table (ms) and, per feed, the ratio of the largest dataset to the smallest."""
    lines = [f"{'posts':>6} | {'feed':<34} | {'entries':>7} | {'median ms':>9} | {'p95 ms':>7}"]
    for cell in cells:
        values = timings[cell]
        lines.append(
            f"{cell.dataset:>6} | {cell.feed:<34} | {cell.entries():>7} | "
            f"{statistics.median(values) * 1000:>9.1f} | {p95(values) * 1000:>7.1f}"
        )
    for feed in dict.fromkeys(cell.feed for cell in cells):
        same = [cell for cell in cells if cell.feed == feed]
        small, large = timings[same[0]], timings[same[-1]]
        growth = statistics.median(large) / statistics.median(small)
        verdict = "met" if growth <= TARGET else "MISSED"
        lines.append(
            f"{feed}: {same[-1].dataset}/{same[0].dataset} median ×{growth:.2f}, "
            f"p95 ×{p95(large) / p95(small):.2f} — target ≤ {TARGET}: {verdict}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="/tmp/feeds-1k.db,/tmp/feeds-100k.db")
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--language", default="en")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the timed runs here")
    args = parser.parse_args()
    cells = [
        cell
        for database in args.datasets.split(",")
        for cell in cells_of(Path(database), args.language)
    ]
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    timings = measure(cells, args.runs)
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.profile)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    print(f"miss path (FeedService.render: query + render + gzip), {args.runs} runs per cell")
    print("\n".join(report(cells, timings)))


if __name__ == "__main__":
    main()
