"""A seeded, reproducible blog of any size for the benchmarks, loaded through bulk_create_posts.

    python bench/dataset.py --posts 100000 --out /tmp/feeds-100k.db [--seed 1]
    python bench/dataset.py --posts 100000 \
        --url postgresql+psycopg://postgres@127.0.0.1:54339/feeds_100k

``--out`` makes a new SQLite file; ``--url`` loads any SQLAlchemy URL whose database is
empty (bench/postgres.sh starts a PostgreSQL cluster and creates databases for it).

Post *i* depends only on the seed and *i* (a smaller dataset is the start of a larger
one): about 4 KB of HTML in one of the config's eleven languages (texts of feeds/tools/demo),
one to three of twelve categories with Zipf-like sizes, 0-3 of 300 tags, one or two
authors, a publication date spread over 2014-2025, and about 2% drafts. The store also
gets the index the usual (naive) query wants, on posts.published, and ANALYZE (on
PostgreSQL, then VACUUM). SQLite datasets belong under /tmp, never in the repository.
"""

from __future__ import annotations

import argparse
import random
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from html import escape
from multiprocessing import Pool
from multiprocessing.pool import AsyncResult
from multiprocessing.pool import Pool as PoolType
from pathlib import Path
from typing import Any

from harness import database_url
from sqlalchemy import Engine, event

from feeds.serving.links import SiteLinks
from feeds.settings import Settings
from feeds.store import Store
from feeds.store.bulk import bulk_create_posts
from feeds.store.models import PostStatus
from feeds.store.taxonomy import ensure_category
from feeds.store.validation import AuthorInput, PostInput, TermInput
from feeds.tools.demo import AUTHORS, LANGUAGE_WEIGHTS, seed_data
from feeds.tools.demo.texts import TEXTS, LanguageText

REPO = Path(__file__).resolve().parent.parent
EXTRA_CATEGORIES = {
    "security": "Security",
    "developers": "Developers",
    "events": "Events",
    "partners": "Partners",
    "research": "Research",
}
ZIPF_EXPONENT = 1.1
TAG_COUNT = 300
DRAFT_SHARE = 0.02
BODY_BYTES = (2500, 4500)  # paragraphs; with the list and links, about 4 KB stored
SINCE = datetime(2014, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=11 * 365)
COMMIT_EVERY = 20_000


def categories() -> dict[str, str]:
    """The twelve categories, slug → name, largest first (the demo's seven, then five more)."""
    demo = {c["slug"]: c["name"] for c in seed_data()["categories"]}
    by_size = ["blog-posts", "tech", "product-news", "company-news", "thought-leadership"]
    ordered = {slug: demo[slug] for slug in by_size}
    ordered.update(EXTRA_CATEGORIES)
    ordered.update({slug: name for slug, name in demo.items() if slug not in ordered})
    return ordered


def zipf_weights(count: int) -> list[float]:
    """Weights 1/k^s for ranks 1..count: a few large groups and a long tail of small ones."""
    return [1 / rank**ZIPF_EXPONENT for rank in range(1, count + 1)]


class Blog:
    """The generator: post number *i* of a seed, as a PostInput for the write path."""

    def __init__(self, settings: Settings, seed: int) -> None:
        self.seed = seed
        self.links = SiteLinks(settings)
        self.languages = [code for code in LANGUAGE_WEIGHTS if code in settings.languages]
        self.language_weights = [LANGUAGE_WEIGHTS[code] for code in self.languages]
        self.categories = list(categories())
        self.category_weights = zipf_weights(len(self.categories))
        self.tags = [f"tag-{number}" for number in range(TAG_COUNT)]
        self.tag_weights = zipf_weights(TAG_COUNT)

    def post(self, number: int) -> PostInput:
        """Post ``number``: the same post for the same seed, whatever the dataset's size."""
        rng = random.Random(self.seed * 1_000_003 + number)
        language = rng.choices(self.languages, self.language_weights)[0]
        text = TEXTS[language]
        topic = rng.randrange(len(text.topics))
        title = rng.choice(text.titles).format(topic=text.topics[topic], n=number % 9 + 1)
        slug = f"{TEXTS['en'].topics[topic % len(TEXTS['en'].topics)]}-{number}".replace(" ", "-")
        summary = " ".join(rng.sample(text.sentences, 2))
        return PostInput(
            title=title,
            slug=slug,
            language=language,
            summary=summary,
            content_html=self._body(rng, text, summary, self.links.home(language)),
            status=PostStatus.DRAFT if rng.random() < DRAFT_SHARE else PostStatus.PUBLISHED,
            published=(SINCE + SPAN * rng.random()).replace(microsecond=0),
            categories=self._terms(rng, self.categories, self.category_weights, (1, 1, 2, 3)),
            tags=self._terms(rng, self.tags, self.tag_weights, (0, 1, 2, 3)),
            authors=[AuthorInput(name) for name in rng.sample(AUTHORS, rng.choice((1, 1, 2)))],
            entry_id=f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}",
        )

    @staticmethod
    def _terms(
        rng: random.Random, slugs: Sequence[str], weights: Sequence[float], counts: Sequence[int]
    ) -> list[TermInput]:
        chosen = rng.choices(slugs, weights, k=rng.choice(counts))
        return [TermInput(slug) for slug in sorted(set(chosen))]

    @staticmethod
    def _body(rng: random.Random, text: LanguageText, summary: str, home: str) -> str:
        """About 4 KB of HTML: headed paragraphs, a list, a relative and an absolute link."""
        target = rng.randint(*BODY_BYTES)
        parts = [f"<p>{escape(summary)}</p>"]
        size = len(parts[0].encode())
        while size < target:
            heading = escape(rng.choice(text.headings))
            body = escape(" ".join(rng.choices(text.sentences, k=6)))
            parts.append(f"<h2>{heading}</h2><p>{body}</p>")
            size += len(parts[-1].encode())
        items = "".join(f"<li>{escape(s)}</li>" for s in rng.sample(text.sentences, 3))
        parts.append(f'<ul>{items}</ul><p><a href="../">{escape(text.headings[-1])}</a> · ')
        parts.append(f'<a href="{escape(home)}">{escape(home)}</a></p>')
        return "".join(parts)


def build(url: str, posts: int, seed: int, settings: Settings) -> dict[str, float]:
    """Write a store of ``posts`` posts into the empty database at ``url``; returns what it
    took."""
    store = Store(url)
    sqlite = store.engine.dialect.name == "sqlite"
    if sqlite:
        event.listen(store.engine, "connect", _fast_loading)
    store.create_schema()
    blog = Blog(settings, seed)
    started = time.perf_counter()
    with store.session() as session, Pool(1) as pool:
        for slug, name in categories().items():
            ensure_category(session, slug, name)
        session.commit()
        for chunk in _made_ahead(pool, blog, posts):
            bulk_create_posts(session, settings, chunk)
            session.commit()
    loaded = time.perf_counter() - started
    with store.engine.begin() as connection:
        # The index the usual query wants; feeds itself reads scope_entries only.
        connection.exec_driver_sql("CREATE INDEX bench_posts_published ON posts (published)")
    store.analyze()
    _settle(store.engine, sqlite)
    store.dispose()
    return {"load_seconds": loaded, "total_seconds": time.perf_counter() - started}


def _settle(engine: Engine, sqlite: bool) -> None:
    """Leave the store as it will be read: SQLite's WAL folded into the file; PostgreSQL's
    tables vacuumed, so that index-only scans need no heap visits and the figures do not
    depend on whether autovacuum has passed yet."""
    if sqlite:
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM")


def size_mib(url: str) -> float:
    """The store's size on disk, MiB."""
    store = Store(url)
    try:
        if store.engine.dialect.name == "sqlite":
            return Path(store.engine.url.database or "").stat().st_size / 2**20
        with store.engine.connect() as connection:
            query = "SELECT pg_database_size(current_database())"
            return connection.exec_driver_sql(query).scalar_one() / 2**20
    finally:
        store.dispose()


def _made_ahead(pool: PoolType, blog: Blog, posts: int) -> Iterator[list[PostInput]]:
    """The posts in chunks of COMMIT_EVERY, the next chunk made in ``pool`` while the caller
    stores this one (at most two chunks in memory)."""
    starts = range(0, posts, COMMIT_EVERY)

    def make(start: int) -> AsyncResult[list[PostInput]]:
        numbers = range(start, min(start + COMMIT_EVERY, posts))
        return pool.map_async(blog.post, numbers, chunksize=500)

    pending = make(0)
    for start in starts:
        chunk = pending.get()
        if start + COMMIT_EVERY < posts:
            pending = make(start + COMMIT_EVERY)
        yield chunk


def _fast_loading(dbapi_connection: Any, _record: Any) -> None:
    """A throwaway dataset needs no durability while it loads: no fsync, a large page cache."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous = OFF")
    cursor.execute("PRAGMA cache_size = -262144")
    cursor.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, required=True)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", type=Path, help="a new SQLite file")
    where.add_argument("--url", help="a SQLAlchemy URL of an empty database")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--config", type=Path, default=REPO / "config.toml")
    args = parser.parse_args()
    if args.out is not None and args.out.exists():
        parser.error(f"{args.out} exists; remove it first")
    url = args.url or database_url(args.out)
    probe = Store(url)
    if probe.schema_revision() is not None:
        parser.error(f"{url} already holds a feeds schema; give an empty database")
    probe.dispose()  # build's connections must all get its SQLite pragmas
    settings = Settings.load(args.config, environ={})
    took = build(url, args.posts, args.seed, settings)
    print(
        f"{args.posts} posts → {args.out or url} ({size_mib(url):,.0f} MiB): loaded in "
        f"{took['load_seconds']:.1f} s ({args.posts / took['load_seconds']:,.0f} posts/s), "
        f"{took['total_seconds']:.1f} s with the naive index and ANALYZE"
    )


if __name__ == "__main__":
    main()
