"""The words, dates and numbers of the pages people read, in their language.

Interface text is written in English in the templates (``_("Follow this feed")``) and
translated by gettext catalogues: ``feeds/locales/<lang>/LC_MESSAGES/messages.po``, one per
language, kept with Babel's tools (README, *Translating the pages*). Babel reads each
catalogue once, and formats dates and numbers the way that language writes them (CLDR).

A language with no catalogue reads the English text; one that CLDR does not know either
also gets English dates and numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

LOCALES = Path(__file__).resolve().parent.parent / "locales"
CATALOGUE = "LC_MESSAGES/messages.po"
SOURCE_LOCALE = Locale("en")


@dataclass(frozen=True)
class Interface:
    """The interface of the pages in one language: its text, dates and numbers."""

    language: str
    locale: Locale
    translations: NullTranslations

    def text(self, message: str, **values: object) -> str:
        """``message`` in this language, its ``%(name)s`` placeholders filled from ``values``."""
        translated = self.translations.gettext(message)
        return translated % values if values else translated

    def count(self, singular: str, plural: str, number: int, **values: object) -> str:
        """The message for ``number`` of something, in the plural form this language uses
        for it; ``%(number)s`` is the number as this language writes it."""
        translated = self.translations.ngettext(singular, plural, number)
        return translated % {"number": self.number(number), **values}

    def number(self, number: int) -> str:
        """``number`` as this language writes it (digit grouping, digits)."""
        return format_decimal(number, locale=self.locale)

    def date(self, when: datetime) -> str:
        """``when`` (UTC) as this language writes a date and time, naming the time zone."""
        return format_datetime(when.astimezone(UTC), "long", tzinfo=UTC, locale=self.locale)


@lru_cache(maxsize=64)
def interface(language: str) -> Interface:
    """The interface in ``language`` (a language code as config.toml names it: ``pt-br``);
    read once, then kept."""
    try:
        locale = Locale.parse(language, sep="-")
    except (UnknownLocaleError, ValueError):
        locale = SOURCE_LOCALE
    return Interface(language, locale, _translations(language, locale))


def catalogue_path(language: str) -> Path:
    """Where the gettext catalogue of ``language`` lives."""
    return LOCALES / language / CATALOGUE


def _translations(language: str, locale: Locale) -> NullTranslations:
    """The catalogue of ``language``, compiled in memory (no .mo files to build or ship);
    no translations when it has none."""
    path = catalogue_path(language)
    if not path.is_file():
        return NullTranslations()
    with path.open("rb") as source:
        catalogue = read_po(source, locale=locale)
    compiled = BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return Translations(compiled)
