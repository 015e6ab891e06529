"""What one cache hit costs in Python, without a server: feeds, a bare Flask route, bare WSGI.

    FEEDS_CONFIG=config.toml FEEDS_DATABASE_URL=sqlite:////tmp/feeds-100k.db \
        python bench/hit_cost.py [--path /feeds/category/blog-posts.atom]
    # a loop to profile with py-spy (record --format raw -- python bench/hit_cost.py …):
    python bench/hit_cost.py --loop 304 --seconds 15
    # feeds' costs only, as JSON (bench/ab.py compares two commits with it):
    python bench/hit_cost.py --json
    # as an aggregator polls (a subscriber count in the User-Agent):
    python bench/hit_cost.py --user-agent "Feedly/1.0 (…; 462 subscribers; )"

It calls each WSGI application directly, with the environ of a 200, a 304 (If-None-Match
with the current ETag) and a gzip request, and prints microseconds per request (median of
5 rounds of 20,000): feeds (``feeds:create_app()``, a warm cache), the floor of Flask (one
route answering a fixed 304 or body, no hooks) and the bare callable (bench/bare_app.py).
On a server, requests per second per core cannot exceed 10⁶ / these microseconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from bare_app import create_app as create_bare_app
from flask import Flask, Response, request
from werkzeug.test import EnvironBuilder

from feeds import create_app

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
ROUNDS, CALLS = 5, 20_000


def environ(path: str, headers: Mapping[str, str]) -> dict[str, Any]:
    """The WSGI environ of a GET of ``path`` with ``headers``."""
    return EnvironBuilder(
        path=path, headers=dict(headers), base_url="http://127.0.0.1"
    ).get_environ()


def call(app: WSGIApp, env: Mapping[str, Any]) -> dict[str, str]:
    """Run one request through ``app``; returns its status and headers."""
    seen: dict[str, str] = {}

    def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> None:
        seen.update(headers, status=status)

    body = app(dict(env), start_response)
    for _ in body:
        pass
    getattr(body, "close", lambda: None)()
    return seen


def flask_floor(body: bytes, etag: str) -> Flask:
    """One Flask route on the feeds URL: a fixed 304 or a fixed body, nothing else."""
    app = Flask("floor")

    @app.get("/feeds/category/<category>.<fmt>")
    def feed(category: str, fmt: str) -> Response:
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(body, headers={"ETag": etag})

    return app


def kinds(etag: str, user_agent: str | None = None) -> dict[str, dict[str, str]]:
    """The request headers of each kind of answer (with ``user_agent``, if given)."""
    sent = {"User-Agent": user_agent} if user_agent is not None else {}
    return {
        "200": sent,
        "304": {**sent, "If-None-Match": etag},
        "gzip": {**sent, "Accept-Encoding": "gzip"},
    }


def microseconds(app: WSGIApp, env: Mapping[str, Any]) -> float:
    """Median over ROUNDS of the mean time of CALLS requests, in µs."""
    rounds = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(CALLS):
            call(app, env)
        rounds.append((time.perf_counter() - started) / CALLS * 1e6)
    return statistics.median(rounds)


def loop(app: WSGIApp, env: Mapping[str, Any], seconds: float) -> int:
    """Call ``app`` for ``seconds`` (a steady load for a sampling profiler); returns how often."""
    deadline, count = time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        call(app, env)
        count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default="/feeds/category/blog-posts.atom")
    parser.add_argument("--loop", choices=("200", "304", "gzip"), help="only loop feeds' hit")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--json", action="store_true", help="only feeds' costs, as JSON")
    parser.add_argument("--user-agent", help="the User-Agent requests send (default: none)")
    args = parser.parse_args()
    feeds = create_app()
    first = call(feeds, environ(args.path, {}))
    feeds_kinds = kinds(first["ETag"], args.user_agent)
    if args.loop:
        count = loop(feeds, environ(args.path, feeds_kinds[args.loop]), args.seconds)
        print(f"{count} requests of {args.loop} in {args.seconds:g} s")
        return
    if args.json:
        costs = {
            kind: microseconds(feeds, environ(args.path, headers))
            for kind, headers in feeds_kinds.items()
        }
        print(json.dumps(costs))
        return
    body = feeds.test_client().get(args.path).data
    with tempfile.NamedTemporaryFile(suffix=".atom") as file:
        Path(file.name).write_bytes(body)
        bare = create_bare_app(file.name)
    bare_etag = call(bare, environ(args.path, {}))["ETag"]
    apps = {
        "feeds": (feeds, feeds_kinds),
        "Flask floor": (flask_floor(body, first["ETag"]), feeds_kinds),
        "bare WSGI": (bare, kinds(bare_etag, args.user_agent)),
    }
    print(f"µs per request in process, median of {ROUNDS} × {CALLS:,}; GET {args.path}")
    print(f"{'':12} | " + " | ".join(f"{kind:>6}" for kind in feeds_kinds))
    for name, (app, headers) in apps.items():
        costs = [microseconds(app, environ(args.path, headers[kind])) for kind in headers]
        print(f"{name:12} | " + " | ".join(f"{cost:6.1f}" for cost in costs))


if __name__ == "__main__":
    main()
