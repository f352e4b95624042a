"""Kikimimi dashboard entry point: `kikimimi dashboard` (or `streamlit run dashboard/app.py`)."""

from pathlib import Path

import streamlit as st

from dashboard.auth import require_user
from dashboard.i18n import translator
from kikimimi.models import Role

HERE = Path(__file__).parent
st.set_page_config(page_title="Kikimimi", page_icon="👂", layout="wide")
user = require_user(sidebar=True)  # the sign-in form, before any page
t = translator(user.locale)
pages = [
    st.Page(str(HERE / "views" / "queue.py"), title=t("Reply queue"), icon="📥", default=True),
    st.Page(str(HERE / "views" / "trends.py"), title=t("Trends"), icon="📈"),
    st.Page(str(HERE / "views" / "faq.py"), title=t("FAQ harvest"), icon="❓"),
    st.Page(str(HERE / "views" / "service_level.py"), title=t("Service levels"), icon="⏱️"),
    st.Page(str(HERE / "views" / "alerts.py"), title=t("Alerts"), icon="🚨"),
    st.Page(str(HERE / "views" / "templates.py"), title=t("Reply templates"), icon="📝"),
]
if user.role == Role.admin:  # a convenience: kikimimi.accounts refuses everyone else anyway
    pages.append(st.Page(str(HERE / "views" / "users.py"), title=t("Users"), icon="👥"))
st.navigation(pages).run()
