"""FAQ harvest: a sortable list of recurring questions beside one entry's detail, where a lead decides.

The list and the detail read `responder.faq` (counts in SQL, a few examples each); every decision is a
`responder.faq` function, which checks the role and audits it. The page calls nothing else.
"""

from __future__ import annotations

import streamlit as st

from dashboard import i18n
from dashboard.auth import current_user, require_user
from dashboard.safe import md_link, md_text
from dashboard.state import display_timezone, session, settings
from kikimimi.errors import KikimimiError
from kikimimi.models import FaqStatus
from responder import faq

user = require_user()
t = i18n.translator(user.locale)
tz = display_timezone(user)
LANGS = {"en": "English", "ja": "日本語"}
SORTS = {
    "size": lambda c: -c.size,
    "growth": lambda c: -c.growth,
    "new this week": lambda c: -c.this_week,
    "sentiment": lambda c: (c.average_sentiment is None, c.average_sentiment or 0.0),
    "status": lambda c: (c.status, -c.size),
}
SORT_LABELS = {
    "size": t("size"),
    "growth": t("growth"),
    "new this week": t("new this week"),
    "sentiment": t("sentiment (most negative first)"),
    "status": t("status"),
}
STATUS_LABELS = {"candidate": t("candidate"), "accepted": t("accepted"), "dismissed": t("dismissed")}
DECISION_LABELS = {
    "accepted": t("accepted"),
    "dismissed": t("dismissed"),
    "candidate": t("candidate"),
    "renamed": t("titled"),
    "answer_en": t("English answer"),
    "answer_ja": t("Japanese answer"),
    "merged": t("merged"),
    "split": t("split"),
}


def when(moment) -> str:  # noqa: ANN001 - an aware datetime
    return i18n.when(moment, tz, user.locale)


def note(kind: str, text: str) -> None:
    st.session_state["faq-note"] = (kind, text)


def forget_inputs(cluster_id: int) -> None:
    """Drop the detail's typed values so the boxes show what is stored now (a merge changes the titles)."""
    for key in [k for k in st.session_state if str(k).startswith(f"faq-{cluster_id}-")]:
        del st.session_state[key]


def act(label: str, cluster_id: int, action, *args, **kwargs) -> None:  # noqa: ANN001 - a responder.faq action
    """Run one of the lead's decisions as the signed-in user (a callback, before the page redraws)."""
    me = current_user()
    if me is None:
        return
    tr = i18n.translator(me.locale)
    try:
        with session() as s:
            action(s, *args, actor=me, **kwargs)
    except KikimimiError as err:
        note("error", tr("{action}: {error}").format(action=label, error=err))
        return
    forget_inputs(cluster_id)
    note("success", tr("{action}: done").format(action=label))


def refresh_now() -> None:
    me = current_user()
    tr = i18n.translator(me.locale if me else "en")
    try:
        with session() as s:
            summary = faq.refresh_as(s, me)
    except KikimimiError as err:
        note("error", str(err))
        return
    note(
        "success",
        tr("refresh: {questions} questions, {candidates} candidates, {new} new").format(
            questions=summary.questions, candidates=summary.candidates, new=summary.created
        ),
    )


def typed(key: str) -> str:
    return st.session_state.get(key, "")


st.title(t("FAQ harvest"))
flash = st.session_state.pop("faq-note", None)
if flash:
    (st.success if flash[0] == "success" else st.error)(flash[1])

bar = st.columns([1, 3, 2])
bar[0].button(t("Refresh candidates"), key="faq-refresh", on_click=refresh_now)
statuses = bar[1].multiselect(
    t("Show"),
    [s.value for s in FaqStatus],
    default=[FaqStatus.candidate.value, FaqStatus.accepted.value],
    format_func=lambda v: STATUS_LABELS[v],
    key="faq-show",
)
order = bar[2].selectbox(t("Sort by"), list(SORTS), format_func=lambda v: SORT_LABELS[v], key="faq-sort")

with session() as s:
    found = faq.candidates(s, statuses=[FaqStatus(v) for v in statuses], examples=0)
found.sort(key=SORTS[order])
if not found:
    st.info(t("No FAQ candidates yet: they form once several people ask the same thing (press Refresh)."))
    st.stop()
by_id = {c.id: c for c in found}


def title_of(c: faq.FaqCandidate) -> str:
    mine = "ja" if user.locale == "ja" else "en"
    return c.titles.get(mine) or c.label


left, right = st.columns([3, 2], gap="large")
with left:
    st.dataframe(
        [
            {
                "#": c.id,
                t("question"): title_of(c),
                t("status"): STATUS_LABELS.get(c.status, c.status),
                t("asked"): c.size,
                t("this week"): c.this_week,
                t("growth"): c.growth,
                t("sentiment"): c.average_sentiment,
                t("languages"): " ".join(sorted(c.languages)),
                t("last asked"): when(c.last_seen) if c.last_seen else "",
            }
            for c in found
        ],
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(found), 560),
        key="faq-list",
    )
    chosen = st.selectbox(
        t("Open"),
        [c.id for c in found],
        format_func=lambda i: f"#{i} · {title_of(by_id[i])} ({by_id[i].size})",
        key="faq-open",
    )

with session() as s:
    c = faq.candidate(s, chosen)
    history = faq.decisions(s, chosen)
if c is None:
    st.stop()
k = f"faq-{c.id}"

with right, st.container(border=True, key=f"detail-{c.id}"):
    st.subheader(f"#{c.id} · {title_of(c)}")
    mood = "—" if c.average_sentiment is None else f"{c.average_sentiment:+.2f}"
    st.markdown(
        t("**{size}** asked · this week **{this_week}** ({growth} vs the week before) · sentiment {mood}").format(
            size=c.size, this_week=c.this_week, growth=f"{c.growth:+d}", mood=mood
        )
        + "  \n"
        + md_text(", ".join(f"{p} {n}" for p, n in c.platforms.items()))
        + " · "
        + md_text(", ".join(f"{lang} {n}" for lang, n in c.languages.items()))
        + "  \n"
        + t("first asked {first} · last asked {last}").format(
            first=when(c.first_seen) if c.first_seen else "—", last=when(c.last_seen) if c.last_seen else "—"
        )
        + "  \n"
        + t("key phrases: {phrases}").format(phrases=md_text(", ".join(c.key_phrases)) or "—")
    )
    for lang, name in LANGS.items():
        st.text_input(
            t("Title ({language})").format(language=name), value=c.titles.get(lang, ""), key=f"{k}-title-{lang}"
        )
        st.text_area(
            t("Answer ({language})").format(language=name),
            value=c.answers.get(lang, ""),
            key=f"{k}-answer-{lang}",
            height=90,
        )
    b = st.columns(4)
    b[0].button(
        t("Accept"),
        key=f"accept-{c.id}",
        type="primary",
        on_click=lambda: act(
            t("accept"),
            c.id,
            faq.accept,
            c.id,
            answer_en=typed(f"{k}-answer-en"),
            answer_ja=typed(f"{k}-answer-ja"),
            templates_dir=settings().templates_dir,
        ),
    )

    def save_answers() -> None:
        for lang in LANGS:
            if typed(f"{k}-answer-{lang}").strip() != c.answers.get(lang, ""):
                act(t("answer"), c.id, faq.attach_answer, c.id, typed(f"{k}-answer-{lang}"), language=lang,
                    templates_dir=settings().templates_dir)  # fmt: skip

    def save_titles() -> None:
        for lang in LANGS:
            if typed(f"{k}-title-{lang}").strip() and typed(f"{k}-title-{lang}").strip() != c.titles.get(lang, ""):
                act(t("title"), c.id, faq.rename, c.id, typed(f"{k}-title-{lang}"), language=lang)

    b[1].button(t("Save answers"), key=f"save-{c.id}", on_click=save_answers)
    b[2].button(t("Save titles"), key=f"rename-{c.id}", on_click=save_titles)
    b[3].button(t("Dismiss"), key=f"dismiss-{c.id}", on_click=lambda: act(t("dismiss"), c.id, faq.dismiss, c.id))

    with st.expander(t("Examples ({n})").format(n=len(c.examples)), expanded=True):
        for ex in c.examples[: faq.EXAMPLES_SHOWN]:
            link = md_link(t("open"), ex.url)
            where = f"`{ex.language}` {ex.platform} · {when(ex.created_at)}{' · ' + link if link else ''}"
            st.markdown(f"{where}  \n{md_text(ex.text)}")

    with st.expander(t("Merge other entries into this one")):
        others = [o.id for o in found if o.id != c.id]
        picked = st.multiselect(
            t("Entries to merge in"),
            others,
            format_func=lambda i: f"#{i} · {title_of(by_id[i])} ({by_id[i].size})",
            key=f"merge-{c.id}",
        )
        if picked:
            with session() as s:
                preview = faq.merge_preview(s, c.id, picked)
            st.markdown(
                t("After the merge: **{size}** questions; titles kept: {titles}; answers kept: {answers}").format(
                    size=preview.size,
                    titles=md_text(" / ".join(preview.titles.values())) or "—",
                    answers=", ".join(sorted(preview.answers)) or "—",
                )
            )
        st.button(
            t("Merge"),
            key=f"merge-btn-{c.id}",
            disabled=not picked,
            on_click=lambda: act(t("merge"), c.id, faq.merge, c.id, st.session_state.get(f"merge-{c.id}", [])),
        )

    with st.expander(t("Split off questions that ask something else")):
        texts = {ex.post_id: ex.text for ex in c.examples}
        st.multiselect(
            t("Questions to move into a new entry"),
            list(texts),
            format_func=lambda pid: texts[pid][:120],
            key=f"split-pick-{c.id}",
        )
        s1, s2 = st.columns(2)
        s1.button(
            t("Split off the picked questions"),
            key=f"split-picked-{c.id}",
            disabled=not st.session_state.get(f"split-pick-{c.id}"),
            on_click=lambda: act(
                t("split"), c.id, faq.split, c.id, post_ids=st.session_state.get(f"split-pick-{c.id}", [])
            ),
        )
        s2.button(
            t("Split in two automatically"),
            key=f"split-{c.id}",
            on_click=lambda: act(t("split"), c.id, faq.split, c.id),
        )

    with st.expander(t("Who decided what")):
        for decision, (who, at) in c.decided.items():
            st.markdown(f"**{DECISION_LABELS.get(decision, decision)}** · {md_text(who)} · {when(at)}")
        for event in history:
            outcome = (
                ""
                if event.outcome == "allowed"
                else " · " + t("refused: {reason}").format(reason=md_text(event.reason))
            )
            st.caption(f"{when(event.at)} · {md_text(event.actor)} · {event.action.removeprefix('faq_')}{outcome}")

st.subheader(t("Export accepted entries"))
with session() as s:
    entries = faq.exportable(s, found if FaqStatus.accepted.value in statuses else None)
    files = {fmt: faq.export(s, fmt, entries) for fmt in faq.EXPORT_FORMATS}
st.caption(t("{count} accepted entries with answers, in English and Japanese").format(count=len(entries)))
cols = st.columns(len(files))
for col_, (fmt, body) in zip(cols, files.items(), strict=True):
    col_.download_button(
        t("Download {format}").format(format=fmt.upper()),
        body,
        file_name=f"faq.{fmt}",
        key=f"faq-download-{fmt}",
        disabled=not entries,
    )
