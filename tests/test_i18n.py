"""Japanese and English: every string the signed-in pages wrap in t() has its Japanese, and a user's choice
of language and time zone changes what the queue shows."""

from __future__ import annotations

import ast
from pathlib import Path

from sqlmodel import select
from streamlit.testing.v1 import AppTest

from dashboard import i18n
from dashboard.auth import sign_in_for_test
from kikimimi.models import User
from kikimimi.pipeline import open_session, run_once

DASHBOARD = Path(__file__).parent.parent / "dashboard"
TRANSLATED = sorted(DASHBOARD.rglob("*.py"))  # a page with no t() calls yet contributes nothing


def messages(path: Path) -> set[str]:
    """The literal first arguments of t(), tr() and _() calls (f-string parts included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("t", "tr", "_"):
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.add(node.args[0].value)
    return found


def test_every_string_has_its_japanese_with_the_same_placeholders():
    catalog = i18n.catalogue("ja")
    wanted = set().union(*(messages(p) for p in TRANSLATED))
    assert len(wanted) > 80
    missing = sorted(m for m in wanted if not (catalog.get(m) and catalog.get(m).string))
    assert missing == [], f"no Japanese yet for: {missing}"
    for message in wanted:
        japanese = catalog.get(message).string
        assert sorted(_fields(japanese)) == sorted(_fields(message)), message
    assert (
        i18n.translator("ja")("Reply queue") == "返信キュー" and i18n.translator("en")("Reply queue") == "Reply queue"
    )


def test_each_message_lives_in_one_catalogue_file():
    """Catalogues merge in file order, so a message in two files would say whatever the last one says."""
    from collections import defaultdict

    from babel.messages.pofile import read_po

    homes = defaultdict(list)
    for po in sorted((DASHBOARD / "locales" / "ja" / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            for message in read_po(fh, locale="ja"):
                if message.id:
                    homes[message.id].append(po.name)
    assert {m: files for m, files in homes.items() if len(files) > 1} == {}


def _fields(text: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


def test_a_user_switches_the_queue_to_japanese_and_their_time_zone(settings, monkeypatch):
    run_once(settings)
    monkeypatch.setenv("KIKIMIMI_DATABASE_URL", settings.database_url)
    at = AppTest.from_file(str(DASHBOARD / "app.py"), default_timeout=60)
    with open_session(settings) as s:
        admin = s.exec(select(User).where(User.name == "admin")).one()
        sign_in_for_test(at, admin.id)
    at.run()
    assert at.title[0].value == "Reply queue" and "JST" in " ".join(m.value for m in at.markdown)
    at.sidebar.selectbox(key="ui-language").set_value("ja").run()
    assert not at.exception and at.title[0].value == "返信キュー"
    assert any("としてサインイン中" in m.value for m in at.sidebar.markdown)
    assert any(m.value.startswith("返信 ") and "ページ" in m.value for m in at.markdown)
    assert any("年" in m.value and "JST" in m.value for m in at.markdown)  # dates the Japanese way
    at.sidebar.selectbox(key="ui-time-zone").set_value("Europe/London").run()
    text = " ".join(m.value for m in at.markdown)
    assert "JST" not in text and ("GMT" in text or "BST" in text)
    with open_session(settings) as s:
        admin = s.exec(select(User).where(User.name == "admin")).one()
        assert (admin.locale, admin.time_zone) == ("ja", "Europe/London")
