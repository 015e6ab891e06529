"""The feed history namespace of RFC 5005 (``fh:``) as a feedgen extension, the way
feedgen/ext/ holds one module per namespace: ``<fh:archive/>`` marks an archive document,
in Atom's ``feed`` and RSS's ``channel`` alike."""

from __future__ import annotations

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

FEED_HISTORY_NS = "http://purl.org/syndication/history/1.0"
_EXTENSION = "fh"


def mark_archive(generator: FeedGenerator) -> None:
    """Make ``generator`` write an archive document: ``<fh:archive/>`` at its head."""
    generator.register_extension(_EXTENSION, FeedHistoryExtension, BaseEntryExtension)


class FeedHistoryExtension(BaseExtension):
    """``<fh:archive/>``: this document is an archive of the feed (RFC 5005 section 4)."""

    def extend_ns(self) -> dict[str, str]:
        return {_EXTENSION: FEED_HISTORY_NS}

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        etree.SubElement(feed, f"{{{FEED_HISTORY_NS}}}archive")
        return feed

    def extend_rss(self, feed: etree._Element) -> etree._Element:
        channel = feed.find("channel")
        if channel is None:
            raise RuntimeError("feedgen writes RSS with a channel")
        etree.SubElement(channel, f"{{{FEED_HISTORY_NS}}}archive")
        return feed
