"""The post store: SQLAlchemy models, the reads feeds needs, and the one write path."""

from feeds.store.db import Store, StoreUnavailable

__all__ = ["Store", "StoreUnavailable"]
