"""The serving core: which feed (spec), its URLs (links), the cache of rendered feeds, and
the service that answers a FeedSpec with bytes through it."""
