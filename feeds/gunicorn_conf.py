"""gunicorn settings for `gunicorn -c python:feeds.gunicorn_conf 'feeds:create_app()'`:
the same as `feeds serve --production`. Bind with gunicorn's own -b/--bind."""

from feeds.production import server_options

_options = server_options()
bind = _options["bind"]
workers = _options["workers"]
worker_class = _options["worker_class"]
threads = _options["threads"]
keepalive = _options["keepalive"]
timeout = _options["timeout"]
graceful_timeout = _options["graceful_timeout"]
accesslog = _options["accesslog"]
logconfig_dict = _options["logconfig_dict"]
forwarded_allow_ips = _options["forwarded_allow_ips"]
