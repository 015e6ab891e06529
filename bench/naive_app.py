"""The usual way to serve a feed, as the baseline: query, render and hash on every request.

    FEEDS_DATABASE_URL=sqlite:////tmp/feeds-100k.db gunicorn --pythonpath bench \
        'naive_app:create_app()'

Same store, settings, URL scheme and renderer as feeds, but no scope index, no cache and no
compression: each request runs ``posts JOIN post_categories … ORDER BY posts.published
DESC LIMIT 50`` (with the ordinary indexes: posts.published, post_categories.category_id),
renders the feed with feeds.render.render_feed, takes the SHA-256 of the body as its ETag,
and answers If-None-Match with a 304 only after all that, as the usual view does.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from flask import Flask, Response, jsonify, request
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from feeds.render import render_feed
from feeds.serving.content import FeedContent, Term
from feeds.serving.spec import FeedNotFound, FeedSpec
from feeds.settings import Settings
from feeds.store import Store
from feeds.store.models import Post, PostStatus, post_categories
from feeds.store.queries import category_by_slug, post_record


def usual_statement(spec: FeedSpec, category_id: int | None, now: datetime, limit: int) -> Select:
    """The newest ``limit`` published posts of the feed, the way most blogs query them."""
    statement = select(Post).where(Post.status == PostStatus.PUBLISHED, Post.published <= now)
    if category_id is not None:
        statement = statement.join(post_categories, post_categories.c.post_id == Post.id).where(
            post_categories.c.category_id == category_id
        )
    if spec.language is not None:
        statement = statement.where(Post.language == spec.language)
    return statement.order_by(Post.published.desc()).limit(limit)


def usual_content(session: Session, spec: FeedSpec, limit: int) -> FeedContent:
    """The feed's category and posts, with what the renderer shows of each post loaded."""
    category = category_by_slug(session, spec.category) if spec.category else None
    statement = usual_statement(spec, category.id if category else None, datetime.now(UTC), limit)
    posts = session.scalars(
        statement.options(
            selectinload(Post.categories), selectinload(Post.tags), selectinload(Post.authors)
        )
    ).all()
    term = Term(category.slug, category.name) if category else None
    return FeedContent(term, tuple(post_record(post) for post in posts))


def create_app(settings: Settings | None = None) -> Flask:
    """The baseline application on the store of ``settings`` (default: Settings.load())."""
    settings = settings or Settings.load()
    store = Store(settings.database_url)
    app = Flask(__name__)

    @app.get("/feeds/all.<fmt>")
    @app.get("/feeds/category/<category>.<fmt>")
    @app.get("/<lang>/feeds/all.<fmt>")
    @app.get("/<lang>/feeds/category/<category>.<fmt>")
    def feed(fmt: str, category: str | None = None, lang: str | None = None) -> Response:
        spec = FeedSpec.parse(settings, fmt, category, lang)
        with store.session() as session:
            rendered = render_feed(
                spec, settings, usual_content(session, spec, settings.items_per_feed)
            )
        etag = hashlib.sha256(rendered.body).hexdigest()
        if request.if_none_match.contains(etag):
            return Response(status=304, headers={"ETag": f'"{etag}"'})
        return Response(
            rendered.body, content_type=spec.format.media_type, headers={"ETag": f'"{etag}"'}
        )

    @app.errorhandler(FeedNotFound)
    def not_found(error: FeedNotFound) -> tuple[Response, int]:
        return jsonify(error=str(error), status=404), 404

    return app
