"""The production server: gunicorn with threaded workers, sized from the machine.

``feeds serve --production`` runs it; deployments that start gunicorn themselves use the
same settings with ``gunicorn -c python:feeds.gunicorn_conf 'feeds:create_app()'``.
Zero-downtime reload: send the gunicorn master SIGHUP (new workers start with new code and
config, old ones finish their requests within ``graceful_timeout``).
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

# Per-request lines come from feeds itself (feeds.access, one JSON line each), so gunicorn's
# own access log stays off; both go to stderr, one line per record.
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"format": "%(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "line"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
    "loggers": {
        "feeds": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
    },
}


def server_options(
    bind: str = "127.0.0.1:8000", workers: int | None = None, threads: int | None = None
) -> dict[str, Any]:
    """gunicorn settings: a gthread worker per CPU with a few threads each, keep-alive for
    aggregators, proxies and CDNs that reuse connections, and a graceful timeout."""
    cpus = os.cpu_count() or 1
    return {
        "bind": bind,
        "workers": workers or cpus,
        "worker_class": "gthread",
        "threads": threads or 4,
        "keepalive": 30,
        "timeout": 30,
        "graceful_timeout": 30,
        "accesslog": None,
        "logconfig_dict": LOGGING,
        "forwarded_allow_ips": "127.0.0.1",
    }


class ProductionServer(BaseApplication):  # type: ignore[misc]
    """gunicorn, serving an application already created (settings checked, schema current)."""

    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        self.cfg.set("post_fork", self._after_fork)

    def _after_fork(self, _server: Any, _worker: Any) -> None:
        # The master opened the database to check the schema; a worker must not share
        # those connections, so it starts with an empty pool of its own.
        self.application.extensions["feeds.store"].engine.dispose(close=False)

    def load(self) -> Flask:
        return self.application
