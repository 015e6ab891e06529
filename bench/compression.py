"""Is brotli worth keeping beside gzip in the feed cache? Sizes and compression times.

    python bench/compression.py --dataset /tmp/feeds-100k.db [--dataset demo.db]

Needs the ``brotli`` package (pip install brotli), which feeds itself does not use. For every
first-page feed of a dataset (site, languages, categories, category × language, Atom and
RSS), it renders the feed as the service does and compresses it with gzip at the level the
cache uses and with brotli at quality 11 (and 5). It prints, per dataset, the total bytes
of each encoding, the bytes brotli saves over gzip, and the compression time per feed: what
a brotli body would cost the cache (memory, time per render) against what it saves per
answer.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

import brotli
from harness import REPO, database_url, human_count

from feeds.serving.cache import GZIP_LEVEL
from feeds.serving.service import FeedService
from feeds.serving.spec import every_feed
from feeds.settings import Settings
from feeds.store import Store, queries

Compressor = Callable[[bytes], bytes]
ENCODINGS: dict[str, Compressor] = {
    f"gzip -{GZIP_LEVEL}": lambda body: gzip.compress(body, GZIP_LEVEL, mtime=0),
    "brotli q5": lambda body: brotli.compress(body, quality=5),
    "brotli q11": lambda body: brotli.compress(body, quality=11),
}


def bodies(dataset: str) -> list[bytes]:
    """The identity body of every first-page feed of ``dataset``."""
    settings = Settings.load(REPO / "config.toml", environ={})
    settings = settings.replace(database_url=database_url(dataset))
    store = Store(settings.database_url)
    with store.session() as session:
        slugs = [category.slug for category in queries.all_categories(session)]
    service = FeedService(settings, store)
    now = datetime.now(UTC)
    return [service.render(spec, 0, now).identity for spec in every_feed(settings, slugs)]


def report(dataset: str, feeds: list[bytes]) -> list[str]:
    """One line per encoding: total bytes, share of identity, median ms to compress a feed."""
    identity = sum(len(body) for body in feeds)
    lines = [f"{dataset}: {len(feeds)} feeds, identity {human_count(identity)} bytes"]
    totals: dict[str, int] = {}
    for name, compress in ENCODINGS.items():
        seconds, size = [], 0
        for body in feeds:
            started = time.perf_counter()
            size += len(compress(body))
            seconds.append(time.perf_counter() - started)
        totals[name] = size
        lines.append(
            f"  {name:<11} {human_count(size):>12} bytes  {100 * size / identity:5.1f}% of identity"
            f"  {1000 * statistics.median(seconds):7.2f} ms per feed (median)"
        )
    gzip_total = totals[f"gzip -{GZIP_LEVEL}"]
    for name in ("brotli q5", "brotli q11"):
        saved = gzip_total - totals[name]
        lines.append(f"  {name} saves {100 * saved / gzip_total:.1f}% of the gzip bytes")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", action="append", required=True, help="SQLite path or URL")
    args = parser.parse_args()
    for dataset in args.dataset:
        print("\n".join(report(dataset, bodies(dataset))))


if __name__ == "__main__":
    main()
