"""FAQ harvest: recurring questions grouped into candidates; a lead accepts, merges, renames, answers, exports."""

import streamlit as st

from dashboard.auth import current_user, require_user
from dashboard.safe import md_link, md_text
from dashboard.state import session
from kikimimi.errors import KikimimiError
from kikimimi.models import FaqStatus
from responder import faq

user = require_user()
st.title("FAQ harvest")
top_left, top_right = st.columns([1, 3])


def refresh_now() -> None:
    me = current_user()
    try:
        with session() as s:
            summary = faq.refresh_as(s, me)
    except KikimimiError as err:
        st.session_state["faq-note"] = ("error", str(err))
        return
    st.session_state["faq-note"] = (
        "success",
        f"refresh: {summary.questions} questions, {summary.candidates} candidates, {summary.created} new",
    )


top_left.button("Refresh candidates", key="faq-refresh", on_click=refresh_now)
statuses = top_right.multiselect(
    "Show", [s.value for s in FaqStatus], default=[FaqStatus.candidate.value, FaqStatus.accepted.value], key="faq-show"
)


def act(label: str, action, *args, **kwargs) -> None:  # noqa: ANN001 - any responder.faq action
    """Run one of the lead's decisions as the signed-in user (a callback, before the page redraws)."""
    me = current_user()
    if me is None:
        return
    try:
        with session() as s:
            action(s, *args, actor=me, **kwargs)
        st.session_state["faq-note"] = ("success", f"{label}: done")
    except KikimimiError as err:
        st.session_state["faq-note"] = ("error", str(err))


def field(key: str) -> str:
    return st.session_state.get(key, "")


note = st.session_state.pop("faq-note", None)
if note:
    (st.success if note[0] == "success" else st.error)(note[1])

with session() as s:
    found = faq.candidates(s, statuses=[FaqStatus(v) for v in statuses])
if not found:
    st.info("No FAQ candidates yet: they form once several people ask the same thing (press Refresh).")
ids = [c.id for c in found]
for c in found:
    with st.container(border=True):
        head, meta = st.columns([3, 2])
        head.markdown(f"**{md_text(c.label)}** · #{c.id} · {c.status}")
        for lang, title in c.titles.items():
            head.markdown(f"`{md_text(lang)}` {md_text(title)}")
        mood = "" if c.average_sentiment is None else f" · mood {c.average_sentiment:+.2f}"
        meta.markdown(
            f"{c.size} asked · this week {c.this_week} ({c.growth:+d} vs last){mood}  \n"
            f"{', '.join(f'{k} {v}' for k, v in c.platforms.items())} · "
            f"{', '.join(f'{k} {v}' for k, v in c.languages.items())}  \n"
            f"first {c.first_seen:%Y-%m-%d} · last {c.last_seen:%Y-%m-%d}  \n"
            f"key phrases: {md_text(', '.join(c.key_phrases)) or '—'}"
        )
        with st.expander("examples"):
            for ex in c.examples:
                link = md_link("open", ex.url)
                st.markdown(
                    f"{ex.platform} · {ex.created_at:%Y-%m-%d}{' · ' + link if link else ''}  \n{md_text(ex.text)}"
                )
        answer = st.text_area("Answer", value=c.answer or "", key=f"answer-{c.id}")
        name = st.text_input("Title", value=c.label, key=f"title-{c.id}")
        others = st.multiselect("Merge these into this one", [i for i in ids if i != c.id], key=f"merge-{c.id}")
        b1, b2, b3, b4, b5, b6 = st.columns(6)
        b1.button(
            "Accept",
            key=f"accept-{c.id}",
            on_click=lambda i=c.id: act("accept", faq.accept, i, answer=field(f"answer-{i}")),
        )
        b2.button(
            "Save answer",
            key=f"save-{c.id}",
            on_click=lambda i=c.id: act("answer", faq.attach_answer, i, field(f"answer-{i}")),
        )
        b3.button(
            "Rename", key=f"rename-{c.id}", on_click=lambda i=c.id: act("rename", faq.rename, i, field(f"title-{i}"))
        )
        b4.button(
            "Merge",
            key=f"merge-btn-{c.id}",
            disabled=not others,
            on_click=lambda i=c.id: act("merge", faq.merge, i, st.session_state.get(f"merge-{i}", [])),
        )
        b5.button("Split in two", key=f"split-{c.id}", on_click=lambda i=c.id: act("split", faq.split, i))
        b6.button("Dismiss", key=f"dismiss-{c.id}", on_click=lambda i=c.id: act("dismiss", faq.dismiss, i))

st.subheader("Export accepted entries")
fmt = st.selectbox("Format", list(faq.EXPORT_FORMATS), key="faq-format")
with session() as s:
    exported = faq.export(s, fmt)
    count = len(faq.exportable(s))
st.caption(f"{count} accepted entries with answers")
st.download_button("Download", exported, file_name=f"faq.{fmt}", key="faq-download")
