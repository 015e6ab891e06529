"""The production server: granian's WSGI interface, one worker process per CPU.

``feeds serve --production`` runs it. Every worker is a fresh interpreter (spawned, not
forked) that imports feeds and calls ``create_worker_app`` (``feeds:create_app`` in a
process whose allocator is tuned for serving) itself: it reads its settings from
the config file and FEEDS_* environment, opens its own database pool, and a reload (SIGHUP)
starts workers on the code and config found on disk at that moment.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from typing import Any

from flask import Flask
from granian import Granian
from granian.constants import Interfaces
from granian.http import HTTP1Settings

from feeds import create_app
from feeds.push.delivery import deliver_in_background
from feeds.server.allocator import tune_allocator
from feeds.server.listen import CannotListen
from feeds.web.app_state import app_state
from feeds.web.ops import write_access_lines_to

# Per-request lines come from feeds itself (one JSON line each: on the feeds.access logger, or
# under granian straight to stderr, see create_worker_app), so the servers' own access logs
# stay off; everything goes to stderr, one line per record. The server loggers are those of
# granian (production) and of gunicorn (feeds.server.gunicorn_conf).
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"format": "%(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "line"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
    "loggers": {
        "feeds": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "_granian": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
    },
}

STDERR = 2
BACKLOG = 2048  # connections the kernel queues per listening socket (gunicorn's default)
GRACEFUL_TIMEOUT = 30  # seconds a stopping worker has to finish its requests
# Python threads per worker. granian does the network I/O in Rust, so threads only run feeds;
# on a cache hit that is ~10 µs of CPU. Two per worker answered more than four, in less
# memory (bench/README.md).
DEFAULT_THREADS = 2


def create_worker_app() -> Flask:
    """What each granian worker serves: the app, in a process whose allocator is tuned for
    serving (feed bodies the cache drops go back to the system), its access lines written
    to stderr by its flusher thread rather than through ``logging`` on the request threads
    (a line through logging's handler cost as much as the rest of a cache hit)."""
    tune_allocator()
    app = create_app()
    write_access_lines_to(STDERR)
    state = app_state(app)
    deliver_in_background(state.store, state.settings)  # push_in_server: the outbox, too
    return app


def serve(
    host: str,
    port: int,
    workers: int | None = None,
    threads: int | None = None,
    config_path: str | None = None,
) -> None:
    """Serve feeds with granian until SIGINT or SIGTERM; SIGHUP replaces the workers one by one.

    ``workers`` processes (default: one per CPU), each running feeds on ``threads`` threads,
    with HTTP/1 keep-alive for aggregators, proxies and CDNs that reuse connections.
    """
    if config_path is not None:  # the workers read their settings as create_app() does
        os.environ["FEEDS_CONFIG"] = os.path.abspath(config_path)
    # A forked worker would inherit every module this process imported, so a reload would
    # run the old code; a spawned one imports feeds anew.
    multiprocessing.set_start_method("spawn", force=True)
    # /metrics must add up every worker, not show the one that answered: prometheus_client's
    # multiprocess mode, in a directory of this run's own unless the operator names one.
    metrics_directory = None
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics_directory = tempfile.mkdtemp(prefix="feeds-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_directory
    server = Granian(
        "feeds.server.production:create_worker_app",
        factory=True,
        interface=Interfaces.WSGI,
        websockets=False,
        address=host,
        port=port,
        workers=workers or os.cpu_count() or 1,
        blocking_threads=threads or DEFAULT_THREADS,
        backlog=BACKLOG,
        http1_settings=HTTP1Settings(keep_alive=True),
        log_dictconfig=LOGGING,
        log_access=False,
        respawn_failed_workers=True,
        workers_kill_timeout=GRACEFUL_TIMEOUT,
    )
    try:
        server.serve()
    except RuntimeError as error:
        # granian's own bind failure (a Rust I/O error, its backtrace in the message), if
        # the port was taken after `feeds serve` tried it: the first line says it all.
        reason = str(error).splitlines()[0] if str(error) else ""
        if "(os error" not in reason:
            raise
        raise CannotListen(f"cannot listen on {host} port {port}: {reason}") from None
    finally:
        if metrics_directory is not None:
            shutil.rmtree(metrics_directory, ignore_errors=True)
