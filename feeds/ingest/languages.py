"""A foreign language tag (``en-US``, ``pt-BR``) as one of the site's configured languages."""

from __future__ import annotations

from collections.abc import Iterable

from feeds.ingest.runner import ImportFailed
from feeds.settings import Settings


def match_language(tag: str, languages: Iterable[str]) -> str | None:
    """The configured language ``tag`` names: the same code (any case), else its primary
    subtag (``en-US`` → ``en``); None if neither is configured."""
    by_lower = {code.lower(): code for code in languages}
    tag = tag.strip().replace("_", "-").lower()
    return by_lower.get(tag) or by_lower.get(tag.split("-", 1)[0])


def site_language(
    settings: Settings, override: str | None, declared: str | None, where: str
) -> str:
    """The language to import ``where`` in: ``override`` (--language), else what it
    ``declared``. ImportFailed when that is missing or not configured."""
    configured = ", ".join(settings.languages)
    if override:
        found = match_language(override, settings.languages)
        if found is None:
            raise ImportFailed(
                f"--language {override!r} is not configured (languages: {configured})"
            )
        return found
    if not declared:
        raise ImportFailed(
            f"{where} does not say its language: pass --language (one of {configured})"
        )
    found = match_language(declared, settings.languages)
    if found is None:
        raise ImportFailed(
            f"{where} is in {declared!r}, which is not configured (languages: {configured}); "
            "add it to languages, or pass --language to import it as one of them"
        )
    return found


def record_language(
    own: str | None, default: str | None, forced: bool, languages: Iterable[str]
) -> str | None:
    """The language of one record: ``default`` when --language ``forced`` it or the record
    says none; else the configured language it says (None if that is not configured)."""
    if forced or not own:
        return default
    return match_language(own, languages)
