"""gunicorn settings for ``gunicorn -c python:feeds.gunicorn_conf 'feeds:create_app()'``, for
deployments that run gunicorn rather than granian (`feeds serve --production`): a threaded
worker per CPU, keep-alive, a graceful timeout, and feeds' own JSON line per request.
Bind with gunicorn's own -b/--bind.

Each worker creates the app after gunicorn forked it (do not add --preload), so no database
connection is shared between processes.
"""

import os

from feeds.production import BACKLOG, DEFAULT_THREADS, GRACEFUL_TIMEOUT, LOGGING

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
