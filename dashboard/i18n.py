"""The dashboard's Japanese and English: gettext message catalogues (Babel), chosen per user.

The strings are English in the code, wrapped in `t(...)`; `locales/ja/LC_MESSAGES/kikimimi.po` holds their
Japanese. The .po file is compiled in memory when first used, so there is no binary to keep in step. To add
strings: `pybabel extract -k t -o dashboard/locales/kikimimi.pot dashboard` then
`pybabel update -i dashboard/locales/kikimimi.pot -d dashboard/locales -D kikimimi`;
tests/test_i18n.py fails while any string lacks its Japanese.
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
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES_DIR = Path(__file__).with_name("locales")
DOMAIN = "kikimimi"
LANGUAGES = {"en": "English", "ja": "日本語"}


@functools.cache
def translations(locale: str) -> gettext.NullTranslations:
    """The catalogue for `locale` ("en" is the code's own words)."""
    po = LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if locale == "en" or not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


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
