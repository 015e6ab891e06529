"""feeds behind its caching nginx (deploy/nginx-cache.conf): what reaches the origin, what
nginx serves, and how stale a feed gets after a write. One run measures all three.

    python bench/cache_proxy.py --dataset /tmp/feeds-1k.db [--runs 3] [--writes 4]

The dataset (made by bench/dataset.py, a SQLite file) is copied to a temporary directory, so
the writes below never touch it. On 127.0.0.1 it starts one origin, ``feeds serve
--production`` (its defaults: shared_max_age 60, stale_while_revalidate_seconds 60,
revision_check_seconds 1, the JSON access log on), nginx with deploy/nginx-cache.conf in front
of it, and nginx with deploy/nginx-static.conf serving ``feeds build`` of the same store;
wrk drives the Atom feed of the largest category (2 threads, 32 connections, 5 s).

1. **The origin under a polling load**: wrk sends aggregators' polls (Accept-Encoding: gzip,
   If-None-Match with the current ETag) to the origin directly, then the same load through
   the cache. The origin's requests per second are counted from its access log: all of
   them without the cache, what nginx passes on with it.
2. **Cached answers**: 200, 304 and gzip through the cache against nginx serving the static
   export of the same feed.
3. **Staleness after a write**: a poller asks for /feeds/all.atom through the cache and from
   the origin every POLL_SECONDS; ``--writes`` times, at a random moment, a post is published
   through the API, and the time until each path first shows it is recorded.

Runs of 1 and 2 are interleaved (run 1 of every cell, then run 2…); medians are printed.
"""

from __future__ import annotations

import argparse
import getpass
import os
import random
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

from harness import (
    CPUS,
    HOST,
    REPO,
    VENV_BIN,
    Server,
    aligned,
    feeds_production,
    fetch,
    free_port,
    largest_category,
    running,
    stop_process_group,
    store_env,
    wrk,
)

TOKEN = "cache-proxy-bench"
POLL_SECONDS = 0.1
STALE_FEED = "/feeds/all.atom"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@contextmanager
def nginx(server_block: str, port: int, directory: Path) -> Iterator[None]:
    """nginx (a master and a worker per CPU, files in ``directory``) running
    ``server_block``, which listens on ``port``; stopped for sure. The workers run as this
    user (as root, nginx would switch to nobody, who cannot write the cache)."""
    directory.mkdir(parents=True, exist_ok=True)
    conf = directory / "nginx.conf"
    conf.write_text(
        f"daemon off; user {getpass.getuser()}; worker_processes {CPUS};\n"
        f"pid {directory}/nginx.pid;\n"
        f"error_log {directory}/error.log;\n"
        "events { worker_connections 1024; }\n"
        f"http {{ access_log off; client_body_temp_path {directory}/body;"
        f" proxy_temp_path {directory}/proxy; fastcgi_temp_path {directory}/fastcgi;"
        f" uwsgi_temp_path {directory}/uwsgi; scgi_temp_path {directory}/scgi;\n"
        f"{server_block}\n}}\n"
    )
    process = subprocess.Popen(
        [NGINX, "-p", str(directory), "-c", str(conf)], start_new_session=True
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection((HOST, port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((directory / "error.log").read_text()) from None
                time.sleep(0.05)
        yield
    finally:
        stop_process_group(process)


def cache_conf(origin_port: int, port: int, cache: Path) -> str:
    """deploy/nginx-cache.conf in front of the one origin, on ``port``."""
    conf = (REPO / "deploy/nginx-cache.conf").read_text()
    for placeholder in ("server 127.0.0.1:8001", "server 127.0.0.1:8002"):
        conf = conf.replace(placeholder, f"server {HOST}:{origin_port}")
    conf = conf.replace("/var/cache/nginx/feeds", str(cache))
    return conf.replace("listen 80;", f"listen {HOST}:{port};")


def static_conf(site: Path, port: int) -> str:
    """deploy/nginx-static.conf serving ``site``, on ``port``."""
    conf = (REPO / "deploy/nginx-static.conf").read_text()
    conf = conf.replace("root /srv/feeds;", f"root {site};")
    return conf.replace("listen 8080;", f"listen {HOST}:{port};")


def origin_requests(log: Path) -> int:
    """How many requests the origin has logged (one JSON line each)."""
    return sum(1 for line in log.read_text().splitlines() if line.startswith('{"method"'))


def poll_headers(url: str) -> dict[str, str]:
    """An aggregator's poll of ``url``: gzip, and the ETag of the copy it has."""
    etag = fetch(url, {"Accept-Encoding": "gzip"}).headers["etag"]
    return {"Accept-Encoding": "gzip", "If-None-Match": etag}


def answer_headers(url: str) -> dict[str, dict[str, str]]:
    """The request headers of a 200, a 304 and a gzip answer of ``url``."""
    etag = fetch(url).headers["etag"]
    return {"200": {}, "304": {"If-None-Match": etag}, "gzip": {"Accept-Encoding": "gzip"}}


def checked_rate(url: str, headers: Mapping[str, str], label: str) -> tuple[float, float]:
    """wrk on ``url``: its req/s and how long it ran, failing on any bad answer."""
    started = time.monotonic()
    result = wrk(url, headers)
    if result.bad_answers or result.socket_errors:
        raise RuntimeError(f"{label}: {result}")
    return result.requests_per_second, time.monotonic() - started


def publish(origin: Server, title: str) -> None:
    """A post in English, published now through the admin API."""
    body = f'{{"title": "{title}", "language": "en"}}'.encode()
    request = urllib.request.Request(
        origin.url("/api/posts"),
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        if answer.status != 201:
            raise RuntimeError(f"publish: {answer.status}")


def staleness(
    origin: Server, cache_port: int, writes: int, window: float
) -> dict[str, list[float]]:
    """Seconds from each write until the origin and the cache first show it, polled every
    POLL_SECONDS; each write at a random moment within ``window`` seconds of the last."""
    urls = {"origin": origin.url(STALE_FEED), "cache": f"http://{HOST}:{cache_port}{STALE_FEED}"}
    seen: dict[str, list[float]] = defaultdict(list)
    for number in range(writes):
        quiet_until = time.monotonic() + random.uniform(0, window)
        while time.monotonic() < quiet_until:  # steady polling before the write
            for url in urls.values():
                fetch(url)
            time.sleep(POLL_SECONDS)
        title = f"Staleness probe {number} {time.time()}"
        publish(origin, title)
        published = time.monotonic()
        waiting = dict(urls)
        while waiting:
            for name, url in list(waiting.items()):
                if title.encode() in fetch(url).body:
                    seen[name].append(time.monotonic() - published)
                    del waiting[name]
            if time.monotonic() - published > 600:
                raise RuntimeError(f"not seen in 10 minutes: {sorted(waiting)}")
            time.sleep(POLL_SECONDS)
    return seen


def table(title: str, rows: list[list[str]]) -> None:
    print(f"\n{title}")
    print("\n".join(aligned(rows)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True, help="a SQLite file from bench/dataset.py")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--writes", type=int, default=4, help="writes whose staleness is timed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="feeds-cache-proxy-") as scratch, ExitStack() as stack:
        work = Path(scratch)
        database = work / "store.db"
        shutil.copyfile(args.dataset, database)
        path = f"/feeds/category/{largest_category(database)}.atom"
        env = store_env(database, FEEDS_ADMIN_TOKEN=TOKEN)
        subprocess.run(
            [str(VENV_BIN / "feeds"), "build", str(work / "site")],
            env={**os.environ, **env},
            check=True,
            capture_output=True,
            timeout=600,
        )
        origin = stack.enter_context(running(feeds_production("origin", env), path, work / "logs"))
        log = work / "logs" / "origin.log"
        cache_port, static_port = free_port(), free_port()
        stack.enter_context(nginx(cache_conf(origin.port, cache_port, work / "cache"),
                                  cache_port, work / "nginx-cache"))  # fmt: skip
        stack.enter_context(nginx(static_conf(work / "site", static_port), static_port,
                                  work / "nginx-static"))  # fmt: skip
        urls = {
            "origin": origin.url(path),
            "cache": f"http://{HOST}:{cache_port}{path}",
            "static": f"http://{HOST}:{static_port}{path}",
        }
        print(f"GET {path}; {CPUS} CPUs; wrk -t2 -c32 -d5s; median of {args.runs} runs")

        polled: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        served: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for _ in range(args.runs):
            for name in ("origin", "cache"):
                before = origin_requests(log)
                rate, seconds = checked_rate(urls[name], poll_headers(urls[name]), name)
                polled[name]["client"].append(rate)
                polled[name]["origin"].append((origin_requests(log) - before) / seconds)
            for name in ("cache", "static"):
                for kind, headers in answer_headers(urls[name]).items():
                    served[name][kind].append(checked_rate(urls[name], headers, name)[0])

        rows = [["polls sent to", "answered req/s", "origin req/s"]]
        for name, label in (("origin", "the origin"), ("cache", "nginx-cache.conf")):
            client = statistics.median(polled[name]["client"])
            reached = statistics.median(polled[name]["origin"])
            rows.append([label, f"{client:,.0f}", f"{reached:,.1f}"])
        table("1. the origin under a polling load (gzip + If-None-Match)", rows)

        rows = [["answer", "nginx-cache.conf", "nginx-static.conf", "cache/static"]]
        for kind in ("200", "304", "gzip"):
            cache = statistics.median(served["cache"][kind])
            static = statistics.median(served["static"][kind])
            rows.append([kind, f"{cache:,.0f}", f"{static:,.0f}", f"{cache / static:.2f}"])
        table("2. cached answers (req/s)", rows)

        seen = staleness(origin, cache_port, args.writes, window=60)
        rows = [["seen through", "each write (s)", "median", "max"]]
        for name in ("origin", "cache"):
            times = seen[name]
            each = " ".join(f"{t:.1f}" for t in times)
            rows.append([name, each, f"{statistics.median(times):.1f}", f"{max(times):.1f}"])
        table(
            f"3. staleness after a write ({args.writes} writes, polled every {POLL_SECONDS} s)",
            rows,
        )


if __name__ == "__main__":
    main()
