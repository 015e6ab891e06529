"""Running feeds in production: the granian server, gunicorn's settings, the allocator
tuning and the Prometheus metrics."""
