"""The feeds page's counts: the read that gives every listed feed its posts and last update
(feeds.store.activity.scope_activity), timed on datasets of bench/dataset.py.

    python bench/directory_counts.py --datasets /tmp/f13-100k.db,/tmp/f13-1m.db [--runs 7]

Each SQLite dataset is opened read only and immutable (``mode=ro&immutable=1``): the run
writes nothing, not even the -wal and -shm files a reader of a WAL database leaves. The
feeds are those the page lists (every listed feed, as the feed index has them), their scope
keys worked out as the page does (RevisionView.scopes_of); the first run warms the page
cache and is left out.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime

from harness import REPO

from feeds.render.index import listed_feeds
from feeds.serving.spec import FeedFormat
from feeds.settings import Settings
from feeds.store import Store, queries
from feeds.store.activity import scope_activity
from feeds.store.revisions import RevisionBoard


def read_only_url(dataset: str) -> str:
    """A SQLite file's URL, opened read only; any other URL as given."""
    if "://" in dataset:
        return dataset
    return f"sqlite:///file:{dataset}?mode=ro&immutable=1&uri=true"


def measure(dataset: str, runs: int) -> str:
    """One line: the dataset, the scopes counted, the rows they hold, and the median time."""
    settings = Settings.load(REPO / "config.toml", environ={})
    store = Store(read_only_url(dataset))
    try:
        view = RevisionBoard(store, 0).view()
        now = datetime.now(UTC)
        with store.session() as session:
            categories = [term.slug for term in queries.all_categories(session)]
            listed = queries.listed_terms(session, now, settings.tag_feed_min_posts)
            pages = listed_feeds(settings, categories, listed, (FeedFormat.HTML,))
            scopes = {scope for page in pages for scope in view.scopes_of(page)}
            timings = []
            for _ in range(runs + 1):
                started = time.perf_counter()
                counted = scope_activity(session, scopes, now)
                timings.append(time.perf_counter() - started)
    finally:
        store.dispose()
    rows = sum(activity.posts for activity in counted.values())
    median = statistics.median(timings[1:])
    return (
        f"{dataset}: {len(pages)} feeds, {len(scopes)} scopes, {rows:,} index rows counted; "
        f"median {median * 1000:.0f} ms (min {min(timings[1:]) * 1000:.0f}, "
        f"first {timings[0] * 1000:.0f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="/tmp/f13-100k.db,/tmp/f13-1m.db")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    for dataset in args.datasets.split(","):
        print(measure(dataset, args.runs), flush=True)


if __name__ == "__main__":
    main()
