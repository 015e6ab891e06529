"""gunicorn settings for ``gunicorn -c python:feeds.server.gunicorn_conf 'feeds:create_app()'``, for
deployments that run gunicorn rather than granian (`feeds serve --production`): a threaded
worker per CPU, keep-alive, a graceful timeout, and feeds' own JSON line per request.
Bind with gunicorn's own -b/--bind.

Each worker creates the app after gunicorn forked it (do not add --preload), so no database
connection is shared between processes.
"""

import os
from typing import Any

from feeds.server.allocator import tune_allocator
from feeds.server.production import BACKLOG, DEFAULT_THREADS, GRACEFUL_TIMEOUT, LOGGING

bind = "127.0.0.1:8000"
workers = os.cpu_count() or 1
worker_class = "gthread"
threads = DEFAULT_THREADS
keepalive = 30
timeout = 30
graceful_timeout = GRACEFUL_TIMEOUT
backlog = BACKLOG
accesslog = None
logconfig_dict = LOGGING
forwarded_allow_ips = "127.0.0.1"


def post_fork(_server: Any, _worker: Any) -> None:
    """Tune each worker's allocator for serving, as `feeds serve --production` does."""
    tune_allocator()
