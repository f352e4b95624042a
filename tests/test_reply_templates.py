"""Reply templates edited in the dashboard: versioned, audited, admins only (checked in the stage function)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from dashboard.auth import sign_in_for_test
from kikimimi.errors import IllegalTransition, PermissionDenied
from kikimimi.models import Analysis, AuditEvent, Post, ReplyDraft, ReplyTemplate, Role, User
from listener.store import upsert_posts
from responder import template_versions
from responder.drafting import draft_pending, preview
from tests.conftest import make_post

PAGE = Path(__file__).parent.parent / "dashboard" / "views" / "templates.py"
NEW_PRAISE = '{% extends "en/_base.j2" %}{% block answer %}Thank you, that made our day!{% endblock %}'


@pytest.fixture
def people(session):
    admin = User(name="ada", role=Role.admin)
    approver = User(name="aki", role=Role.approver)
    session.add_all([admin, approver])
    session.commit()
    return admin, approver


def _praise(session, external_id="p1", language="en", text="love the sencha, thank you!"):
    upsert_posts(session, [make_post(external_id, text=text)])
    post = session.exec(select(Post).where(Post.external_id == external_id)).one()
    session.add(Analysis(post_id=post.id, language=language, sentiment="positive", intent="praise", needs_reply=True))
    session.commit()
    return post


def _audit(session, outcome):
    return session.exec(
        select(AuditEvent).where(AuditEvent.action == "save_template", AuditEvent.outcome == outcome)
    ).all()


def test_an_admin_saves_a_new_version_and_new_drafts_use_it(session, people):
    admin, _ = people
    post = _praise(session)
    assert preview(session, post.id, "en/praise.j2", NEW_PRAISE).text == "Hi Mika, thank you, that made our day!"
    assert session.exec(select(ReplyTemplate)).all() == []  # a preview saves nothing
    saved = template_versions.save(session, "en/praise.j2", NEW_PRAISE, actor=admin, note="warmer")
    again = template_versions.save(session, "en/praise.j2", NEW_PRAISE.replace("our day", "our week"), actor=admin)
    assert (saved.version, again.version) == (1, 2)
    assert [v.version for v in template_versions.history(session, "en/praise.j2")] == [2, 1, 0]
    draft_pending(session)
    draft = session.exec(select(ReplyDraft).where(ReplyDraft.post_id == post.id)).one()
    assert draft.text == "Hi Mika, thank you, that made our week!" and draft.template == "en/praise.j2@v2"
    assert [e.target_id for e in _audit(session, "allowed")] == ["en/praise.j2@v1", "en/praise.j2@v2"]


def test_only_admins_may_save_and_a_broken_template_is_refused(session, people):
    admin, approver = people
    with pytest.raises(PermissionDenied):
        template_versions.save(session, "en/praise.j2", NEW_PRAISE, actor=approver)
    with pytest.raises(IllegalTransition, match="does not render"):
        template_versions.save(session, "en/praise.j2", "{% if %}", actor=admin)
    with pytest.raises(IllegalTransition, match="does not render"):
        template_versions.save(session, "ja/order_status.j2", "{{ no_such_variable }}", actor=admin)
    with pytest.raises(IllegalTransition, match="no template"):
        template_versions.save(session, "../../etc/passwd", NEW_PRAISE, actor=admin)
    session.rollback()
    assert session.exec(select(ReplyTemplate)).all() == []
    refused = _audit(session, "refused")
    assert [e.actor for e in refused] == ["aki", "ada", "ada", "ada"] and "admins only" in refused[0].reason


def _page(user_id: int) -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    sign_in_for_test(at, user_id)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_page_previews_on_a_real_post_per_language_and_saves_for_admins_only(
    session, people, settings, monkeypatch
):
    monkeypatch.setenv("KIKIMIMI_DATABASE_URL", settings.database_url)
    admin, approver = people
    _praise(session)
    _praise(session, "p2", "ja", "煎茶おいしかったです！")
    at = _page(approver.id)
    at.selectbox(key="tpl-name-en").set_value("en/praise.j2").run()
    assert "kind words" in at.code[0].value and "— Komorebi Tea" in at.code[0].value  # the brand's voice applies
    at.text_area[0].set_value(NEW_PRAISE).run()
    assert "that made our day" in at.code[0].value
    at.button(key="tpl-save").click().run()
    assert at.error and "admins only" in at.error[0].value
    assert session.exec(select(ReplyTemplate)).all() == []

    at = _page(admin.id)
    at.radio(key="tpl-language").set_value("ja").run()
    at.selectbox(key="tpl-name-ja").set_value("ja/praise.j2").run()
    assert at.code[0].value.startswith("Mika様、嬉しいお言葉")  # a Japanese post, with the brand's honorific
    at.text_area[0].set_value(
        '{% extends "ja/_base.j2" %}{% block answer %}ありがとうございます！励みになります。{% endblock %}'
    ).run()
    at.button(key="tpl-save").click().run()
    assert at.success and "version 1" in at.success[0].value
    assert [(r.name, r.version, r.saved_by) for r in session.exec(select(ReplyTemplate))] == [
        ("ja/praise.j2", 1, "ada")
    ]


def test_the_queue_shows_the_brand_voice_findings_of_an_edit_before_approval(session, people, settings, monkeypatch):
    monkeypatch.setenv("KIKIMIMI_DATABASE_URL", settings.database_url)
    _, approver = people
    _praise(session)
    draft_pending(session, brands=settings.brands)
    at = AppTest.from_file(str(PAGE.with_name("queue.py")), default_timeout=60)
    sign_in_for_test(at, approver.id)
    at.run()
    assert any("Brand voice: nothing to fix" in c.value for c in at.caption)
    at.text_area[0].set_value("Hey Mika, unfortunately we're out of it").run()
    shown = " ".join(m.value for m in at.markdown)
    assert "Brand voice: 3 to fix before approving" in shown and "Too casual for the brand's voice: Hey" in shown
    assert "Avoid “unfortunately”" in shown and "End with the sign-off “— Komorebi Tea”" in shown
