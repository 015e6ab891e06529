"""The RSS 1.0 Syndication module's poll hints (``sy:updatePeriod``, ``sy:updateFrequency``),
as a feedgen extension.

feedgen ships one (feedgen.ext.syndication), but it writes ``sy:UpdatePeriod`` and
``sy:UpdateFrequency``: names the module does not define (it spells them
``updatePeriod`` and ``updateFrequency``), so readers that look for the hints miss them.
"""

from __future__ import annotations

from feedgen.ext.base import BaseExtension
from lxml import etree

SYNDICATION_NS = "http://purl.org/rss/1.0/modules/syndication/"
# The module's periods and their length in seconds, shortest first.
_PERIODS = (
    ("hourly", 3_600),
    ("daily", 86_400),
    ("weekly", 604_800),
    ("monthly", 2_592_000),
    ("yearly", 31_536_000),
)


def poll_hint(seconds: int) -> tuple[str, int]:
    """``sy:updatePeriod`` and ``sy:updateFrequency`` for "poll every ``seconds``": the
    shortest period that holds the interval, polled period ÷ interval times (at least once;
    an interval under a minute counts as a minute). 300 s → hourly, 12."""
    seconds = max(seconds, 60)
    for period, length in _PERIODS:
        if seconds <= length:
            return period, max(1, round(length / seconds))
    return _PERIODS[-1][0], 1


class SyndicationHints(BaseExtension):
    """Writes the poll hint of ``seconds`` into an RSS channel."""

    def __init__(self) -> None:
        self.seconds = 3_600

    def extend_ns(self) -> dict[str, str]:
        return {"sy": SYNDICATION_NS}

    def extend_rss(self, feed: etree._Element) -> etree._Element:
        channel = feed[0]
        period, frequency = poll_hint(self.seconds)
        for name, value in (("updatePeriod", period), ("updateFrequency", str(frequency))):
            etree.SubElement(channel, f"{{{SYNDICATION_NS}}}{name}").text = value
        return feed
