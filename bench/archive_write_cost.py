"""What sealing archives costs a write: ms per create_post at several commits, in one run.

    python bench/archive_write_cost.py [--at COMMIT]... [--posts 2000] [--writes 200] [--runs 3]

Each ``--at`` commit is checked out into a temporary git worktree; the working tree is
always measured too, last. Each side gets a SQLite store of its own in a temporary
directory, preloaded with ``--posts`` published posts by its own bulk_create_posts (each
post in two of four categories: three archive scopes, the site's and two categories', as
every timed post), then times ``--writes`` create_post calls, each in its own committed
transaction, at the config's items_per_feed and archive_size (``feeds`` defaults: 50 and
100, so that the timed writes seal a few archives, as a live site's do). Sides alternate
``--runs`` times, so that the box's noise falls on each; it prints the median ms per write.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from harness import REPO, aligned

GIT = shutil.which("git") or "git"

# Run in a child whose PYTHONPATH puts one side's feeds first: only what every side has.
TIMED = """
import json, statistics, sys, time
from datetime import UTC, datetime, timedelta
from feeds.settings import Settings
from feeds.store import Store
from feeds.store.bulk import bulk_create_posts
from feeds.store.validation import AuthorInput, PostInput, TermInput
from feeds.store.writes import create_post

url, posts, writes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
settings = Settings.load(sys.argv[4], environ={}).replace(database_url=url)
start = datetime(2020, 1, 1, tzinfo=UTC)
categories = ["alpha", "beta", "gamma", "delta"]

def post(number):
    return PostInput(
        title=f"Post {number}", slug=f"post-{number}", language="en",
        summary="A summary.", content_html="<p>Some content.</p>",
        published=start + timedelta(hours=number),
        categories=[TermInput(categories[number % 4]), TermInput(categories[(number + 1) % 4])],
        authors=[AuthorInput("Ada Lovelace")],
    )

store = Store(url)
store.create_schema()
with store.writing() as session:
    bulk_create_posts(session, settings, (post(n) for n in range(posts)))
    session.commit()
times = []
for number in range(posts, posts + writes):
    began = time.perf_counter()
    with store.writing() as session:
        create_post(session, settings, post(number))
        session.commit()
    times.append(time.perf_counter() - began)
print(json.dumps({"ms": statistics.median(times) * 1000}))
"""


def ms_per_write(tree: Path, database: Path, posts: int, writes: int) -> float:
    """The median ms of one create_post on a fresh store of ``tree``'s feeds."""
    database.unlink(missing_ok=True)
    output = subprocess.run(
        [
            sys.executable,
            "-c",
            TIMED,
            f"sqlite:///{database}",
            str(posts),
            str(writes),
            str(tree / "config.toml"),
        ],
        env={**os.environ, "PYTHONPATH": str(tree)},
        check=True,
        capture_output=True,
        text=True,
        timeout=900,
    ).stdout
    return float(json.loads(output.splitlines()[-1])["ms"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--at", action="append", default=[], help="a commit to measure too")
    parser.add_argument("--posts", type=int, default=2000, help="posts preloaded per store")
    parser.add_argument("--writes", type=int, default=200, help="create_post calls timed")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="feeds-archive-cost-") as scratch, ExitStack() as stack:
        work = Path(scratch)
        trees: dict[str, Path] = {}
        for commit in args.at:
            tree = work / commit
            git_worktree = [GIT, "-C", str(REPO), "worktree"]
            subprocess.run([*git_worktree, "add", "-q", "--detach", str(tree), commit], check=True)
            remove = [*git_worktree, "remove", "--force", str(tree)]
            stack.callback(subprocess.run, remove, check=True)
            trees[commit] = tree
        trees["working tree"] = REPO
        samples: dict[str, list[float]] = {name: [] for name in trees}
        for _ in range(args.runs):
            for name, tree in trees.items():
                samples[name].append(ms_per_write(tree, work / "store.db", args.posts, args.writes))
        print(
            f"ms per create_post (median of {args.writes} writes, then of {args.runs} runs), "
            f"{args.posts} posts preloaded, three archive scopes per post"
        )
        rows = [["side", "ms", "runs"]]
        for name, values in samples.items():
            runs = " ".join(f"{value:.2f}" for value in values)
            rows.append([name, f"{statistics.median(values):.2f}", runs])
        print("\n".join(aligned(rows)))


if __name__ == "__main__":
    main()
