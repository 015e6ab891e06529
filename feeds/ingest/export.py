"""Export: every post of the store, drafts too, as JSON Lines in the API's JSON form.

Importing the export into an empty store gives the same posts: entry ids, dates,
categories (with their names), tags, authors and statuses.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from feeds.serving.links import SiteLinks
from feeds.settings import Settings
from feeds.store import Store
from feeds.store.models import Post
from feeds.store.post_json import post_to_json
from feeds.store.queries import post_query

YIELD_PER = 500
STDOUT = "-"


def export_posts(store: Store, settings: Settings, location: str) -> int:
    """Write every post to the file ``location``, or ``-`` (standard output), in UTF-8.

    OSError when the file cannot be written; a file is replaced only once it is whole.
    """
    if location != STDOUT:
        with replaced_atomically(location) as out:
            return write_export(store, settings, out)
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n")
    try:
        return write_export(store, settings, out)
    finally:
        out.flush()
        out.detach()  # standard output stays open for whoever wrote to it before


def write_export(store: Store, settings: Settings, out: TextIO) -> int:
    """Write every post to ``out``, one JSON object a line, by id; returns how many."""
    links = SiteLinks(settings)
    count = 0
    with store.session() as session:
        posts = session.scalars(
            post_query().order_by(Post.id).execution_options(yield_per=YIELD_PER)
        )
        for post in posts:
            out.write(json.dumps(post_to_json(post, links), ensure_ascii=False) + "\n")
            count += 1
    return count


@contextmanager
def replaced_atomically(path: str) -> Iterator[TextIO]:
    """A text file that replaces ``path`` only once it is whole: a failed export leaves no
    half-written file behind (and keeps the previous one)."""
    target = Path(path)
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            yield out
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
