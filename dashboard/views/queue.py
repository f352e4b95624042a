"""Reply queue: read the post, its analysis and the author's history; edit, approve, reject, retry, reply by hand.

Every button calls a stage function as the signed-in user, in a callback that runs before the page redraws, so
the card shows its new state at once. Buttons follow the draft's state (an approved card has no Approve, Retry
only where reconciliation offers it); the role is checked where the state changes, so an action the role lacks
is shown locked and refused, with the refusal in the audit table.
"""

import streamlit as st

from dashboard import i18n, queries, voice_findings
from dashboard.auth import current_user, require_user
from dashboard.safe import md_link, md_text, safe_url
from dashboard.state import display_timezone, session, settings
from kikimimi import search
from kikimimi.errors import KikimimiError
from responder import inbox
from responder.voice import lint_draft
from responder.workflow import RULES, allowed_actions

PAGE_SIZE = 10
HANDLED_SHOWN = 5
SENTIMENT_ICON = {"negative": "🔴", "neutral": "⚪", "positive": "🟢"}


def _(message: str) -> str:
    return message  # marks a string for the catalogue; it is translated where it is shown, with t()


LABELS = {
    "edit": _("Save edit"),
    "approve": _("Approve"),
    "retry": _("Retry"),
    "reject": _("Reject"),
    "mark_replied_by_hand": _("Mark replied by hand"),
}
DONE = {
    "edit": _("saved"),
    "approve": _("approve done"),
    "retry": _("retry done"),
    "reject": _("reject done"),
    "mark_replied_by_hand": _("marked replied by hand"),
}
STATE_NOTE = {
    "posting": _("being posted by a worker right now"),
    "unknown": _("the platform's answer was unclear: it is being looked up, never posted again until settled"),
}
STATES = [
    _("drafted"),
    _("approved"),
    _("posting"),
    _("posted"),
    _("unknown"),
    _("not_posted"),
    _("replied_by_hand"),
    _("rejected"),
    _("failed"),
]
BULK_SCOPES = [_("the selected cards"), _("all matching the filters")]
# the views and sorts of dashboard/queries.py, and the default note, for the catalogue
_MARKED = [
    _("To do"),
    _("Approved, waiting to post"),
    _("Needs a look (failed, unknown, not posted)"),
    _("Rejected"),
    _("Posted or replied by hand"),
    _("Spam"),
    _("most urgent first"),
    _("oldest first"),
    _("most followers first"),
    _("nothing left to do on this reply"),
]
INTENTS = [
    "order_status",
    "product_question",
    "returns_refunds",
    "billing_account",
    "technical_issue",
    "complaint",
    "praise",
    "other",
]

user = require_user()
tz = display_timezone(user)


def keyed(name: str) -> str:
    """The key of a widget whose options are shown translated: one per language, since Streamlit keeps showing a
    keyed widget's old labels when only their translation changes (switching language resets these choices)."""
    me = current_user() or user
    return name if me.locale == "en" else f"{name}-{me.locale}"


t = i18n.translator(user.locale)
st.title(t("Reply queue"))
with session() as s:
    banner = queries.pause_banner(s)
if banner:
    st.error(banner)
st.caption(
    t("Live posting is ON: approved replies are sent by the next `kikimimi run`.")
    if settings().live_posting
    else t("Dry run: approved replies are logged, not sent, until `live_posting = true` is configured.")
)


def filters() -> dict:
    """The filters as chosen in the widgets (read again by the bulk callbacks, before the page redraws)."""
    get = st.session_state.get
    days = get("days") or ()
    since, until = queries.day_range(days[0] if days else None, days[-1] if days else None, tz)
    return {
        "text": get("search", ""),
        "since": since,
        "until": until,
        "states": queries.VIEWS.get(get(keyed("view"), "To do"), queries.VIEWS["To do"]),
        "platforms": get("platforms", []),
        "languages": get("languages", []),
        "sentiments": get("sentiments", []),
        "intents": get("intents", []),
        "questions_only": get("questions-only", False),
    }


def flash(kind: str, text: str) -> None:
    st.session_state.setdefault("queue-flash", []).append((kind, text))


def handled(draft_id: int) -> None:
    ids = [i for i in st.session_state.get("queue-handled", []) if i != draft_id]
    st.session_state["queue-handled"] = [draft_id, *ids][:HANDLED_SHOWN]


def act(draft_id: int, action: str, text_key: str | None) -> None:
    """One button: the stage function decides, as whoever is signed in now."""
    me = current_user()
    if me is None:
        return
    tr = i18n.translator(me.locale)
    text = st.session_state.get(text_key) if text_key else None
    note = st.session_state.get(f"reason-{draft_id}", "").strip() or None if action == "reject" else None
    link = st.session_state.get(f"hand-link-{draft_id}", "").strip() if action == "mark_replied_by_hand" else None
    with session() as s:
        try:
            draft = queries.act_on_draft(s, draft_id, action, me, text=text, note=note, link=link)
        except (KikimimiError, LookupError) as exc:
            flash("error", tr("Reply #{id}: {error}").format(id=draft_id, error=exc))
            return
    done = tr(DONE[action])
    flash(
        "success", tr("Reply #{id}: {done} — it is now {state}").format(id=draft_id, done=done, state=tr(draft.state))
    )
    handled(draft_id)


def bulk_act(action: str) -> None:
    me = current_user()
    if me is None:
        return
    tr = i18n.translator(me.locale)
    with session() as s:
        if st.session_state.get(keyed("bulk-scope")) == "all matching the filters":
            ids = queries.queue_ids(s, **filters())
        else:
            ids = sorted(int(k[4:]) for k, v in st.session_state.items() if k.startswith("sel-") and v)
        if not ids:
            flash("error", tr("Nothing selected: tick cards, or choose “all matching the filters”."))
            return
        note = st.session_state.get("bulk-reason", "").strip() or None
        result = queries.bulk(s, ids, action, me, note=note)
    for key in [k for k in st.session_state if k.startswith("sel-")]:
        st.session_state[key] = False
    why = tr(" — e.g. {reason}").format(reason=next(iter(result.refused.values()))) if result.refused else ""
    kind = "success" if result.done else "error"
    message = (
        tr("Bulk approve: {done} done, {refused} refused")
        if action == "approve"
        else tr("Bulk reject: {done} done, {refused} refused")
    )
    flash(kind, message.format(done=len(result.done), refused=len(result.refused)) + why)


def rescue(post_id: int) -> None:
    me = current_user()
    if me is None:
        return
    tr = i18n.translator(me.locale)
    with session() as s:
        try:
            draft = inbox.mark_not_spam(
                s, post_id, me, templates_dir=settings().templates_dir, brands=settings().brands
            )
        except KikimimiError as exc:
            flash("error", tr("Post #{id}: {error}").format(id=post_id, error=exc))
            return
    if draft is None:
        flash("success", tr("Post #{id}: not spam — it needs no reply, so it has no draft").format(id=post_id))
    else:
        flash(
            "success",
            tr("Post #{id}: not spam — back in the queue with draft #{draft}").format(id=post_id, draft=draft.id),
        )
        handled(draft.id)  # type: ignore[arg-type]


def post_header(post, author, analysis, column) -> None:  # noqa: ANN001 - model rows and a column
    name = author.display_name or author.handle
    link = md_link(t("open the post"), post.url)
    column.markdown(
        f"**{md_text(name)}** (@{md_text(author.handle)}) · {post.platform} · "
        f"{i18n.when(post.created_at, tz, user.locale)}" + (f" · {link}" if link else "")
    )
    column.markdown(md_text(post.text))  # the post as text: nothing in it is read as Markdown or HTML


def card(s, item: queries.QueueItem, *, selectable: bool) -> None:  # noqa: ANN001 - a Session
    post, draft, analysis, author = item.post, item.draft, item.analysis, item.author
    with st.container(border=True, key=f"card-{draft.id}"):
        head, meta = st.columns([3, 2])
        if selectable:
            head.checkbox(t("Select reply #{id}").format(id=draft.id), key=f"sel-{draft.id}")
        post_header(post, author, analysis, head)
        cues = ", ".join(f"{md_text(c['kind'])} «{md_text(c['span'])}»" for c in analysis.empathy_cues) or t("none")
        kind = t("question") if analysis.is_question else t("statement")
        reach = "✅ " + t("replyable") if post.replyable else "✋ " + t("reply by hand")
        meta.markdown(
            f"{SENTIMENT_ICON.get(analysis.sentiment, '')} {analysis.sentiment} · "
            f"{t('intent')} **{analysis.intent}** · {kind} ({analysis.question_score:.2f}) · "
            f"{t('priority')} {analysis.priority:.2f}  \n{t('empathy cues')}: {cues}  \n"
            f"{reach}: {md_text(post.replyable_reason)}"
            + ("  \n🔒 " + t("private message: the reply stays private") if post.visibility == "private" else "")
        )
        history = queries.author_history(s, author, exclude_post_id=post.id)
        if not history.empty:
            history["created_at"] = history["created_at"].map(lambda at: i18n.when(at, tz, user.locale))
            with meta.expander(t("Author history ({n})").format(n=len(history))):
                st.dataframe(history[["created_at", "platform", "handle", "sentiment", "text"]], hide_index=True)
        state = str(draft.state)
        st.markdown(
            "**"
            + t("Reply #{id} · {state}").format(id=draft.id, state=t(state))
            + f"** · v{draft.version}"
            + (" · " + t("approved by {name}").format(name=md_text(draft.approved_by)) if draft.approved_by else "")
            + (
                " · " + t("replied by hand by {name}").format(name=md_text(draft.hand_replied_by))
                if draft.hand_replied_by
                else ""
            )
            + (f" · {md_link(t('their reply'), draft.hand_reply_url)}" if draft.hand_reply_url else "")
            + (" · " + t("error: {error}").format(error=md_text(draft.error)) if draft.error else ""),
            help=None,
        )
        possible, mine = queries.state_actions(draft), allowed_actions(draft, user)
        text_key = f"text-{draft.id}-{draft.version}"
        if "edit" in possible:
            st.text_area(t("Reply"), value=draft.text, key=text_key, height=110, disabled="edit" not in mine)
            voice_findings.show(lint_draft(s, draft, settings().brands, text=st.session_state.get(text_key)), t)
        else:
            st.markdown(md_text(draft.text))
            text_key = None
        if not possible:
            st.caption(t(STATE_NOTE.get(state, "nothing left to do on this reply")))
            return

        def button(action: str, column) -> None:  # noqa: ANN001 - a column
            locked = action not in mine
            column.button(
                t(LABELS[action]) + (" 🔒" if locked else ""),
                key=f"{action}-{draft.id}",
                type="primary" if action == "approve" else "secondary",
                on_click=act,
                args=(draft.id, action, text_key),
                help=t("{roles} only").format(roles=" / ".join(sorted(map(str, RULES[action].roles))))
                if locked
                else None,
            )

        row = st.columns([1, 1, 1, 3, 1])
        for column, action in zip(row[:3], [a for a in ("edit", "approve", "retry") if a in possible], strict=False):
            button(action, column)
        if "reject" in possible:
            row[3].text_input(t("Reason for rejecting"), key=f"reason-{draft.id}", placeholder=t("spam, off-topic, …"))
            button("reject", row[4])
        if "mark_replied_by_hand" in possible:
            with st.expander(t("Reply by hand"), expanded=not post.replyable):
                st.caption(t("Copy the reply (the copy button is at the top right), open the post, reply there:"))
                st.code(draft.text, language=None, wrap_lines=True)
                url = safe_url(post.url)
                if url:
                    st.link_button(t("Open the post"), url)
                st.text_input(t("Link to your reply (optional)"), key=f"hand-link-{draft.id}")
                button("mark_replied_by_hand", st)


for kind, text in st.session_state.pop("queue-flash", []):
    (st.success if kind == "success" else st.error)(text)

view = st.radio(t("View"), [*queries.VIEWS, queries.SPAM_VIEW], horizontal=True, key=keyed("view"), format_func=t)
with session() as s:
    just = [i for i in queries.drafts_by_id(s, st.session_state.get("queue-handled", []))]
    if just:
        st.subheader(t("Just handled"))
        for item in just:
            card(s, item, selectable=False)
        st.button(
            t("Clear this list"), key="clear-handled", on_click=lambda: st.session_state.pop("queue-handled", None)
        )
shown = {item.draft.id for item in just}

if view == queries.SPAM_VIEW:
    page = st.number_input(t("Page"), min_value=1, value=1, step=1, key="spam-page")
    with session() as s:
        spam, total = queries.spam(s, limit=PAGE_SIZE, offset=(int(page) - 1) * PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    st.write(
        t("{total} posts marked as spam · page {page} of {pages}").format(total=total, page=int(page), pages=pages)
    )
    for item in spam:
        with st.container(border=True, key=f"spam-{item.post.id}"):
            head, side = st.columns([4, 1])
            post_header(item.post, item.author, item.analysis, head)
            side.button(t("Not spam"), key=f"notspam-{item.post.id}", on_click=rescue, args=(item.post.id,))
    st.stop()

f1, f2, f3, f4 = st.columns(4)
f1.multiselect(t("Platform"), ["x", "reddit", "bluesky", "mastodon"], key="platforms", placeholder=t("Choose options"))
f2.multiselect(t("Language"), ["en", "ja", "other"], key="languages", placeholder=t("Choose options"))
f3.multiselect(t("Sentiment"), ["negative", "neutral", "positive"], key="sentiments", placeholder=t("Choose options"))
f4.multiselect(t("Intent"), INTENTS, key="intents", placeholder=t("Choose options"))
g1, g2, g3, g4, g5 = st.columns([3, 2, 1, 1, 1])
g1.text_input(t("Search the posts"), key="search", placeholder="送料, refund, …")
g2.date_input(t("Posted between"), value=(), key="days", format="YYYY-MM-DD")
g3.checkbox(t("Questions only"), key="questions-only")
sort = g4.selectbox(t("Sort"), list(queries.SORTS), format_func=lambda k: t(queries.SORTS[k]), key=keyed("sort"))
page = g5.number_input(t("Page"), min_value=1, value=1, step=1, key="page")

with st.container(border=True, key="bulk"):
    b1, b2, b3, b4 = st.columns([2, 1, 3, 1])
    b1.radio(t("Bulk: act on"), BULK_SCOPES, key=keyed("bulk-scope"), format_func=t)
    b2.button(t("Approve"), key="bulk-approve", type="primary", on_click=bulk_act, args=("approve",))
    b3.text_input(t("Reason (to reject)"), key="bulk-reason")
    b4.button(t("Reject"), key="bulk-reject", on_click=bulk_act, args=("reject",))

with session() as s:
    if st.session_state.get("search", "").strip():
        search.index_posts(s)  # posts stored before the index existed (a database upgraded in place)
    items, total = queries.queue(s, **filters(), sort=sort, limit=PAGE_SIZE, offset=(int(page) - 1) * PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    st.write(t("{total} replies · page {page} of {pages}").format(total=total, page=int(page), pages=pages))
    for item in items:
        if item.draft.id not in shown:
            card(s, item, selectable=True)
