"""The poll path against nginx: feeds' production server and nginx serving the static export
of the same store, side by side in one run.

    python bench/poll_vs_nginx.py [--runs 5] [--seconds 5] [--base 683722e]

It makes a demo store (``feeds demo``, 1,000 generated posts), exports it with ``feeds build``
(every feed and its .gz), then starts on 127.0.0.1 nginx on the export
(deploy/nginx-static.conf: gzip_static, etag; as many worker processes as feeds has, no
access log, as the tests run it) and ``feeds serve --production --workers 2`` of this
working tree (its defaults: the JSON access line per request, /metrics across workers);
with ``--base``, also that commit's, its files extracted into a temporary directory and run on a
demo store of its own making. Each is driven with wrk -t2 -c32 for the Atom feed of the
largest category: 200 identity, 304 (If-None-Match with the server's own ETag) and gzip
(Accept-Encoding: gzip). Runs are interleaved (every server, for each kind, run after run)
so that the noise of a shared box falls on all. It prints req/s, median (min–max) of the
runs, and each feeds' share of nginx's req/s, with the load average before and after; then
the CPU time each server's processes spent per request (/proc, user + system), which the
other work on a shared box disturbs much less than req/s, and nginx's CPU per request over
each feeds': the share of nginx's req/s that feeds would reach where CPU runs out first.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

from ab import GIT, side_env
from harness import (
    HOST,
    REPO,
    Fetched,
    ServerSpec,
    aligned,
    fetch,
    free_port,
    largest_category,
    running,
    stop_process_group,
    wrk,
)

KINDS = ("200", "304", "gzip")
TARGET = 0.5  # feeds/nginx, each kind
START_SECONDS = 30
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def feeds_command(env: Mapping[str, str], *arguments: str) -> None:
    """Run one side's ``feeds`` command (its checkout first on sys.path)."""
    subprocess.run(
        [sys.executable, "-m", "feeds", *arguments],
        cwd=env["PYTHONPATH"],  # -m puts the working directory first on sys.path
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        timeout=600,
    )


def checkout(commit: str, directory: Path) -> None:
    """The files of ``commit`` in ``directory`` (git archive: no worktree to clean up)."""
    directory.mkdir()
    archive = subprocess.run(
        [GIT, "-C", str(REPO), "archive", commit], check=True, capture_output=True, timeout=60
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as files:
        files.extractall(directory, filter="data")


@contextmanager
def nginx(site: Path, workers: int, directory: Path) -> Iterator[tuple[str, int]]:
    """nginx serving ``site`` with deploy/nginx-static.conf; yields its base URL and pid."""
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
        yield base, process.pid
    finally:
        stop_process_group(process)


def nginx_binary() -> str:
    """nginx's path: on PATH, else Debian's /usr/sbin/nginx."""
    return shutil.which("nginx") or "/usr/sbin/nginx"


def feeds_server(label: str, env: Mapping[str, str], workers: int) -> ServerSpec:
    """``feeds serve --production`` of one side, as an operator runs it, on ``workers``."""
    argv = (
        sys.executable,
        "-m",
        "feeds",
        "serve",
        "--production",
        f"--host={HOST}",
        "--port={port}",
        f"--workers={workers}",
    )
    return ServerSpec(label, argv, env)


def kind_headers(url: str) -> dict[str, dict[str, str]]:
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
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--posts", type=int, default=1000, help="demo posts")
    parser.add_argument("--base", help="a commit whose feeds runs alongside, for before/after")
    args = parser.parse_args()
    load_before = os.getloadavg()
    samples: dict[tuple[str, str], list[float]] = defaultdict(list)  # req/s
    cpu: dict[tuple[str, str], list[float]] = defaultdict(list)  # CPU µs per request
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="poll-nginx-")))
        work.chmod(0o755)  # nginx's workers may run as another user (nobody under root)
        sides = {"feeds": side_env(REPO, work / "head.db")}
        if args.base:
            base_tree = work / "base"
            checkout(args.base, base_tree)
            sides[f"feeds@{args.base}"] = side_env(base_tree, work / "base.db")
        for env in sides.values():
            feeds_command(env, "demo", f"--posts={args.posts}")
        feeds_command(sides["feeds"], "build", str(work / "site"))
        path = f"/feeds/category/{largest_category(work / 'head.db')}.atom"
        size = (work / "site" / path.lstrip("/")).stat().st_size
        servers = {"nginx": stack.enter_context(nginx(work / "site", args.workers, work))}
        for name, env in sides.items():
            started = stack.enter_context(
                running(feeds_server(name, env, args.workers), path, work / "logs")
            )
            servers[name] = started.url(""), started.process.pid
        headers = {name: kind_headers(base + path) for name, (base, _) in servers.items()}
        for name, (base, _) in servers.items():  # warm every worker's cache and connections
            for kind in KINDS:
                wrk(base + path, headers[name][kind], seconds=1)
        for run in range(args.runs):
            for kind in KINDS:
                for name, (base, pid) in servers.items():
                    cpu_before = cpu_seconds(pid)
                    result = wrk(base + path, headers[name][kind], seconds=args.seconds)
                    cpu[name, kind].append((cpu_seconds(pid) - cpu_before) / result.requests * 1e6)
                    if result.bad_answers or result.socket_errors:
                        print(f"! {name} {kind} run {run}: {result}")
                    samples[name, kind].append(result.requests_per_second)
    load = ", ".join(
        f"{before:.1f}→{after:.1f}"
        for before, after in zip(load_before, os.getloadavg(), strict=True)
    )
    print(
        f"GET {path} ({size / 1024:.0f} KB), {args.posts} demo posts; wrk -t2 -c32 "
        f"-d{args.seconds:g}s, {args.workers} workers each; req/s, median (min–max) of "
        f"{args.runs} interleaved runs; load average (1, 5, 15 min) {load}"
    )
    names = list(servers)
    lines = [["answer", *names, *(f"{name}/nginx" for name in names[1:])]]
    for kind in KINDS:
        nginx_rps = statistics.median(samples["nginx", kind])
        shares = (statistics.median(samples[name, kind]) / nginx_rps for name in names[1:])
        lines.append([kind, *(spread(samples[name, kind]) for name in names), *map(ratio, shares)])
    print("\n".join(aligned(lines)))
    print(f"target: feeds/nginx ≥ {TARGET} for every answer")
    print(
        "\nCPU µs per request (the server's processes, user + system), median; nginx/x: the "
        "req/s share x would reach where CPU is what runs out"
    )
    lines = [["answer", *names, *(f"nginx/{name}" for name in names[1:])]]
    for kind in KINDS:
        costs = {name: statistics.median(cpu[name, kind]) for name in names}
        shares = (costs["nginx"] / costs[name] for name in names[1:])
        lines.append([kind, *(f"{costs[name]:.1f}" for name in names), *map(ratio, shares)])
    print("\n".join(aligned(lines)))


def ratio(value: float) -> str:
    """A ratio as the tables print it."""
    return f"{value:.2f}"


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of process ``pid`` and all its descendants, in seconds."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            stat = Path(f"/proc/{current}/stat").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text()
        except OSError:  # ended meanwhile
            continue
        fields = stat.rpartition(")")[2].split()  # after the command name, which may hold spaces
        total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
        pending += [int(child) for child in children.split()]
    return total


def spread(values: list[float]) -> str:
    """``median (min–max)`` of req/s figures."""
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}–{max(values):,.0f})"


if __name__ == "__main__":
    main()
