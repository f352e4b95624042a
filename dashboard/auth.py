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

from dashboard import i18n, sessions
from dashboard.state import session, settings
from kikimimi import accounts
from kikimimi.errors import KikimimiError
from kikimimi.models import User
from kikimimi.timeutil import utcnow
from responder import teamwork


def _(message: str) -> str:
    return message  # marks a string for the catalogue (translated where it is shown)


# roles, the note after signing out and the fixed sign-in refusals of kikimimi.accounts, for the catalogue
_MARKED = [
    _("viewer"),
    _("responder"),
    _("approver"),
    _("admin"),
    _("Signed out."),
    _("wrong name or password"),
    _("this account is deactivated: ask an admin"),
    _("the current password is not right"),
    _("Password changed."),
]
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
        preferences(user)  # type: ignore[arg-type]
    return user  # type: ignore[return-value]


TIME_ZONES = ["Asia/Tokyo", "UTC", "Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles"]


def preferences(user: User) -> None:
    """The sidebar: who is signed in, their language and time zone, and Sign out."""
    t = i18n.translator(user.locale)
    st.sidebar.markdown(t("Signed in as **{name}** · {role}").format(name=user.name, role=t(str(user.role))))
    languages = list(i18n.LANGUAGES)
    st.sidebar.selectbox(
        t("Language"),
        languages,
        index=languages.index(user.locale) if user.locale in languages else 0,
        format_func=i18n.LANGUAGES.get,
        key="ui-language",
        on_change=_save_preferences,
    )
    current = user.time_zone or settings().display_timezone
    zones = TIME_ZONES if current in TIME_ZONES else [current, *TIME_ZONES]
    st.sidebar.selectbox(
        t("Time zone"), zones, index=zones.index(current), key="ui-time-zone", on_change=_save_preferences
    )
    with st.sidebar.expander(t("Change my password")):
        with st.form("own-password", clear_on_submit=True):
            st.text_input(t("Current password"), type="password", key="own-current")
            st.text_input(t("New password"), type="password", key="own-new")
            st.form_submit_button(t("Change password"), on_click=_change_own_password)
        note = st.session_state.pop("own-password-note", None)
        if note:
            (st.success if note[0] == "success" else st.error)(t(note[1]))
    st.sidebar.button(t("Sign out"), key="sign-out", on_click=_sign_out)


def _change_own_password() -> None:
    with session() as s:
        user = s.get(User, st.session_state.get(SIGNED_IN))
        if user is None:
            return
        try:
            accounts.change_own_password(
                s, user, st.session_state.get("own-current", ""), st.session_state.get("own-new", "")
            )
        except KikimimiError as exc:
            st.session_state["own-password-note"] = ("error", str(exc))
            return
    _remember(user, with_cookie=True)  # this browser stays signed in; every other session has ended
    st.session_state["own-password-note"] = ("success", "Password changed.")


def _save_preferences() -> None:
    with session() as s:
        user = s.get(User, st.session_state.get(SIGNED_IN))
        if user is not None:
            accounts.set_preferences(
                s, user, locale=st.session_state.get("ui-language"), time_zone=st.session_state.get("ui-time-zone")
            )


def sign_in_form() -> None:
    t = i18n.translator(_browser_locale())
    st.title(t("Kikimimi — sign in"))
    note = st.session_state.pop("kikimimi_sign_in_note", None)
    if note:
        st.info(t(note))
    with st.form("sign-in"):
        st.text_input(t("Name"), key="signin-name")
        st.text_input(t("Password"), type="password", key="signin-password")
        st.form_submit_button(t("Sign in"), type="primary", on_click=_sign_in)
    error = st.session_state.pop("kikimimi_sign_in_error", None)
    if error:
        st.error(t(error))  # the fixed refusals have their Japanese; a lock-out's minutes stay in English
    if _single_sign_on_configured():
        st.button(t("Sign in with single sign-on"), key="sso", on_click=st.login)
    st.caption(t("No account yet? An admin adds one with `kikimimi users add NAME --role ROLE`."))


def _browser_locale() -> str:
    try:
        return i18n.browser_locale(st.context.locale)
    except Exception:  # noqa: BLE001 - no request context (bare mode)
        return "en"


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
            teamwork.release(s, user)  # nobody is told "they are editing" a draft they closed by signing out
            accounts.sign_out(s, user)
    _forget()
    st.session_state["kikimimi_sign_in_note"] = "Signed out."  # translated where it is shown
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
