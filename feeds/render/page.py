"""The HTML writer: a feed as a page people read in a browser (no XSLT).

The page is the FeedDocument like any other format: the feed's title and description, how
to follow it (its address in each format, with a copy button, and links that open it in
well-known readers), its entries with their dates and summaries, the pages before and
after it, and the feed in its other languages. It is written in the feed's language
(``lang``, ``dir``), with its interface text, dates and numbers in that language
(feeds.render.interface), by a Jinja template whose every value is escaped.

The one script is COPY_SCRIPT, written inline; answers allow it by its hash
(``script_source``), so that their Content-Security-Policy needs no ``unsafe-inline``.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape

from feeds.render.document import FeedDocument, Link
from feeds.render.interface import interface
from feeds.serving.links import text_direction

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
COPY_SCRIPT = (TEMPLATES / "copy.js").read_text(encoding="utf-8")
# Readers that subscribe to a feed from a link: (name, URL with the feed's address).
READERS = (
    ("Feedly", "https://feedly.com/i/subscription/feed/{url}"),
    ("Inoreader", "https://www.inoreader.com/?add_feed={url}"),
    ("NewsBlur", "https://www.newsblur.com/?url={url}"),
    ("The Old Reader", "https://theoldreader.com/feeds/subscribe?url={url}"),
)
# The links to the feed's other pages (RFC 5005), from the newest posts to the oldest.
_NEIGHBOURS = ("first", "current", "next-archive", "next", "prev-archive")
_TEMPLATES = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def script_source() -> str:
    """COPY_SCRIPT as a Content-Security-Policy source: ``'sha256-…'``."""
    digest = hashlib.sha256(COPY_SCRIPT.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def write_page(document: FeedDocument) -> bytes:
    """``document`` as an HTML page, UTF-8."""
    ui = interface(document.language)
    formats = [link for link in document.versions if link.media_type != document.page.media_type]
    subscribe = formats[0].href if formats else document.page.href
    html = _TEMPLATES.get_template("feed_page.html").render(
        document=document,
        ui=ui,
        _=ui.text,
        formats=formats,
        languages=[link for link in document.versions if link not in formats],
        readers=[(name, url.format(url=quote(subscribe, safe=""))) for name, url in READERS],
        neighbours=_neighbours(document),
        blog=document.link("alternate"),
        direction=text_direction,
        copy_script=COPY_SCRIPT,
    )
    return html.encode("utf-8")


def _neighbours(document: FeedDocument) -> list[Link]:
    """The links to the feed's other pages, from the newest posts to the oldest."""
    return [link for rel in _NEIGHBOURS for link in document.links if link.rel == rel]
