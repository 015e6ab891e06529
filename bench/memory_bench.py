"""Peak memory of each server worker while 10,000 distinct feed URLs are polled.

    python bench/memory_bench.py --dataset /tmp/feeds-100k.db [--urls 10000] \
        [--cache-mib 64] [--seconds 180] [--server production|gunicorn]

It starts feeds as ``feeds serve --production`` runs it (granian; or under gunicorn gthread
with ``--server gunicorn``, as serve_bench does) with FEEDS_CACHE_BYTES set to the bound,
harvests ``--urls`` distinct feed URLs through HTTP (every feed of /feeds.json,
then older pages by following their rel="next" links, ``?before=…``), then drives them with
wrk and a Lua script that cycles through the list (half the requests asking for gzip), and
reads each worker's peak resident set (VmHWM in /proc/<pid>/status). Target: every
worker's peak ≤ the cache bound + 80 MiB.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from harness import (
    Server,
    count_posts,
    feeds_production,
    fetch,
    gunicorn,
    human_count,
    running,
    store_env,
    wrk,
)
from lxml import etree

ATOM = "http://www.w3.org/2005/Atom"
OVERHEAD_MIB = 80
LOGS = Path("/tmp/bench-logs")
HARVESTERS = 8
LUA = """
local paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end
function init(args)
  position = id * 7919
end
function request()
  position = position %% #paths + 1
  local headers = {}
  if position %% 2 == 0 then headers["Accept-Encoding"] = "gzip" end
  return wrk.format("GET", paths[position], headers)
end
"""


def local_path(url: str) -> str:
    """The path and query of a feed URL, to ask of this server whatever base_url says."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def next_page(body: bytes) -> str | None:
    """The path of the feed's next page: its rel="next" link (RFC 5005) in Atom or RSS, its
    ``next_url`` in JSON Feed."""
    if body.lstrip().startswith(b"{"):
        next_url = json.loads(body).get("next_url")
        return local_path(next_url) if next_url else None
    for link in etree.fromstring(body).iter(f"{{{ATOM}}}link"):
        if link.get("rel") == "next":
            return local_path(link.get("href", ""))
    return None


def harvest(server: Server, wanted: int) -> list[str]:
    """``wanted`` distinct feed paths: every feed of /feeds.json, then older pages, level by
    level (page 2 of every feed, then page 3…), until there are enough."""
    index = fetch(server.url("/feeds.json"))
    level = [local_path(feed["url"]) for feed in json.loads(index.body)["feeds"]]
    found: list[str] = []
    with ThreadPoolExecutor(HARVESTERS) as pool:
        while level and len(found) < wanted:
            level = level[: wanted - len(found)]
            found += level
            pages = pool.map(lambda path: next_page(fetch(server.url(path)).body), level)
            level = [page for page in pages if page is not None]
    return found


def status_mib(pid: int, field: str) -> float:
    """A VmHWM or VmRSS line of /proc/<pid>/status, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise LookupError(field)


def peaks(pids: Iterable[int]) -> dict[int, float]:
    """Each worker's peak resident set so far, MiB."""
    return {pid: status_mib(pid, "VmHWM") for pid in pids}


def lua_script(paths: Sequence[str]) -> Path:
    """The wrk script cycling through ``paths``, each thread from its own offset."""
    path_file = LOGS / "memory-cycle-paths.txt"
    path_file.write_text("\n".join(paths) + "\n")
    script = LOGS / "memory-cycle.lua"
    script.write_text(LUA % {"paths": path_file})
    return script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dataset", default="/tmp/feeds-100k.db", help="a SQLite path or a database URL"
    )
    parser.add_argument("--urls", type=int, default=10_000)
    parser.add_argument("--cache-mib", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument(
        "--paths", type=Path, help="poll the paths of this file (one a line) instead of harvesting"
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="more environment for the server (MALLOC_ARENA_MAX=2…)",
    )
    parser.add_argument("--server", choices=("production", "gunicorn"), default="production")
    args = parser.parse_args()
    bound = args.cache_mib * 2**20
    extra = dict(item.split("=", 1) for item in args.env)
    env = store_env(args.dataset, FEEDS_CACHE_BYTES=str(bound), **extra)
    if args.server == "gunicorn":
        spec = gunicorn("feeds-memory", "feeds:create_app()", env)
    else:
        spec = feeds_production("feeds-memory", env)
    with running(spec, "/feeds.json", LOGS) as server:
        workers = server.worker_pids()
        at_start = peaks(workers)
        started = time.monotonic()
        paths = args.paths.read_text().split() if args.paths else harvest(server, args.urls)
        harvest_seconds = time.monotonic() - started
        after_harvest = peaks(workers)
        load = wrk(server.url("/"), seconds=args.seconds, script=lua_script(paths))
        final = peaks(workers)
        assert server.worker_pids() == workers, "a worker was replaced during the run"
    limit = args.cache_mib + OVERHEAD_MIB
    print(
        f"{human_count(count_posts(args.dataset))} posts, {len(set(paths))} distinct feed URLs "
        f"({'read from ' + str(args.paths) if args.paths else 'harvested'} in "
        f"{harvest_seconds:.0f} s); server env {extra or 'as is'}; wrk {args.seconds:g} s: "
        f"{load.requests} requests ({load.requests_per_second:.0f}/s, "
        f"{load.bad_answers} bad, {load.socket_errors} socket errors)"
    )
    print(f"FEEDS_CACHE_BYTES = {args.cache_mib} MiB; target: peak RSS ≤ {limit} MiB per worker")
    for pid in workers:
        verdict = "met" if final[pid] <= limit else "MISSED"
        print(
            f"worker {pid}: VmHWM at start {at_start[pid]:.0f} MiB, after harvest "
            f"{after_harvest[pid]:.0f} MiB, after wrk {final[pid]:.0f} MiB — {verdict}"
        )


if __name__ == "__main__":
    main()
