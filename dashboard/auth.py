"""Sign-in for the dashboard: a form before any page, sign-out, and a signed cookie that survives a reload.

The signed-in user's id lives in `st.session_state[SIGNED_IN]`, which only `sign_in` writes: no widget has that
key, so a browser gets there by signing in (or by a valid cookie) and in no other way. Tests that render a
page with `AppTest` set that key themselves before the first run: the documented test hook (`sign_in_for_test`).

Reading the cookie uses `st.context.cookies` (sent with the page request); writing it needs the browser, so a
tiny script is rendered with `st.html`. The cookie is `SameSite=Strict`, but scripts can read it (it is written
by one): the token in it is signed and expires (`session_hours`), and signing out revokes every token issued
before (the user's `signed_out_at`). Optional single sign-on: when Streamlit's `[auth]` section is configured in
`.streamlit/secrets.toml`, the form also offers `st.login`; the identity provider's e-mail must be the name of
an active Kikimimi user (an admin adds it with `kikimimi users add`).
"""

from __future__ import annotations

import json

import streamlit as st

from dashboard import sessions
from dashboard.state import session, settings
from kikimimi import accounts
from kikimimi.models import User
from kikimimi.timeutil import utcnow

SIGNED_IN = "kikimimi_user_id"
_SIGNED_IN_AT = "kikimimi_signed_in_at"
_COOKIE_SCRIPT = "kikimimi_cookie_script"


def sign_in_for_test(at, user_id: int) -> None:  # noqa: ANN001 - a streamlit.testing AppTest
    """The test hook: an AppTest renders pages as this user (the browser cannot reach session_state)."""
    at.session_state[SIGNED_IN] = user_id


def current_user() -> User | None:
    """The signed-in user, read fresh (a role change or deactivation applies at once), or None."""
    with session() as s:
        user_id = st.session_state.get(SIGNED_IN)
        if user_id is None:
            user = sessions.verify(s, _cookie())
            if user is None:
                user = _single_sign_on_user(s)
            if user is None:
                return None
            _remember(user, with_cookie=False)
            return user
        user = s.get(User, user_id)
        signed_in_at = st.session_state.get(_SIGNED_IN_AT)
        revoked = user is not None and user.signed_out_at is not None and signed_in_at is not None
        if user is None or not user.active or (revoked and signed_in_at <= user.signed_out_at.timestamp()):
            _forget()
            return None
        return user


def require_user(*, sidebar: bool = False) -> User:
    """The signed-in user; otherwise the sign-in form is shown and the page stops here."""
    _flush_cookie_script()
    user = current_user()
    if user is None:
        sign_in_form()
        st.stop()
    if sidebar:
        st.sidebar.markdown(f"Signed in as **{user.name}** · {user.role}")
        st.sidebar.button("Sign out", key="sign-out", on_click=_sign_out)
    return user  # type: ignore[return-value]


def sign_in_form() -> None:
    st.title("Kikimimi — sign in")
    note = st.session_state.pop("kikimimi_sign_in_note", None)
    if note:
        st.info(note)
    with st.form("sign-in"):
        st.text_input("Name", key="signin-name")
        st.text_input("Password", type="password", key="signin-password")
        st.form_submit_button("Sign in", type="primary", on_click=_sign_in)
    error = st.session_state.pop("kikimimi_sign_in_error", None)
    if error:
        st.error(error)
    if _single_sign_on_configured():
        st.button("Sign in with single sign-on", key="sso", on_click=st.login)
    st.caption("No account yet? An admin adds one with `kikimimi users add NAME --role ROLE`.")


def _sign_in() -> None:
    name = st.session_state.get("signin-name", "")
    password = st.session_state.get("signin-password", "")
    st.session_state["signin-password"] = ""
    try:
        with session() as s:
            user = accounts.authenticate(s, name, password)
    except accounts.SignInRefused as refused:
        st.session_state["kikimimi_sign_in_error"] = str(refused)
        return
    _remember(user, with_cookie=True)


def _sign_out() -> None:
    with session() as s:
        user = s.get(User, st.session_state.get(SIGNED_IN))
        if user is not None:
            accounts.sign_out(s, user)
    _forget()
    st.session_state["kikimimi_sign_in_note"] = "Signed out."
    if _single_sign_on_configured() and getattr(st.user, "is_logged_in", False):
        st.logout()


def _remember(user: User, *, with_cookie: bool) -> None:
    st.session_state[SIGNED_IN] = user.id
    st.session_state[_SIGNED_IN_AT] = utcnow().timestamp()
    if with_cookie:
        hours = settings().session_hours
        token = sessions.issue(user, hours=hours)
        _queue_cookie(token, int(hours * 3600))


def _forget() -> None:
    st.session_state.pop(SIGNED_IN, None)
    st.session_state.pop(_SIGNED_IN_AT, None)
    _queue_cookie("", 0)


def _queue_cookie(value: str, max_age: int) -> None:
    cookie = f"{sessions.COOKIE}={value}; path=/; max-age={max_age}; SameSite=Strict"
    st.session_state[_COOKIE_SCRIPT] = f"<script>document.cookie = {json.dumps(cookie)};</script>"


def _flush_cookie_script() -> None:
    script = st.session_state.pop(_COOKIE_SCRIPT, None)
    if script:
        st.html(script, unsafe_allow_javascript=True)


def _cookie() -> str | None:
    try:
        return st.context.cookies.get(sessions.COOKIE)
    except Exception:  # noqa: BLE001 - no request context (bare mode)
        return None


def _single_sign_on_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all
        return False


def _single_sign_on_user(s) -> User | None:  # noqa: ANN001 - a Session
    if not _single_sign_on_configured() or not getattr(st.user, "is_logged_in", False):
        return None
    return accounts.user_for_identity(s, st.user.get("email"))
