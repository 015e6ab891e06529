"""Before and after in one run: a hit's cost and a server's req/s at two commits of feeds.

    python bench/ab.py [--base 14ce2d0] [--head COMMIT] [--runs 3] [--posts 1000] [--no-serve]
                       [--user-agent "Feedly/1.0 (…; 462 subscribers; )"]

It checks the base commit out into a temporary git worktree and compares it with this
working tree ("head"), or with ``--head``'s commit, checked out the same way. Each side
gets a demo store of its own, made by its own ``feeds demo`` (the same seeded posts; each
side's own schema), and the feed compared is the Atom feed of
the demo's largest category. Then, alternating base and head ``--runs`` times so that the
box's noise falls on both:

- **hit cost in process**: bench/hit_cost.py --json against each side (µs per cached 200,
  304 and gzip answer; PYTHONPATH puts that side's ``feeds`` first);
- **served**: ``feeds serve --production`` of each side (granian, its defaults, the access
  log on), driven by wrk (2 threads, 32 connections, 5 s) for the same three answers.

Every request sends ``--user-agent`` when it is given (none by default, as wrk sends none).
It prints the medians and head/base for each (above 1.0 is slower for µs, faster for req/s).
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
from collections import defaultdict
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path

from harness import (
    REPO,
    aligned,
    feeds_production,
    fetch,
    largest_category,
    running,
    wrk,
)

KINDS = ("200", "304", "gzip")
GIT = shutil.which("git") or "git"


def git(*arguments: str) -> None:
    """Run git on this repository."""
    subprocess.run([GIT, "-C", str(REPO), *arguments], check=True)


def side_env(checkout: Path, database: Path) -> dict[str, str]:
    """The environment that runs ``checkout``'s feeds on ``database``."""
    return {
        "PYTHONPATH": str(checkout),
        "FEEDS_CONFIG": str(checkout / "config.toml"),
        "FEEDS_DATABASE_URL": f"sqlite:///{database}",
    }


def make_demo(env: Mapping[str, str], posts: int) -> None:
    """Fill a side's store with its own ``feeds demo``."""
    subprocess.run(
        [sys.executable, "-m", "feeds", "demo", f"--posts={posts}"],
        cwd=env["PYTHONPATH"],  # -m puts the working directory first on sys.path
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        timeout=600,
    )


def hit_costs(env: Mapping[str, str], path: str, user_agent: str | None) -> dict[str, float]:
    """µs per cached answer of each kind, from hit_cost.py run against one side."""
    agent = [f"--user-agent={user_agent}"] if user_agent is not None else []
    output = subprocess.run(
        [sys.executable, str(REPO / "bench" / "hit_cost.py"), "--json", f"--path={path}", *agent],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        text=True,
        timeout=900,
    ).stdout
    costs: dict[str, float] = json.loads(output.splitlines()[-1])
    return costs


def request_headers(etag: str, user_agent: str | None) -> dict[str, dict[str, str]]:
    """The request headers of each kind of answer."""
    sent = {"User-Agent": user_agent} if user_agent is not None else {}
    return {
        "200": sent,
        "304": {**sent, "If-None-Match": etag},
        "gzip": {**sent, "Accept-Encoding": "gzip"},
    }


def table(title: str, unit: str, samples: Mapping[str, Mapping[str, list[float]]]) -> None:
    """Print base, head and head/base (medians) per kind of answer."""
    print(f"\n{title} ({unit}, median of {len(samples['base']['200'])} runs)")
    rows = [["answer", "base", "head", "head/base"]]
    for kind in KINDS:
        base = statistics.median(samples["base"][kind])
        head = statistics.median(samples["head"][kind])
        rows.append([kind, f"{base:,.1f}", f"{head:,.1f}", f"{head / base:.3f}"])
    print("\n".join(aligned(rows)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="14ce2d0", help="the commit to compare with")
    parser.add_argument("--head", help="the commit compared (default: this working tree)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--posts", type=int, default=1000, help="demo posts per store")
    parser.add_argument("--no-serve", action="store_true", help="only the hit cost")
    parser.add_argument("--user-agent", help="the User-Agent every request sends")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="feeds-ab-") as scratch, ExitStack() as stack:
        work = Path(scratch)
        trees = {"base": args.base, "head": args.head}
        sides = {}
        for name, commit in trees.items():
            tree = REPO
            if commit is not None:
                tree = work / name
                git("worktree", "add", "-q", "--detach", str(tree), commit)
                stack.callback(git, "worktree", "remove", "--force", str(tree))
            sides[name] = side_env(tree, work / f"{name}.db")
        for env in sides.values():
            make_demo(env, args.posts)
        path = f"/feeds/category/{largest_category(work / 'head.db')}.atom"
        print(f"base {args.base} against {args.head or 'the working tree'}; GET {path}")

        costs: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for _ in range(args.runs):
            for name, env in sides.items():
                for kind, cost in hit_costs(env, path, args.user_agent).items():
                    costs[name][kind].append(cost)
        table("hit cost in process", "µs per request", costs)
        if args.no_serve:
            return

        servers = {
            name: stack.enter_context(running(feeds_production(name, env), path, work / "logs"))
            for name, env in sides.items()
        }
        rates: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for _ in range(args.runs):
            for name, server in servers.items():
                etag = fetch(server.url(path)).headers["etag"]
                for kind, headers in request_headers(etag, args.user_agent).items():
                    result = wrk(server.url(path), headers)
                    if result.bad_answers or result.socket_errors:
                        raise RuntimeError(f"{name} {kind}: {result}")
                    rates[name][kind].append(result.requests_per_second)
        table("feeds serve --production, wrk -t2 -c32 -d5s", "req/s", rates)


if __name__ == "__main__":
    main()
