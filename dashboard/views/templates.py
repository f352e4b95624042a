"""Reply templates: admins edit them per language, preview them on a real post, and save a new version.

Every save is a new version (the packaged template is version 0) and is audited; only admins may save, which
`responder.template_versions.save` checks itself, so a locked button is refused there too.
"""

import streamlit as st

from dashboard import i18n, voice_findings
from dashboard.auth import current_user, require_user
from dashboard.safe import md_text
from dashboard.state import display_timezone, session, settings
from kikimimi.errors import KikimimiError
from kikimimi.models import Role
from responder import drafting, template_versions
from responder.voice import lint_post

user = require_user()
tz = display_timezone(user)
t = i18n.translator(user.locale)
st.title(t("Reply templates"))
st.caption(
    t("Drafts use the newest version of each template. Version 0 is the packaged one; every save adds a version.")
)


def save_now(name: str, key: str) -> None:
    me = current_user()
    if me is None:
        return
    tr = i18n.translator(me.locale)
    with session() as s:
        try:
            saved = template_versions.save(
                s, name, st.session_state.get(key, ""), actor=me, note=st.session_state.get("tpl-note") or None
            )
        except KikimimiError as exc:
            st.session_state["tpl-flash"] = ("error", tr("Not saved: {error}").format(error=exc))
            return
    st.session_state["tpl-flash"] = (
        "success",
        tr("Saved {name} as version {version}").format(name=saved.name, version=saved.version),
    )
    st.session_state.pop(f"tpl-version-{name}", None)  # show the new version


flash = st.session_state.pop("tpl-flash", None)
if flash:
    (st.success if flash[0] == "success" else st.error)(flash[1])

left, right = st.columns([1, 3])
language = left.radio(t("Language"), ["en", "ja"], format_func=i18n.LANGUAGES.get, key="tpl-language")
name = left.selectbox(t("Template"), template_versions.names(language), key=f"tpl-name-{language}")
with session() as s:
    versions = template_versions.history(s, name)
labels = {
    v.version: (
        t("v{version} · saved by {who}").format(version=v.version, who=v.saved_by) if v.saved_by else t("v0 · packaged")
    )
    for v in versions
}
chosen = left.selectbox(
    t("Version"), list(labels), format_func=labels.get, key=f"tpl-version-{name}", help=t("newest first")
)
body = next(v.body for v in versions if v.version == chosen)
key = f"tpl-body-{name}-{chosen}"
text = right.text_area(t("Template text (Jinja2)"), value=body, key=key, height=260)

with session() as s:
    posts = drafting.preview_posts(s, language)
if not posts:
    right.info(t("No analysed posts in this language yet: run the pipeline to preview on a real post."))
else:
    post_id = right.selectbox(
        t("Preview on a real post"),
        [p.id for p in posts],
        format_func=lambda pid: next(p.text for p in posts if p.id == pid)[:90],
        key=f"tpl-post-{language}",
    )
    post = next(p for p in posts if p.id == post_id)
    right.markdown(f"**{md_text(post.platform)}** · {i18n.when(post.created_at, tz, user.locale)}")
    with session() as s:
        try:
            shown = drafting.preview(s, post_id, name, text, brands=settings().brands)
        except Exception as exc:  # a template being typed may not compile yet: say so, keep the page
            right.error(t("The template does not render yet: {error}").format(error=exc))
            shown = None
        if shown is not None:
            right.markdown(t("Draft with this text ({template}):").format(template=shown.template))
            right.code(shown.text, language=None, wrap_lines=True)
            with right:
                voice_findings.show(lint_post(s, post, shown.text, settings().brands), t)

locked = user.role != Role.admin
right.text_input(t("What changed (optional)"), key="tpl-note")
right.button(
    t("Save as a new version") + (" 🔒" if locked else ""),
    key="tpl-save",
    type="primary",
    on_click=save_now,
    args=(name, key),
    help=t("admins only") if locked else None,
)
