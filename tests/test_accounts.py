"""Sign-in: argon2 passwords, throttling by the one clock, signed expiring session tokens, and the audit table."""

from __future__ import annotations

import os
import stat
from datetime import timedelta

import pytest
from sqlmodel import select

from dashboard import sessions
from kikimimi import accounts, audit
from kikimimi.errors import PermissionDenied
from kikimimi.models import AuditEvent, DraftState, Post, ReplyDraft, Role, User
from kikimimi.timeutil import utcnow
from listener.store import upsert_posts
from responder.workflow import transition
from tests.conftest import make_post


@pytest.fixture
def aki(session):
    return accounts.add_user(session, audit.OPERATOR, "aki", Role.approver, password="green-tea-42")


def audited(session, **where):
    stmt = select(AuditEvent).order_by(AuditEvent.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(AuditEvent, name) == value)
    return session.exec(stmt).all()


def test_passwords_are_argon2_hashes_and_sign_in_checks_them(session, aki):
    assert aki.password_hash.startswith("$argon2") and "green-tea-42" not in aki.password_hash
    assert accounts.authenticate(session, "aki", "green-tea-42").id == aki.id
    with pytest.raises(accounts.SignInRefused, match="wrong name or password"):
        accounts.authenticate(session, "aki", "Green-tea-42")
    with pytest.raises(accounts.SignInRefused, match="wrong name or password"):  # the same words for no such name
        accounts.authenticate(session, "nobody", "green-tea-42")
    with pytest.raises(accounts.AccountError, match="at least 8"):
        accounts.set_password(session, audit.OPERATOR, "aki", "short")
    outcomes = [(e.actor, e.outcome) for e in audited(session, action="sign_in")]
    assert outcomes == [("aki", "allowed"), ("aki", "refused"), ("unknown:nobody", "refused")]


def test_five_failures_lock_the_account_for_fifteen_minutes_by_the_clock(session, aki, clock):
    for _ in range(accounts.MAX_FAILURES):
        with pytest.raises(accounts.SignInRefused):
            accounts.authenticate(session, "aki", "guess")
    with pytest.raises(accounts.SignInRefused, match="try again in 15 min"):  # even the right password
        accounts.authenticate(session, "aki", "green-tea-42")
    clock.advance(timedelta(minutes=14))
    with pytest.raises(accounts.SignInRefused, match="try again in 1 min"):
        accounts.authenticate(session, "aki", "green-tea-42")
    clock.advance(timedelta(minutes=1, seconds=1))
    assert accounts.authenticate(session, "aki", "green-tea-42").failed_attempts == 0


def test_deactivated_users_cannot_sign_in_or_act(session, aki):
    accounts.set_active(session, audit.OPERATOR, "aki", False)
    with pytest.raises(accounts.SignInRefused, match="deactivated"):
        accounts.authenticate(session, "aki", "green-tea-42")
    upsert_posts(session, [make_post("1")])
    draft = ReplyDraft(post_id=session.exec(select(Post.id)).one(), text="Hi!")
    session.add(draft)
    session.commit()
    with pytest.raises(PermissionDenied):
        transition(session, draft, "approve", aki)


def test_only_admins_and_the_operator_manage_users(session, aki):
    with pytest.raises(PermissionDenied, match="aki .*approver.* may not add user"):
        accounts.add_user(session, aki, "mallory", Role.admin, password="mallory-pw-1")
    assert accounts.find_user(session, "mallory") is None
    ada = accounts.add_user(session, audit.OPERATOR, "ada", Role.admin, password="ada-admin-77")
    accounts.add_user(session, ada, "rin", Role.responder, password="rin-pw-1234")
    accounts.set_password(session, aki, "aki", "my-own-new-pw")  # anyone may change their own
    with pytest.raises(PermissionDenied):
        accounts.set_password(session, aki, "rin", "taken-over-1")
    rows = [(e.actor, e.action, e.target_id, e.outcome) for e in audited(session, target_kind="user")]
    assert ("aki", "add_user", "mallory", "refused") in rows and ("ada", "add_user", "rin", "allowed") in rows
    assert ("aki", "set_password", "rin", "refused") in rows and ("aki", "set_password", "aki", "allowed") in rows


def test_a_viewer_is_refused_approval_by_transition_and_the_refusal_is_in_the_audit_table(session, users):
    upsert_posts(session, [make_post("1")])
    draft = ReplyDraft(post_id=session.exec(select(Post.id)).one(), text="Hi Mika!")
    session.add(draft)
    session.commit()
    with pytest.raises(PermissionDenied, match="vera .*viewer.* may not approve"):
        transition(session, draft, "approve", users["viewer"])
    session.rollback()  # the caller's rollback cannot erase the refusal: it was committed on its own
    assert session.get(ReplyDraft, draft.id).state == DraftState.drafted
    [refusal] = audited(session, outcome="refused")
    assert (refusal.actor, refusal.action, refusal.target_kind, refusal.target_id) == (
        "vera",
        "approve",
        "draft",
        str(draft.id),
    )
    transition(session, draft, "approve", users["approver"])
    session.rollback()  # an allowed move that is rolled back leaves no "allowed" row behind
    assert audited(session, outcome="allowed") == []


def test_a_refusal_after_a_write_on_sqlite_is_settled_after_the_rollback(session, users):
    from dashboard.queries import act_on_draft

    upsert_posts(session, [make_post("1")])
    draft = ReplyDraft(post_id=session.exec(select(Post.id)).one(), text="Hi Mika!")
    session.add(draft)
    session.commit()
    transition(session, draft, "approve", users["approver"])
    session.commit()
    session.get(User, users["responder"].id).locale = "ja"
    session.flush()  # this connection now holds SQLite's write lock
    with pytest.raises(PermissionDenied) as refused:
        transition(session, draft, "reject", users["responder"], note="nope")
    session.rollback()
    audit.settle(session, refused.value)
    assert [(e.actor, e.action) for e in audited(session, outcome="refused")] == [("rin", "reject")]
    with pytest.raises(PermissionDenied):  # the dashboard's path settles by itself
        act_on_draft(session, draft.id, "reject", users["viewer"], note="no")
    assert [e.actor for e in audited(session, outcome="refused")] == ["rin", "vera"]


def test_session_tokens_are_signed_expire_and_end_at_sign_out(session, aki, clock):
    key = b"test-key"
    token = sessions.issue(aki, hours=2, key=key)
    assert sessions.verify(session, token, key=key).id == aki.id
    assert sessions.verify(session, token, key=b"another key") is None
    body, signature = token.split(".")
    assert sessions.verify(session, f"{body[:-2]}xx.{signature}", key=key) is None
    assert sessions.verify(session, "garbage", key=key) is None
    assert sessions.verify(session, token, key=key, now=utcnow() + timedelta(hours=2, seconds=1)) is None
    clock.advance(timedelta(seconds=5))
    accounts.sign_out(session, aki)
    assert sessions.verify(session, token, key=key) is None  # signing out ends every earlier session
    clock.advance(timedelta(seconds=1))
    fresh = sessions.issue(aki, hours=2, key=key)
    assert sessions.verify(session, fresh, key=key).id == aki.id
    accounts.set_password(session, audit.OPERATOR, "aki", "a-new-password")
    assert sessions.verify(session, fresh, key=key) is None  # so does a password change


def test_the_secret_key_comes_from_the_environment_or_a_private_file(isolated_environment, monkeypatch):
    first = sessions.secret_key()
    path = isolated_environment / "data" / sessions.SECRET_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and len(first) >= 32
    assert sessions.secret_key() == first  # generated once
    monkeypatch.setenv(sessions.SECRET_ENV, "from-the-environment")
    assert sessions.secret_key() == b"from-the-environment"


def test_only_admins_change_roles_reset_passwords_and_deactivate_and_the_last_admin_stays(session, aki):
    ada = accounts.add_user(session, audit.OPERATOR, "ada", Role.admin, password="ada-admin-77")
    for attempt in (
        lambda: accounts.change_role(session, aki, "aki", Role.admin),
        lambda: accounts.reset_password(session, aki, "ada"),
        lambda: accounts.set_active(session, aki, "ada", False),
    ):
        with pytest.raises(PermissionDenied):
            attempt()
    assert accounts.change_role(session, ada, "aki", Role.responder).role == Role.responder
    fresh = accounts.reset_password(session, ada, "aki")
    assert len(fresh) >= accounts.MIN_PASSWORD_LENGTH
    assert accounts.authenticate(session, "aki", fresh).name == "aki"
    with pytest.raises(accounts.AccountError, match="last active admin"):
        accounts.change_role(session, ada, "ada", Role.viewer)
    with pytest.raises(accounts.AccountError, match="last active admin"):
        accounts.set_active(session, ada, "ada", False)
    rows = [(e.actor, e.action, e.outcome) for e in audited(session, target_kind="user") if e.actor in ("aki", "ada")]
    assert ("aki", "change_role", "refused") in rows and ("aki", "reset_password", "refused") in rows
    assert ("ada", "change_role", "allowed") in rows and ("ada", "set_password", "allowed") in rows
    assert ("ada", "deactivate_user", "refused") in rows


def test_a_user_changes_their_own_password_knowing_the_current_one(session, aki):
    with pytest.raises(accounts.AccountError, match="current password"):
        accounts.change_own_password(session, aki, "wrong", "new-password-1")
    accounts.change_own_password(session, aki, "green-tea-42", "new-password-1")
    assert accounts.authenticate(session, "aki", "new-password-1").name == "aki"
    with pytest.raises(accounts.SignInRefused):
        accounts.authenticate(session, "aki", "green-tea-42")


def test_the_users_page_adds_a_user_and_shows_the_password_once(settings, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from dashboard.auth import sign_in_for_test
    from kikimimi.db import migrate, open_session

    migrate(settings.database_url)
    monkeypatch.setenv("KIKIMIMI_DATABASE_URL", settings.database_url)
    with open_session(settings) as s:
        ada = accounts.add_user(s, audit.OPERATOR, "ada", Role.admin, password="ada-admin-77")
        vera = accounts.add_user(s, audit.OPERATOR, "vera", Role.viewer, password="vera-views-22")
    page = str(__import__("pathlib").Path(__file__).parent.parent / "dashboard" / "views" / "users.py")
    at = AppTest.from_file(page, default_timeout=60)
    sign_in_for_test(at, ada.id)
    at.run()
    at.text_input(key="new-name").set_value("rin")
    at.selectbox(key="new-role").set_value("responder")
    at.button[0].click().run()
    shown = next(m.value for m in at.success if "shown this once" in m.value).rsplit(": ", 1)[1]
    with open_session(settings) as s:
        assert accounts.authenticate(s, "rin", shown).role == Role.responder
    at.run()
    assert not any("shown this once" in m.value for m in at.success)  # once
    as_viewer = AppTest.from_file(page, default_timeout=60)
    sign_in_for_test(as_viewer, vera.id)
    as_viewer.run()
    as_viewer.button(key="reset-rin").click().run()
    assert any("vera (viewer) may not reset password" in e.value for e in as_viewer.error)
