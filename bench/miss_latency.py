"""Miss-path latency: query + render + gzip of a feed (FeedService.render), as the store grows.

    python bench/miss_latency.py \
        --datasets /tmp/feeds-1k.db,/tmp/feeds-100k.db,/tmp/feeds-1m.db [--runs 60]

For each dataset (bench/dataset.py; a SQLite path or a database URL) it times, in process,
what a cache miss costs: the latest-50 query of the scope, feedgen rendering, gzip and the
ETag. The Atom feeds of: the largest category, the same in one language (``--language``,
default en) and its HTML page (feeds.render.page), the largest tag, the author with the most
posts, and combined category feeds of the two largest categories and of the
``max_combined_categories`` largest (a merge of that many index walks). Rounds are
interleaved over datasets and feeds, in a new order each round, after a few warm-up renders
(so the store's pages are in the OS cache: this is the warm miss). It prints median and p95
per cell, how many runs a full garbage collection fell in (the usual cause of a high p95),
the ratio of the largest store to the smallest (target ≤ 1.5), and each feed's ratio to the
single category's in the same store.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import random
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from harness import REPO, count_posts, database_url, human_count, largest

from feeds.serving.service import FeedService
from feeds.serving.spec import FeedFormat, FeedSpec, ScopeKind
from feeds.settings import Settings
from feeds.store import Store

WARMUP = 5
Timings = dict["Cell", list[float]]
TARGET = 1.5


@dataclass(frozen=True)
class Cell:
    """One feed of one dataset, and the service that renders it."""

    dataset: str
    feed: str
    spec: FeedSpec
    service: FeedService

    def render_seconds(self) -> tuple[float, bool]:
        """The time of one miss (query, render, gzip and ETag), and whether a full
        (generation 2) garbage collection ran during it."""
        collections = gc.get_stats()[2]["collections"]
        started = time.perf_counter()
        self.service.render(self.spec, 0, datetime.now(UTC))
        return time.perf_counter() - started, gc.get_stats()[2]["collections"] > collections

    def entries(self) -> int:
        """How many entries the feed holds."""
        body = self.service.render(self.spec, 0, datetime.now(UTC)).identity
        return body.count(b"<entry>") + body.count(b"<entry ") + body.count(b"<article>")


def cells_of(dataset: str, language: str, label: str) -> list[Cell]:
    """The feeds of one dataset (a SQLite path or a database URL), labelled ``label``: the
    single category first, the one the others are compared with."""
    settings = Settings.load(REPO / "config.toml", environ={})
    settings = settings.replace(database_url=database_url(dataset))
    service = FeedService(settings, Store(settings.database_url))
    most = settings.max_combined_categories
    categories = largest(dataset, "categories", most)
    [tag], [author] = largest(dataset, "tags"), largest(dataset, "authors")
    atom, page = FeedFormat.ATOM, FeedFormat.HTML
    in_one = f"category {categories[0]} × {language}"
    feeds = [
        (f"category {categories[0]}", ScopeKind.CATEGORY, categories[:1], None, atom),
        (in_one, ScopeKind.CATEGORY, categories[:1], language, atom),
        (f"{in_one}, its page", ScopeKind.CATEGORY, categories[:1], language, page),
        (f"tag {tag}", ScopeKind.TAG, [tag], None, atom),
        (f"author {author}", ScopeKind.AUTHOR, [author], None, atom),
        ("2 categories combined", ScopeKind.CATEGORY, categories[:2], None, atom),
        (f"{most} categories combined", ScopeKind.CATEGORY, categories, None, atom),
    ]
    return [
        Cell(label, name, FeedSpec(fmt, kind, tuple(sorted(slugs)), in_language), service)
        for name, kind, slugs, in_language, fmt in feeds
    ]


def measure(cells: Sequence[Cell], runs: int) -> tuple[Timings, Counter[Cell]]:
    """``runs`` timings of each cell, interleaved, after WARMUP untimed renders each; and
    how many of its runs had a full garbage collection."""
    timings: Timings = defaultdict(list)
    full_gcs: Counter[Cell] = Counter()
    for _ in range(WARMUP):
        for cell in cells:
            cell.render_seconds()
    order, shuffler = list(cells), random.Random(0)
    for _ in range(runs):
        # A new order each round, so that periodic full collections fall on no one cell.
        shuffler.shuffle(order)
        for cell in order:
            seconds, full_gc = cell.render_seconds()
            timings[cell].append(seconds)
            full_gcs[cell] += full_gc
    return timings, full_gcs


def p95(values: Sequence[float]) -> float:
    """The 95th percentile."""
    return statistics.quantiles(values, n=20)[18]


def report(cells: Sequence[Cell], timings: Timings, full_gcs: Counter[Cell]) -> list[str]:
    """The table (ms) and, per feed, the ratio of the largest dataset to the smallest."""
    lines = [
        f"{'posts':>6} | {'feed':<34} | {'entries':>7} | {'median ms':>9} | {'p95 ms':>7} | "
        "runs with a full GC"
    ]
    for cell in cells:
        values = timings[cell]
        lines.append(
            f"{cell.dataset:>6} | {cell.feed:<34} | {cell.entries():>7} | "
            f"{statistics.median(values) * 1000:>9.1f} | {p95(values) * 1000:>7.1f} | "
            f"{full_gcs[cell]}"
        )
    for dataset in dict.fromkeys(cell.dataset for cell in cells):
        same = [cell for cell in cells if cell.dataset == dataset]
        single = statistics.median(timings[same[0]])
        lines += [
            f"{dataset}: {cell.feed} / {same[0].feed}: median ×"
            f"{statistics.median(timings[cell]) / single:.2f}"
            for cell in same[1:]
        ]
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
        for dataset in args.datasets.split(",")
        for cell in cells_of(dataset, args.language, human_count(count_posts(dataset)))
    ]
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    timings, full_gcs = measure(cells, args.runs)
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.profile)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    print(f"miss path (FeedService.render: query + render + gzip), {args.runs} runs per cell")
    print("\n".join(report(cells, timings, full_gcs)))


if __name__ == "__main__":
    main()
