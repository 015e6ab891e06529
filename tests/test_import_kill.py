"""kill -9 during `feeds import jsonl`: the store keeps whole batches of whole posts, each
with its categories, tags, authors and feed index rows, and running the import again
completes it with every post exactly once. On SQLite, and on PostgreSQL in CI's second pass
(tests.conftest.database_url)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from feeds.store import Store
from feeds.store.models import Category, Post, ScopeEntry
from feeds.store.queries import post_query
from tests.conftest import REPO, database_url

pytestmark = pytest.mark.process

POSTS = 2000
BATCH = 50


def write_posts(path: Path) -> None:
    """POSTS posts in two languages, with categories, tags and authors; a tenth are drafts."""
    with path.open("w", encoding="utf-8") as out:
        for number in range(POSTS):
            day = 1 + number % 28
            document = {
                "entry_id": f"urn:kill:{number}",
                "title": f"Post {number}",
                "slug": f"post-{number}",
                "language": "fr" if number % 3 == 0 else "en",
                "status": "draft" if number % 10 == 0 else "published",
                "published": f"2023-{1 + number % 12:02d}-{day:02d}T{number % 24:02d}:00:00Z",
                "updated": f"2024-01-{day:02d}T00:00:00Z",
                "summary": f"Summary {number}.",
                "content_html": f"<p>Content of post {number}.</p>" * 20,
                "categories": [
                    {"slug": f"topic-{number % 7}", "name": f"Topic {number % 7}"},
                    {"slug": f"series-{number % 5}", "name": f"Series {number % 5}"},
                ],
                "tags": [f"tag-{number % 11}"],
                "authors": [f"Author {number % 4}"],
            }
            out.write(json.dumps(document) + "\n")


def run_import(url: str, path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "FEEDS_CONFIG": str(REPO / "config.toml"), "FEEDS_DATABASE_URL": url}
    command = [sys.executable, "-m", "feeds", "import", "jsonl", str(path)]
    return subprocess.Popen(
        [*command, "--batch-size", str(BATCH)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def post_count(store: Store) -> int:
    try:
        with store.session() as session:
            return session.scalar(select(func.count()).select_from(Post)) or 0
    except SQLAlchemyError:  # no schema yet, or the writer holds the file this instant
        return 0


def shapes(url: str) -> dict[str, tuple[Any, ...]]:
    """Every post by entry id, with what a write stores beside it: categories, tags,
    authors, and its feed index rows (category ids as slugs, as ids differ by store)."""
    store = Store(url)
    try:
        with store.session() as session:
            slugs = {c.id: c.slug for c in session.scalars(select(Category))}
            rows: dict[int, set[tuple[str, datetime]]] = defaultdict(set)
            for scope, published, post_id in session.execute(
                select(ScopeEntry.scope, ScopeEntry.published, ScopeEntry.post_id)
            ):
                named = re.sub(r"cat:(\d+)", lambda m: f"cat:{slugs[int(m.group(1))]}", scope)
                rows[post_id].add((named, published))
            found = {}
            for post in session.scalars(post_query()):
                found[post.entry_id] = (
                    post.title,
                    post.slug,
                    post.language,
                    post.status,
                    post.published,
                    post.updated,
                    post.summary,
                    post.content_html,
                    tuple(c.slug for c in post.categories),
                    tuple(t.slug for t in post.tags),
                    tuple(a.name for a in post.authors),
                    frozenset(rows.pop(post.id, set())),
                )
            assert not rows, f"index rows of no post: {sorted(rows)[:5]}"
            return found
    finally:
        store.dispose()


def test_an_import_killed_mid_way_keeps_whole_posts_and_a_rerun_completes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "posts.jsonl"
    write_posts(path)
    fresh_url = database_url(tmp_path, "fresh")
    fresh = run_import(fresh_url, path)
    out, err = fresh.communicate(timeout=600)
    assert fresh.returncode == 0, err
    assert out.startswith(f"created {POSTS}, updated 0, unchanged 0, skipped 0")
    expected = shapes(fresh_url)
    assert len(expected) == POSTS
    assert sum(bool(shape[-1]) for shape in expected.values()) == POSTS - POSTS // 10

    killed_url = database_url(tmp_path, "killed")
    importing = run_import(killed_url, path)
    watcher = Store(killed_url)
    deadline = time.monotonic() + 300
    try:
        while post_count(watcher) < 5 * BATCH:
            assert importing.poll() is None, "the import ended before it could be killed"
            assert time.monotonic() < deadline, "no batch committed in time"
            time.sleep(0.02)
    finally:
        watcher.dispose()
        importing.send_signal(signal.SIGKILL)
        importing.communicate(timeout=60)
    assert importing.returncode == -signal.SIGKILL

    kept = shapes(killed_url)
    assert 5 * BATCH <= len(kept) < POSTS, "killed after some batches, before the end"
    assert len(kept) % BATCH == 0, f"{len(kept)} posts: a batch was half-committed"
    for entry_id, shape in kept.items():
        assert shape == expected[entry_id], f"{entry_id} is not whole"

    again = run_import(killed_url, path)
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, err
    assert out.splitlines()[0] == (
        f"created {POSTS - len(kept)}, updated 0, unchanged {len(kept)}, skipped 0"
    )
    assert shapes(killed_url) == expected  # every post once: entry ids are unique keys
