"""The poll path against nginx: feeds' production server and nginx serving the static export
of the same store, side by side in one run.

    python bench/poll_vs_nginx.py [--store /tmp/poll-vs-nginx-1k.db] [--runs 5] [--seconds 5]

It makes the demo store (``feeds init`` + ``feeds demo``, 1,000 generated posts) unless the
SQLite file exists, exports it with ``feeds build`` (every feed and its .gz), then starts on
127.0.0.1 nginx on the export (deploy/nginx-static.conf: gzip_static, etag; as many worker
processes as feeds has, no access log, as the tests run it) and ``feeds serve --production
--workers 2`` (its defaults: the JSON access line per request, /metrics across workers).
Each is driven with wrk -t2 -c32 for the Atom feed of the largest category: 200 identity,
304 (If-None-Match with the server's own ETag) and gzip (Accept-Encoding: gzip). Runs are
interleaved (nginx then feeds, for each kind, run after run) so that the noise of a shared
box falls on both. It prints req/s, median (min–max) of the runs, and feeds/nginx.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.error
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

from harness import (
    HOST,
    REPO,
    VENV_BIN,
    Fetched,
    ServerSpec,
    aligned,
    database_url,
    fetch,
    free_port,
    largest_category,
    running,
    stop_process_group,
    store_env,
    wrk,
)

KINDS = ("200", "304", "gzip")
TARGET = 0.5  # feeds/nginx, each kind
START_SECONDS = 30
LOGS = Path("/tmp/bench-logs")


def demo_store(path: Path) -> None:
    """The demo blog in a SQLite file at ``path`` (made once; an existing file is taken)."""
    if path.exists():
        return
    env = {**os.environ, **store_env(path)}
    for command in (["init"], ["demo", "--posts", "1000"]):
        subprocess.run([str(VENV_BIN / "feeds"), *command], env=env, check=True, timeout=600)


def export(store: Path, directory: Path) -> None:
    """``feeds build`` of ``store`` into ``directory``."""
    env = {**os.environ, **store_env(store)}
    feeds = str(VENV_BIN / "feeds")
    subprocess.run([feeds, "build", str(directory)], env=env, check=True, timeout=600)


@contextmanager
def nginx(site: Path, workers: int, directory: Path) -> Iterator[str]:
    """nginx serving ``site`` with deploy/nginx-static.conf; yields its base URL."""
    port = free_port()
    server = (REPO / "deploy/nginx-static.conf").read_text()
    server = server.replace("listen 8080;", f"listen {HOST}:{port};")
    server = server.replace("root /srv/feeds;", f"root {site};")
    conf = directory / "nginx.conf"
    conf.write_text(
        f"daemon off; worker_processes {workers};\n"
        f"pid {directory}/nginx.pid; error_log {directory}/error.log;\n"
        "events { worker_connections 1024; }\n"
        f"http {{ access_log off; client_body_temp_path {directory}/body;"
        f" proxy_temp_path {directory}/proxy; fastcgi_temp_path {directory}/fastcgi;"
        f" uwsgi_temp_path {directory}/uwsgi; scgi_temp_path {directory}/scgi;\n"
        f"{server}\n}}\n"
    )
    process = subprocess.Popen(
        [nginx_binary(), "-p", str(directory), "-c", str(conf)], start_new_session=True
    )
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                fetch(f"{base}/feeds.json")
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("nginx did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        stop_process_group(process)


def nginx_binary() -> str:
    """nginx's path: on PATH, else Debian's /usr/sbin/nginx."""
    return shutil.which("nginx") or "/usr/sbin/nginx"


def feeds_server(store: Path, workers: int) -> ServerSpec:
    """``feeds serve --production`` as an operator runs it, on ``workers`` workers."""
    argv = (
        str(VENV_BIN / "feeds"),
        "serve",
        "--production",
        f"--host={HOST}",
        "--port={port}",
        f"--workers={workers}",
    )
    return ServerSpec("feeds-production", argv, store_env(store))


def kind_headers(url: str, gzip_body: bool = True) -> dict[str, dict[str, str]]:
    """The request headers of each kind, with the ETag ``url`` gives now; checks the answers."""
    first = fetch(url)
    headers = {
        "200": {},
        "304": {"If-None-Match": first.headers["etag"]},
        "gzip": {"Accept-Encoding": "gzip"},
    }
    checks: Mapping[str, tuple[Fetched, str]] = {
        "200": (first, ""),
        "304": (fetch(url, headers["304"]), ""),
        "gzip": (fetch(url, headers["gzip"]), "gzip"),
    }
    for kind, (answer, encoding) in checks.items():
        wanted = 304 if kind == "304" else 200
        if answer.status != wanted or answer.headers.get("content-encoding", "") != encoding:
            raise RuntimeError(f"{url}: {kind} answered {answer.status} {answer.headers}")
    return headers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=Path("/tmp/poll-vs-nginx-1k.db"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    demo_store(args.store)
    path = f"/feeds/category/{largest_category(args.store)}.atom"
    samples: dict[tuple[str, str], list[float]] = defaultdict(list)
    with ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="poll-nginx-")))
        directory.chmod(0o755)  # nginx's workers may run as another user (nobody under root)
        export(args.store, directory / "site")
        size = (directory / "site" / path.lstrip("/")).stat().st_size
        servers = {
            "nginx": stack.enter_context(nginx(directory / "site", args.workers, directory)),
            "feeds": stack.enter_context(
                running(feeds_server(args.store, args.workers), path, LOGS)
            ).url(""),
        }
        headers = {name: kind_headers(base + path) for name, base in servers.items()}
        for name, base in servers.items():  # warm every worker's cache and connections
            for kind in KINDS:
                wrk(base + path, headers[name][kind], seconds=1)
        for run in range(args.runs):
            for kind in KINDS:
                for name, base in servers.items():
                    result = wrk(base + path, headers[name][kind], seconds=args.seconds)
                    if result.bad_answers or result.socket_errors:
                        print(f"! {name} {kind} run {run}: {result}")
                    samples[name, kind].append(result.requests_per_second)
    print(
        f"GET {path} ({size / 1024:.0f} KB), {database_url(args.store)}; wrk -t2 -c32 "
        f"-d{args.seconds:g}s, {args.workers} workers each, req/s median (min–max) of "
        f"{args.runs} interleaved runs"
    )
    lines = [["answer", "nginx", "feeds", "feeds/nginx", f"≥ {TARGET}"]]
    for kind in KINDS:
        nginx_rps, feeds_rps = samples["nginx", kind], samples["feeds", kind]
        ratio = statistics.median(feeds_rps) / statistics.median(nginx_rps)
        lines.append(
            [
                kind,
                spread(nginx_rps),
                spread(feeds_rps),
                f"{ratio:.2f}",
                "met" if ratio >= TARGET else "missed",
            ]
        )
    print("\n".join(aligned(lines)))


def spread(values: list[float]) -> str:
    """``median (min–max)`` of req/s figures."""
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}–{max(values):,.0f})"


if __name__ == "__main__":
    main()
