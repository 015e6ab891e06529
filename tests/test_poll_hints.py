"""Poll hints: RSS ``ttl`` and ``sy:updatePeriod`` / ``sy:updateFrequency`` say what the
answer's Cache-Control says."""

from __future__ import annotations

import re

import feedparser
import pytest
from lxml import etree

from feeds import create_app
from feeds.render.syndication import poll_hint
from feeds.settings import Settings
from feeds.store import Store
from tests.conftest import add_post

SY = "{http://purl.org/rss/1.0/modules/syndication/}"
PERIOD_SECONDS = {"hourly": 3600, "daily": 86400, "weekly": 604800, "monthly": 2592000}


@pytest.mark.parametrize(
    ("seconds", "hint"),
    [
        (0, ("hourly", 60)),
        (60, ("hourly", 60)),
        (300, ("hourly", 12)),
        (3600, ("hourly", 1)),
        (7200, ("daily", 12)),
        (86400 * 3, ("weekly", 2)),
        (10**9, ("yearly", 1)),
    ],
)
def test_a_poll_interval_is_said_in_the_syndication_modules_terms(
    seconds: int, hint: tuple[str, int]
) -> None:
    assert poll_hint(seconds) == hint


@pytest.mark.parametrize("max_age", [0, 90, 300, 7200])
def test_ttl_and_the_syndication_hint_match_the_cache_control_max_age(
    store: Store, settings: Settings, max_age: int
) -> None:
    add_post(store, settings, slug="one")
    client = create_app(settings.replace(cache_max_age=max_age, shared_max_age=0)).test_client()
    response = client.get("/feeds/all.rss")
    sent = int(re.search(r"max-age=(\d+)", response.headers["Cache-Control"])[1])  # type: ignore[index]
    assert sent == max_age
    channel = etree.fromstring(response.data).find("channel")
    assert channel is not None
    ttl_seconds = int(channel.findtext("ttl") or 0) * 60
    # ttl is in minutes: the max-age rounded up to one, never sooner than the caches say
    assert max(max_age, 60) <= ttl_seconds < max(max_age, 60) + 60
    period = channel.findtext(f"{SY}updatePeriod")
    frequency = int(channel.findtext(f"{SY}updateFrequency") or 0)
    assert PERIOD_SECONDS[period or ""] / frequency == pytest.approx(ttl_seconds, rel=0.25)
    parsed = feedparser.parse(response.data)
    assert parsed.bozo == 0
    assert parsed.feed.sy_updateperiod == period
    assert int(parsed.feed.sy_updatefrequency) == frequency
