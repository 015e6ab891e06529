"""Rendering: pure functions from (FeedSpec, settings, posts) to feed bytes."""

from feeds.render.feed import RenderedFeed, feed_title, render_feed

__all__ = ["RenderedFeed", "feed_title", "render_feed"]
