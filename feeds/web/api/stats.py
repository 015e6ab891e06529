"""The admin API's subscriber figures: who follows each feed (feeds.store.subscribers)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, jsonify

from feeds.store.subscribers import WINDOW, feed_subscribers
from feeds.web.api import blueprint
from feeds.web.api.requests import current_store


@blueprint.get("/stats")
def subscriber_stats() -> Response:
    """Each polled feed's subscribers over the last 7 days, most followed first."""
    with current_store().session() as session:
        figures = feed_subscribers(session, datetime.now(UTC))
    return jsonify(
        {
            "window_days": WINDOW.days,
            "feeds": [
                {
                    "feed": figure.feed,
                    "subscribers": figure.subscribers,
                    "aggregators": figure.aggregators,
                    "individuals": figure.individuals,
                    "services": figure.services,
                }
                for figure in figures
            ],
        }
    )
