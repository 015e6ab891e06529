"""Text made fit to echo back in a message, for every layer that names what it was sent."""

from __future__ import annotations

import re

_SURROGATES = re.compile("[\ud800-\udfff]")


def printable(text: str, limit: int = 200) -> str:
    """``text`` made fit to echo in a message: lone surrogates (which no encoder takes) as
    U+FFFD, and cut to ``limit`` characters."""
    safe = _SURROGATES.sub("\ufffd", text)
    return safe if len(safe) <= limit else safe[: limit - 1] + "…"
