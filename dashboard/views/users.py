"""Users (admins): add a person with a role, change a role, reset a password (shown once), deactivate.

The page is only in an admin's navigation, but that is a convenience: `kikimimi.accounts` refuses every change
by anyone else, and audits it.
"""

import streamlit as st

from dashboard import i18n
from dashboard.auth import current_user, require_user
from dashboard.state import display_timezone, session
from kikimimi import accounts
from kikimimi.errors import KikimimiError
from kikimimi.models import Role


def _(message: str) -> str:
    return message  # marks a string for the catalogue; translated where it is shown


ROLES = [r.value for r in Role]
user = require_user()
t = i18n.translator(user.locale)
tz = display_timezone(user)
st.title(t("Users"))


def done(kind: str, text: str) -> None:
    st.session_state["users-flash"] = (kind, text)


def run(change, success: str) -> None:  # noqa: ANN001 - a callable(session, actor)
    """One change as whoever is signed in now: kikimimi.accounts decides (and audits)."""
    me = current_user()
    if me is None:
        return
    tr = i18n.translator(me.locale)
    with session() as s:
        try:
            shown = change(s, me)
        except KikimimiError as exc:
            done("error", str(exc))
            return
    done("success", tr(success).format(password=shown or ""))


def add() -> None:
    name, role = st.session_state.get("new-name", "").strip(), st.session_state.get("new-role", "responder")
    password = accounts.generate_password()

    def change(s, me):  # noqa: ANN001, ANN202
        accounts.add_user(s, me, name, Role(role), password=password)
        return password

    run(change, _("Added. Their password, shown this once: {password}"))


def change_role(name: str) -> None:
    role = st.session_state.get(f"role-{name}")
    run(lambda s, me: accounts.change_role(s, me, name, Role(role)) and None, _("Role changed."))


def reset(name: str) -> None:
    run(lambda s, me: accounts.reset_password(s, me, name), _("New password, shown this once: {password}"))


def toggle(name: str, active: bool) -> None:
    run(lambda s, me: accounts.set_active(s, me, name, active) and None, _("Saved."))


flash = st.session_state.pop("users-flash", None)
if flash:
    (st.success if flash[0] == "success" else st.error)(flash[1])

with st.form("add-user", clear_on_submit=True):
    a1, a2, a3 = st.columns([3, 2, 1])
    a1.text_input(t("Name"), key="new-name")
    a2.selectbox(t("Role"), ROLES, index=ROLES.index("responder"), format_func=t, key="new-role")
    a3.form_submit_button(t("Add user"), on_click=add)

with session() as s:
    people = accounts.users(s)
for person in people:
    with st.container(border=True, key=f"user-{person.name}"):
        c1, c2, c3, c4 = st.columns([3, 2, 1, 1])
        c1.markdown(
            f"**{person.name}** · {t('active') if person.active else t('deactivated')} · {person.locale} · "
            f"{person.time_zone or tz} · {t('since')} {i18n.when(person.created_at, tz, user.locale)}"
        )
        c2.selectbox(
            t("Role"),
            ROLES,
            index=ROLES.index(str(person.role)),
            format_func=t,
            key=f"role-{person.name}",
            on_change=change_role,
            args=(person.name,),
            label_visibility="collapsed",
        )
        c3.button(t("Reset password"), key=f"reset-{person.name}", on_click=reset, args=(person.name,))
        c4.button(
            t("Deactivate") if person.active else t("Reactivate"),
            key=f"active-{person.name}",
            on_click=toggle,
            args=(person.name, not person.active),
        )
