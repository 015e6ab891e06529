"""Media RSS (http://search.yahoo.com/mrss/) for Atom and RSS alike: an entry's image as
``media:content`` (medium="image", with its alt text as ``media:description``) and as
``media:thumbnail``, through feedgen's own media extension.

feedgen's extension writes content and thumbnails but has no ``media:description``: the
subclass here adds it to the image's ``media:content``. The enclosures are written by each
format's writer, since Atom carries them all and RSS only one.
"""

from __future__ import annotations

from feedgen.entry import FeedEntry
from feedgen.ext.media import MEDIA_NS, MediaEntryExtension, MediaExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from feeds.serving.content import Image

EXTENSION = "media"


def register_media(generator: FeedGenerator) -> None:
    """Make the ``media`` namespace and extension available to the entries added next
    (only to a feed with an image: the namespace is declared whenever it is registered)."""
    generator.register_extension(EXTENSION, MediaExtension, _MediaEntry)


def add_image(feed_entry: FeedEntry, image: Image) -> None:
    """``image`` as the entry's media:content (with its description) and media:thumbnail."""
    media: _MediaEntry = getattr(feed_entry, EXTENSION)
    size = {"width": image.width, "height": image.height}
    known = {name: str(value) for name, value in size.items() if value is not None}
    # group=None: directly in the entry, not in a media:group (feedgen's default).
    media.content({"url": image.url, "medium": "image", **known}, group=None)
    media.thumbnail({"url": image.url, **known}, group=None)
    media.description = image.alt


class _MediaEntry(MediaEntryExtension):
    """feedgen's media extension, and the image's alt text as its media:description."""

    def __init__(self) -> None:
        super().__init__()
        self.description = ""

    def extend_atom(self, entry: etree._Element) -> etree._Element:  # RSS's too
        entry = super().extend_atom(entry)
        content = entry.find(f"{{{MEDIA_NS}}}content")
        if self.description and content is not None:
            description = etree.SubElement(content, f"{{{MEDIA_NS}}}description", type="plain")
            description.text = self.description
        return entry
