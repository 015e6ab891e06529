"""The WXR document as it is read: element names as ``prefix:local`` whatever namespaces the
export binds, what the channel says before its items, each item's fields and terms, and a
stream without the control bytes WordPress exports."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import IO
from xml.etree.ElementTree import Element

from feeds.store.cleaning import plain_text
from feeds.store.validation import AuthorInput

_NAMESPACES = {
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://wellformedweb.org/CommentAPI/": "wfw",
}
# WordPress's own namespace URIs, under whatever prefix; the export's wp and excerpt
# bindings count too (see Names).
WORDPRESS_NAMESPACE = re.compile(r"https?://wordpress\.org/export/\d+\.\d+/(excerpt/)?")
# C0 control characters XML 1.0 forbids. WordPress stores them in posts and exports them,
# which makes the export malformed; in UTF-8 they are single bytes, safe to drop.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
# The postmeta the import reads (a post's featured image and enclosures, an attachment's
# alt text and size); the rest stays behind, so that a held item stays small.
MEDIA_META_KEYS = frozenset(
    {"_thumbnail_id", "enclosure", "_wp_attachment_image_alt", "_wp_attachment_metadata"}
)


@dataclass
class Channel:
    """What the export says before its items: version, language, authors, site address."""

    is_wxr: bool = False
    language_tag: str | None = None
    base_url: str = ""
    authors: dict[str, AuthorInput] = field(default_factory=dict)
    language: str | None = None
    language_forced: bool = False


@dataclass
class Item:
    """One <item>: its single-valued fields, its terms as (domain, nicename, name), and its
    postmeta of MEDIA_META_KEYS as (key, value), in order."""

    fields: dict[str, str]
    terms: list[tuple[str, str, str]]
    meta: list[tuple[str, str]] = field(default_factory=list)

    def text(self, name: str) -> str:
        return self.fields.get(name, "").strip()

    def meta_values(self, key: str) -> list[str]:
        """The values of the postmeta ``key``, in order (a post may have several enclosures)."""
        return [value for meta_key, value in self.meta if meta_key == key]


def read_channel_field(channel: Channel, name: str, element: Element, names: Names) -> None:
    """Note in ``channel`` what one of its elements (``name``) says, if it matters."""
    text = (element.text or "").strip()
    if name == "wp:wxr_version":
        channel.is_wxr = True
    elif name == "language":
        channel.language_tag = text
    elif name in ("wp:base_blog_url", "link") and not channel.base_url:
        channel.base_url = text
    elif name == "wp:author":
        fields = {names.of(child.tag): (child.text or "").strip() for child in element}
        login = fields.get("wp:author_login", "")
        display = plain_text(fields.get("wp:author_display_name", "")) or login
        # The author's e-mail stays behind: WordPress never shows it, and feeds would
        # publish it (Atom <author><email>).
        if login:
            channel.authors[login] = AuthorInput(display)


def read_item(element: Element, names: Names) -> Item:
    """The fields, terms and media postmeta of one <item>; of a field given twice, the first."""
    fields: dict[str, str] = {}
    terms = []
    meta = []
    for child in element:
        name = names.of(child.tag)
        if name == "category":
            terms.append((child.get("domain", ""), child.get("nicename", ""), child.text or ""))
        elif name == "wp:postmeta":
            pair = {names.of(part.tag): part.text or "" for part in child}
            key = pair.get("wp:meta_key", "").strip()
            if key in MEDIA_META_KEYS:
                meta.append((key, pair.get("wp:meta_value", "")))
        else:
            fields.setdefault(name, child.text or "")
    return Item(fields, terms, meta)


class Names:
    """Element names as ``prefix:local`` (``wp:status``), whatever URIs the export binds.

    Like WordPress's importer, the URIs the document binds to the ``wp`` and ``excerpt``
    prefixes are WordPress's (WXR 1.0 to 1.2, http or https, or any other); WordPress's own
    URIs are known under any prefix. ``bindings`` is the reader's list, which grows as the
    document declares namespaces.
    """

    def __init__(self, bindings: list[tuple[str, str]]) -> None:
        self._bindings = bindings
        self._read = 0
        self._prefixes = dict(_NAMESPACES)

    def of(self, tag: str) -> str:
        if not tag.startswith("{"):
            return tag
        if self._read < len(self._bindings):
            for bound, uri in self._bindings[self._read :]:
                if bound in ("wp", "excerpt"):
                    self._prefixes[uri] = bound
            self._read = len(self._bindings)
        namespace, local = tag[1:].split("}", 1)
        prefix = self._prefixes.get(namespace)
        if prefix is None:
            wordpress = WORDPRESS_NAMESPACE.fullmatch(namespace)
            if wordpress:
                prefix = "excerpt" if wordpress.group(1) else "wp"
        return f"{prefix}:{local}" if prefix else local


class WithoutControlBytes:
    """A binary stream read without the C0 control bytes XML 1.0 forbids."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        while True:
            data = self._stream.read(size)
            kept = data.translate(None, _CONTROL_BYTES)
            if kept or not data:  # an empty read would look like the end of the file
                return kept
