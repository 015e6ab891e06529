"""Cleaning text on its way into the store: XML-safe characters, safe HTML, absolute links."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from urllib.parse import urlsplit

import nh3
from lxml import etree
from slugify import slugify as python_slugify

# Characters XML 1.0 cannot carry (C0 controls but tab/newline/return, surrogates, U+FFFE/F).
_NOT_XML_CHARS = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# The HTML a post's content may keep: ammonia's (nh3's) default allow-list of tags and
# attributes, plus `dir`, `lang` and `title` on every tag so that right-to-left and
# mixed-language text keeps its direction. No script, style, iframe, form or event handler
# survives, and URLs may only be http, https or mailto.
ALLOWED_TAGS = frozenset(nh3.ALLOWED_TAGS)
ALLOWED_ATTRIBUTES = {
    **{tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()},
    "*": {"dir", "lang", "title"},
    "img": {"src", "alt", "width", "height", "title"},
}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold."""
    return _NOT_XML_CHARS.sub("", text)


def clean_html(fragment: str, base_url: str) -> str:
    """``fragment`` reduced to the allow-list, with relative links and images made absolute
    against ``base_url`` (the post's own page).

    XML-unsafe characters are removed again after cleaning: the cleaner decodes character
    references, and ``&#1;`` or ``&#xFFFE;`` decode to characters XML cannot hold."""
    return xml_safe(
        nh3.clean(
            xml_safe(fragment),
            tags=set(ALLOWED_TAGS),
            attributes=ALLOWED_ATTRIBUTES,
            url_schemes=set(ALLOWED_URL_SCHEMES),
            url_relative=("rewrite_with_base", base_url),
        )
    )


def clean_foreign_html(fragment: str, page_url: str) -> str:
    """Imported HTML cleaned with its relative links made absolute against its original page,
    when that page's address is absolute; else as it is (the write path cleans it then,
    against the post's new page)."""
    parts = urlsplit(page_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return fragment
    return clean_html(fragment, page_url)


def plain_text(fragment: str) -> str:
    """The text of an HTML fragment (an excerpt, a foreign feed's summary), tags dropped."""
    text = xml_safe(html.unescape(nh3.clean(xml_safe(fragment), tags=set())))
    return re.sub(r"\s+", " ", text).strip()


def renders_in_xml(text: str) -> bool:
    """Whether an XML writer (lxml, which feedgen uses) takes ``text`` as element content."""
    try:
        etree.Element("probe").text = text
    except ValueError:
        return False
    return True


def slugify(text: str) -> str:
    """A URL slug from a title: lower case, words joined by hyphens, letters of any script kept."""
    normalized = unicodedata.normalize("NFKC", text).lower()
    words = re.findall(r"\w+", normalized)
    return "-".join(words)[:200].strip("-")


def ascii_slug(text: str) -> str:
    """A URL slug in ASCII, for names (python-slugify transliterates them: ``Sofía Ortega``
    → ``sofia-ortega``, ``林美`` → ``lin-mei``); empty when nothing is left."""
    return python_slugify(text, max_length=200)


def first_free(wanted: str, is_taken: Callable[[str], bool]) -> str:
    """``wanted``, or ``wanted-2``, ``wanted-3``… (its first 190 characters numbered): the
    first that ``is_taken`` says is free."""
    slug, number = wanted, 1
    while is_taken(slug):
        number += 1
        slug = f"{wanted[:190]}-{number}"
    return slug


def excerpt(text: str, limit: int = 280) -> str:
    """The start of ``text``, cut at a word boundary near ``limit`` characters, with "…"."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut.rstrip(" ,;:.") + "…"
