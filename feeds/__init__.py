"""feeds: RSS 2.0, Atom 1.0 and JSON Feed 1.1 feeds of a multilingual blog, served by Flask."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from feeds.serving.service import FeedService
from feeds.settings import Settings
from feeds.store import Store


def create_app(settings: Settings | None = None) -> Flask:
    """The Flask application serving the feeds of ``settings`` (default: Settings.load()).

    It refuses (StoreUnavailable) a database whose schema is missing or behind.
    """
    from feeds.serving.spec import FeedSpec
    from feeds.store.activity import ScopeActivity
    from feeds.subscribers.tally import PollTally
    from feeds.web import admin, api, errors, ops, pages, routes, snippets, wordpress
    from feeds.web.app_state import AppState, KeptPerRevision, attach
    from feeds.web.auth import FailedAuthentications
    from feeds.web.feed_endpoint import FeedEndpoint

    settings = settings or Settings.load()
    store = Store(settings.database_url)
    store.check_schema()

    app = Flask(__name__)
    # A path is taken as sent: merging "//" would answer 308 (with werkzeug's HTML page) and
    # send /api/posts/external/%2F0 on to another external id.
    app.url_map.merge_slashes = False
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = settings.cache_max_age  # feeds/static/
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    service = FeedService(settings, store)
    failures = FailedAuthentications(settings.auth_failures_per_minute)
    tally = PollTally(settings, store)
    refresh = settings.feeds_page_refresh_seconds  # the feeds page's, and its counts'
    pages_kept = KeptPerRevision[dict[str, str]](refresh)
    activity_kept = KeptPerRevision[Mapping[FeedSpec, ScopeActivity]](refresh)
    attach(app, AppState(settings, store, service, failures, tally, pages_kept, activity_kept))
    app.wsgi_app = FeedEndpoint(service, app.wsgi_app, tally)  # type: ignore[method-assign]
    app.register_blueprint(routes.blueprint)
    app.register_blueprint(pages.blueprint)
    app.register_blueprint(snippets.blueprint)
    app.register_blueprint(ops.blueprint)
    ops.record_requests(app, log_each=settings.access_log)
    app.register_blueprint(api.blueprint)
    app.register_blueprint(admin.blueprint)
    if settings.wordpress_redirects:
        app.register_blueprint(wordpress.wordpress_blueprint(settings))
    errors.register_error_handlers(app)
    return app
