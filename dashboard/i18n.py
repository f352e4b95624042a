"""The dashboard's Japanese and English: gettext message catalogues (Babel), chosen per user.

The strings are English in the code, wrapped in `t(...)`; the `.po` files in `locales/ja/LC_MESSAGES/` hold
their Japanese (one file per area of the dashboard, e.g. `kikimimi.po` for sign-in and the queue, so pages can
grow their catalogues independently; a message belongs to one file only). They are compiled in memory when
first used, so there is no binary to keep in step. tests/test_i18n.py fails while any string wrapped in t()
lacks its Japanese.
"""

from __future__ import annotations

import functools
import gettext
import io
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES_DIR = Path(__file__).with_name("locales")
DOMAIN = "kikimimi"
LANGUAGES = {"en": "English", "ja": "日本語"}


@functools.cache
def translations(locale: str) -> gettext.NullTranslations:
    """The catalogue for `locale` ("en" is the code's own words)."""
    catalog = catalogue(locale)
    if locale == "en" or not len(catalog):
        return gettext.NullTranslations()
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def catalogue(locale: str) -> Catalog:
    """Every `.po` file of `locale`, as one catalogue."""
    merged = Catalog(locale=locale, domain=DOMAIN)
    for po in sorted((LOCALES_DIR / locale / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            for message in read_po(fh, locale=locale):
                if message.id:
                    merged[message.id] = message
    return merged


def translator(locale: str | None) -> Callable[[str], str]:
    """`t(message)` in `locale`."""
    return translations(locale if locale in LANGUAGES else "en").gettext


def browser_locale(accept: str | None) -> str:
    """The browser's language, if it is one we speak (for the sign-in page, before anyone is known)."""
    return "ja" if (accept or "").lower().startswith("ja") else "en"


DATE_PATTERNS = {"en": "yyyy-MM-dd HH:mm", "ja": "yyyy年M月d日 H:mm"}


def when(moment: datetime, tz: str, locale: str | None) -> str:
    """A stored UTC time in the reader's time zone, written the way their language writes it (with the zone)."""
    local = moment.astimezone(ZoneInfo(tz))
    locale = locale if locale in DATE_PATTERNS else "en"
    return f"{format_datetime(local, DATE_PATTERNS[locale], locale=locale)} {local.strftime('%Z')}"
