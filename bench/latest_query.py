"""How long the latest-N query of a category feed takes, against the usual JOIN, as a store grows.

    python bench/latest_query.py [--sizes 2000,20000] [--limit 50]

For each store size it builds a SQLite store through the write path (demo posts), then
times, in the same run, the query feeds runs (a range scan of scope_entries) and the
usual query: posts JOIN post_categories ORDER BY posts.published, with the indexes that
query would want. It prints one table; the ratio column is usual / feeds.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Select, select

from feeds.settings import Settings
from feeds.store import Store
from feeds.store.index import scope_key
from feeds.store.models import Post, post_categories
from feeds.store.queries import category_by_slug, latest_posts_statement
from feeds.tools.demo import demo_posts, load_demo

CATEGORIES = ("tech", "donjon")  # a large and a small category of the demo's skewed sizes
REPEATS = 300


def build_store(path: Path, size: int) -> Store:
    settings = Settings.load(Path(__file__).resolve().parent.parent / "config.toml", environ={})
    store = Store(f"sqlite:///{path}")
    store.create_schema()
    with store.engine.begin() as connection:
        # The index the usual query wants; feeds itself does not need it.
        connection.exec_driver_sql("CREATE INDEX bench_posts_published ON posts (published)")
    with store.session() as session:
        load_demo(session, settings, demo_posts(settings, size))
        session.commit()
    store.analyze()
    return store


def median_ms(store: Store, statement: Select[tuple[Post]]) -> float:
    """Median time to run the query and fetch its rows (Core rows: the query, not the ORM)."""
    timings = []
    with store.engine.connect() as connection:
        for _ in range(REPEATS):
            start = time.perf_counter()
            connection.execute(statement).all()
            timings.append(time.perf_counter() - start)
    return statistics.median(timings) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,20000")
    parser.add_argument("--limit", type=int, default=50)
    args = parser.parse_args()
    now = datetime.now(UTC)
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        for size in (int(s) for s in args.sizes.split(",")):
            store = build_store(Path(directory) / f"{size}.db", size)
            for slug in CATEGORIES:
                with store.session() as session:
                    category = category_by_slug(session, slug)
                ours = latest_posts_statement(scope_key(category.id), now, args.limit)
                usual = (
                    select(Post)
                    .join(post_categories, post_categories.c.post_id == Post.id)
                    .where(post_categories.c.category_id == category.id, Post.published <= now)
                    .order_by(Post.published.desc())
                    .limit(args.limit)
                )
                rows.append((size, slug, median_ms(store, ours), median_ms(store, usual)))
            store.dispose()
    print(f"latest {args.limit} posts of a category, median of {REPEATS} runs")
    print(
        f"{'posts':>8} {'category':>10} {'feeds ms':>10} {'usual JOIN ms':>14} {'usual/feeds':>12}"
    )
    for size, slug, ours_ms, usual_ms in rows:
        print(
            f"{size:>8} {slug:>10} {ours_ms:>10.3f} {usual_ms:>14.3f} {usual_ms / ours_ms:>11.1f}x"
        )
    for slug in CATEGORIES:
        first, *_, last = [row for row in rows if row[1] == slug]
        print(
            f"{slug}: growth {first[0]} → {last[0]} posts: feeds ×{last[2] / first[2]:.2f}, "
            f"usual ×{last[3] / first[3]:.2f}"
        )


if __name__ == "__main__":
    main()
