"""Reply queue: a compact list (one row per reply) beside a detail pane with the post, its analysis, the author's
history, the draft editor and the actions, in the spirit of Sprout's Smart Inbox and Hootsuite's Inbox.

Every button calls a stage function as the signed-in user, in a callback that runs before the page redraws, so
the row and the detail show the new state at once. Buttons follow the draft's state (an approved reply has no
Approve, Retry only where reconciliation offers it); the role is checked where the state changes, so an action
the role lacks is shown locked and refused, with the refusal in the audit table. Opening a reply for editing
takes a soft lock kept in the database ("aki is editing this draft"), which approval checks again.
Keyboard: j / k next / previous, a approve, e edit (never while typing, never during IME composition).
"""

import streamlit as st

from dashboard import i18n, queries, voice_findings
from dashboard.auth import current_user, require_user
from dashboard.safe import md_link, md_text, safe_url
from dashboard.state import display_timezone, session, settings
from kikimimi import search
from kikimimi.errors import KikimimiError
from kikimimi.timeutil import utcnow
from responder import inbox, teamwork
from responder.voice import lint_draft
from responder.workflow import RULES, allowed_actions

PAGE_SIZE = 10
HANDLED_SHOWN = 5
SENTIMENT_ICON = {"negative": "🔴", "neutral": "⚪", "positive": "🟢"}
STATE_ICON = {
    "drafted": "📝",
    "approved": "✅",
    "posting": "📤",
    "posted": "📨",
    "unknown": "❔",
    "not_posted": "↩️",
    "replied_by_hand": "✋",
    "rejected": "🚫",
    "failed": "⚠️",
}
OPEN = "queue-open"  # the reply shown in the detail pane


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
WHOSE = {"all": _("everyone's"), "mine": _("mine"), "unassigned": _("unassigned")}
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
INTENTS = list(inbox.INTENTS)

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


def filters() -> queries.QueueFilter:
    """The filters as chosen in the widgets (read again by the bulk callbacks, before the page redraws)."""
    get = st.session_state.get
    days = get("days") or ()
    since, until = queries.day_range(days[0] if days else None, days[-1] if days else None, tz)
    whose = get(keyed("whose"), "all")
    me = current_user() or user
    return queries.QueueFilter(
        text=get("search", ""),
        since=since,
        until=until,
        states=queries.VIEWS.get(get(keyed("view"), "To do"), queries.VIEWS["To do"]),
        platforms=get("platforms", []),
        languages=get("languages", []),
        sentiments=get("sentiments", []),
        intents=get("intents", []),
        questions_only=get("questions-only", False),
        assignee=me.name if whose == "mine" else None,
        unassigned=whose == "unassigned",
    )


def flash(kind: str, text: str) -> None:
    st.session_state.setdefault("queue-flash", []).append((kind, text))


def handled(draft_id: int) -> None:
    ids = [i for i in st.session_state.get("queue-handled", []) if i != draft_id]
    st.session_state["queue-handled"] = [draft_id, *ids][:HANDLED_SHOWN]


def signed_in():  # noqa: ANN201
    """Whoever is signed in now (callbacks run before the page redraws) and their translator."""
    me = current_user()
    return me, i18n.translator(me.locale if me else "en")


def act(draft_id: int, action: str, text_key: str | None) -> None:
    """One button: the stage function decides, as whoever is signed in now."""
    me, tr = signed_in()
    if me is None:
        return
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
    me, tr = signed_in()
    if me is None:
        return
    with session() as s:
        if st.session_state.get(keyed("bulk-scope")) == "all matching the filters":
            ids = queries.queue_ids(s, filters())
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
    me, tr = signed_in()
    if me is None:
        return
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


def assign_to(post_id: int) -> None:
    me, tr = signed_in()
    if me is None:
        return
    chosen = st.session_state.get(f"assign-{post_id}")
    with session() as s:
        try:
            teamwork.assign(s, post_id, None if chosen in (None, "") else chosen, me)
        except KikimimiError as exc:
            flash("error", tr("Post #{id}: {error}").format(id=post_id, error=exc))
            return
    flash("success", tr("Post #{id}: assigned to {name}").format(id=post_id, name=chosen or tr("nobody")))


def take(post_id: int) -> None:
    st.session_state[f"assign-{post_id}"] = (current_user() or user).name
    assign_to(post_id)


def add_note(post_id: int) -> None:
    me, tr = signed_in()
    if me is None:
        return
    with session() as s:
        try:
            teamwork.add_note(s, post_id, me, st.session_state.get(f"note-{post_id}", ""))
        except KikimimiError as exc:
            flash("error", tr("Post #{id}: {error}").format(id=post_id, error=exc))
            return
    st.session_state[f"note-{post_id}"] = ""


def correct(post_id: int) -> None:
    me, tr = signed_in()
    if me is None:
        return
    get = st.session_state.get
    changes = {f: get(f"fix-{f}-{post_id}") for f in inbox.CORRECTABLE if get(f"fix-{f}-{post_id}") is not None}
    with session() as s:
        try:
            made = inbox.correct_analysis(s, post_id, me, changes)
        except KikimimiError as exc:
            flash("error", tr("Post #{id}: {error}").format(id=post_id, error=exc))
            return
    flash("success", tr("Post #{id}: {n} corrections saved").format(id=post_id, n=len(made)))


def open_reply(draft_id: int) -> None:
    st.session_state[OPEN] = draft_id


def handle(author) -> str:  # noqa: ANN001 - an Author
    """The author's handle as plain text: a Mastodon @user@instance must not turn into a mailto: link."""
    return md_text(f"@{author.handle}").replace("@", "@\u2060")  # a word joiner keeps it from reading as an e-mail


def post_header(post, author, column) -> None:  # noqa: ANN001 - model rows and a column
    name = author.display_name or author.handle
    link = md_link(t("open the post"), post.url)
    column.markdown(
        f"**{md_text(name)}** ({handle(author)}) · {post.platform} · "
        f"{i18n.when(post.created_at, tz, user.locale)}" + (f" · {link}" if link else "")
    )
    column.markdown(md_text(post.text))  # the post as text: nothing in it is read as Markdown or HTML


def age(item: queries.QueueItem) -> str:
    minutes = max(0, int((utcnow() - item.post.created_at).total_seconds() // 60))
    if minutes < 60:
        return t("{n} min").format(n=minutes)
    if minutes < 48 * 60:
        return t("{n} h").format(n=minutes // 60)
    return t("{n} d").format(n=minutes // 1440)


def snippet(text: str, query: str, width: int = 60) -> str:
    """The first words of a post, or the words around the first search term it contains."""
    flat = " ".join(text.split())
    folded = search.normalise(flat)
    at = min((folded.find(term) for term in search.terms(query) if folded.find(term) >= 0), default=0)
    start = max(0, at - width // 3) if at > width // 2 else 0
    cut = flat[start : start + width]
    return ("…" if start else "") + cut + ("…" if start + width < len(flat) else "")


def row(item: queries.QueueItem, *, selectable: bool, is_open: bool, editing: str | None, query: str) -> None:
    draft, post, author = item.draft, item.post, item.author
    state = str(draft.state)
    with st.container(border=True, key=f"row-{draft.id}"):
        cells = st.columns([0.4, 5.6, 1.2]) if selectable else st.columns([0.01, 6, 1.2])
        if selectable:
            cells[0].checkbox(
                t("Select reply #{id}").format(id=draft.id), key=f"sel-{draft.id}", label_visibility="collapsed"
            )
        cells[1].markdown(
            f"{STATE_ICON.get(state, '')} **#{draft.id}** {t(state)} · {item.analysis.priority:.2f} · "
            f"{post.platform} · {item.analysis.language} · {SENTIMENT_ICON.get(item.sentiment, '')} {item.sentiment}"
            f" · {item.intent} · {handle(author)} · {age(item)}"
            + (f" · 👤 {md_text(item.assignee)}" if item.assignee else "")
            + (" · ✏️ " + t("{name} is editing").format(name=md_text(editing)) if editing else "")
            + f"  \n{md_text(snippet(post.text, query))}"
        )
        cells[2].button(
            ("▶ " if is_open else "") + t("Open"),
            key=f"open-{draft.id}",
            on_click=open_reply,
            args=(draft.id,),
            type="primary" if is_open else "secondary",
        )


def detail(s, item: queries.QueueItem) -> None:  # noqa: ANN001 - a Session
    post, draft, analysis, author = item.post, item.draft, item.analysis, item.author
    with st.container(border=True, key=f"card-{draft.id}"):
        post_header(post, author, st)
        cues = ", ".join(f"{md_text(c['kind'])} «{md_text(c['span'])}»" for c in analysis.empathy_cues) or t("none")
        kind = t("question") if analysis.is_question else t("statement")
        reach = "✅ " + t("replyable") if post.replyable else "✋ " + t("reply by hand")
        fixed = " ✍️" if item.corrected else ""
        st.markdown(
            f"{SENTIMENT_ICON.get(item.sentiment, '')} {item.sentiment} · "
            f"{t('intent')} **{item.intent}**{fixed} · {kind} ({analysis.question_score:.2f}) · "
            f"{t('priority')} {analysis.priority:.2f}  \n{t('empathy cues')}: {cues}  \n"
            f"{reach}: {md_text(post.replyable_reason)}"
            + ("  \n🔒 " + t("private message: the reply stays private") if post.visibility == "private" else "")
        )
        history = queries.author_history(s, author, exclude_post_id=post.id)
        if not history.empty:
            history["created_at"] = history["created_at"].map(lambda at: i18n.when(at, tz, user.locale))
            with st.expander(t("Author history ({n})").format(n=len(history))):
                st.dataframe(history[["created_at", "platform", "handle", "sentiment", "text"]], hide_index=True)
        teamwork_panel(s, item)
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
        )
        possible, mine = queries.state_actions(draft), allowed_actions(draft, user)
        text_key = f"text-{draft.id}-{draft.version}"
        if "edit" in possible:
            lock = teamwork.open_for_edit(s, draft.id, user, minutes=settings().edit_lock_minutes)  # type: ignore[arg-type]
            if lock.holder and not lock.mine:
                st.warning(
                    "✏️ "
                    + t("{name} is editing this draft (until {time} unless they keep working)").format(
                        name=lock.holder, time=i18n.when(lock.expires_at, tz, user.locale)
                    )
                )
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

        buttons = st.columns([1, 1, 1, 3, 1])
        for column, action in zip(
            buttons[:3], [a for a in ("edit", "approve", "retry") if a in possible], strict=False
        ):
            button(action, column)
        if "reject" in possible:
            buttons[3].text_input(
                t("Reason for rejecting"), key=f"reason-{draft.id}", placeholder=t("spam, off-topic, …")
            )
            button("reject", buttons[4])
        if "mark_replied_by_hand" in possible:
            with st.expander(t("Reply by hand"), expanded=not post.replyable):
                st.caption(t("Copy the reply (the copy button is at the top right), open the post, reply there:"))
                st.code(draft.text, language=None, wrap_lines=True)
                url = safe_url(post.url)
                if url:
                    st.link_button(t("Open the post"), url)
                st.text_input(t("Link to your reply (optional)"), key=f"hand-link-{draft.id}")
                button("mark_replied_by_hand", st)


def teamwork_panel(s, item: queries.QueueItem) -> None:  # noqa: ANN001 - a Session
    """Who has the post, the team's notes on it, and corrections of its analysis."""
    post = item.post
    people = teamwork.team(s)
    options = ["", *people] if item.assignee in (None, *people) else ["", item.assignee, *people]
    a1, a2 = st.columns([3, 1])
    a1.selectbox(
        t("Assigned to"),
        options,
        index=options.index(item.assignee or ""),
        format_func=lambda name: name or t("nobody"),
        key=f"assign-{post.id}",
        on_change=assign_to,
        args=(post.id,),
    )
    if item.assignee != user.name:
        a2.button(t("Take it"), key=f"take-{post.id}", on_click=take, args=(post.id,))
    notes = teamwork.notes(s, post.id)  # type: ignore[arg-type]
    with st.expander(t("Internal notes ({n})").format(n=len(notes)), expanded=bool(notes)):
        for note in notes:
            st.markdown(f"**{md_text(note.author)}** · {i18n.when(note.at, tz, user.locale)}  \n{md_text(note.text)}")
        n1, n2 = st.columns([4, 1])
        n1.text_input(t("Add a note (only the team sees it)"), key=f"note-{post.id}")
        n2.button(t("Add note"), key=f"add-note-{post.id}", on_click=add_note, args=(post.id,))
    with st.expander(t("Correct the analysis")):
        c1, c2, c3, c4 = st.columns([2, 2, 2, 1])
        sentiments = list(inbox.SENTIMENTS)
        c1.selectbox(t("Sentiment"), sentiments, index=sentiments.index(item.sentiment), key=f"fix-sentiment-{post.id}")
        c2.selectbox(
            t("Intent"),
            INTENTS,
            index=INTENTS.index(item.intent) if item.intent in INTENTS else len(INTENTS) - 1,
            key=f"fix-intent-{post.id}",
        )
        c3.selectbox(
            t("Needs a reply"),
            ["true", "false"],
            index=0 if item.needs_reply else 1,
            format_func=lambda v: t("yes") if v == "true" else t("no"),
            key=f"fix-needs_reply-{post.id}",
        )
        c4.button(t("Save corrections"), key=f"correct-{post.id}", on_click=correct, args=(post.id,))


SHORTCUTS = """<script>
// j / k: next / previous row, a: approve, e: edit the open reply. Read from the page at each key press (the rows
// and the open reply change with every rerun). Never while typing in a field, never while an IME composes.
(() => {
  const w = window.parent, doc = w.document;
  if (w.__kikimimiKeys) return;
  w.__kikimimiKeys = true;
  const idOf = (el, prefix) => {
    const c = el && [...el.classList].find((k) => k.startsWith(prefix));
    return c ? c.slice(prefix.length) : null;
  };
  const typing = (n) => n && (n.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(n.tagName));
  doc.addEventListener("keydown", (e) => {
    if (e.isComposing || e.keyCode === 229 || e.ctrlKey || e.metaKey || e.altKey) return;
    if (typing(e.target) || typing(doc.activeElement)) return;
    const rows = [...doc.querySelectorAll("[class*='st-key-row-']")].map((r) => idOf(r, "st-key-row-"));
    const open = idOf(doc.querySelector("[class*='st-key-card-']"), "st-key-card-");
    const press = (sel) => {
      const b = doc.querySelector(sel);
      if (b) { e.preventDefault(); b.click(); }
    };
    const i = rows.indexOf(open);
    if (e.key === "j" && rows.length) press(`.st-key-open-${rows[Math.min(i + 1, rows.length - 1)]} button`);
    else if (e.key === "k" && rows.length) press(`.st-key-open-${rows[Math.max(i - 1, 0)]} button`);
    else if (e.key === "a" && open) press(`.st-key-approve-${open} button`);
    else if (e.key === "e" && open) {
      const box = doc.querySelector(`.st-key-card-${open} textarea`);
      if (box) { e.preventDefault(); box.focus(); }
    }
  }, true);
})();
</script>"""


for kind, text in st.session_state.pop("queue-flash", []):
    (st.success if kind == "success" else st.error)(text)

view = st.radio(t("View"), [*queries.VIEWS, queries.SPAM_VIEW], horizontal=True, key=keyed("view"), format_func=t)

if view == queries.SPAM_VIEW:
    page = st.number_input(t("Page"), min_value=1, value=1, step=1, key="spam-page")
    with session() as s:
        spam, total = queries.spam(s, limit=PAGE_SIZE, offset=(int(page) - 1) * PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    st.write(
        t("{total} posts marked as spam · page {page} of {pages}").format(total=total, page=int(page), pages=pages)
    )
    for spam_item in spam:
        with st.container(border=True, key=f"spam-{spam_item.post.id}"):
            head, side = st.columns([4, 1])
            post_header(spam_item.post, spam_item.author, head)
            side.button(t("Not spam"), key=f"notspam-{spam_item.post.id}", on_click=rescue, args=(spam_item.post.id,))
    st.stop()

f1, f2, f3, f4, f5 = st.columns(5)
f1.multiselect(t("Platform"), ["x", "reddit", "bluesky", "mastodon"], key="platforms", placeholder=t("Choose options"))
f2.multiselect(t("Language"), ["en", "ja", "other"], key="languages", placeholder=t("Choose options"))
f3.multiselect(t("Sentiment"), ["negative", "neutral", "positive"], key="sentiments", placeholder=t("Choose options"))
f4.multiselect(t("Intent"), INTENTS, key="intents", placeholder=t("Choose options"))
f5.radio(t("Whose"), list(WHOSE), format_func=lambda k: t(WHOSE[k]), key=keyed("whose"), horizontal=True)
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

query = st.session_state.get("search", "")
with session() as s:
    if query.strip():
        search.index_posts(s)  # posts stored before the index existed (a database upgraded in place)
    items, total = queries.queue(s, filters(), sort=sort, limit=PAGE_SIZE, offset=(int(page) - 1) * PAGE_SIZE)
    just = queries.drafts_by_id(s, [i for i in st.session_state.get("queue-handled", [])])
    listed = [item.draft.id for item in items]
    opened = st.session_state.get(OPEN)
    if opened not in listed and opened not in {item.draft.id for item in just}:
        opened = listed[0] if listed else None  # the first reply of the list, until another is opened
        st.session_state[OPEN] = opened
    editing = teamwork.editing_others(s, listed + [item.draft.id for item in just], user)
    pane_list, pane_detail = st.columns([5, 6])
    with pane_list:
        pages = max(1, -(-total // PAGE_SIZE))
        st.write(t("{total} replies · page {page} of {pages}").format(total=total, page=int(page), pages=pages))
        if just:
            st.caption(t("Just handled"))
            for item in just:
                row(
                    item,
                    selectable=False,
                    is_open=item.draft.id == opened,
                    editing=editing.get(item.draft.id),
                    query=query,
                )
            st.button(
                t("Clear this list"), key="clear-handled", on_click=lambda: st.session_state.pop("queue-handled", None)
            )
            st.divider()
        shown = {item.draft.id for item in just}
        for item in items:
            if item.draft.id not in shown:
                row(
                    item,
                    selectable=True,
                    is_open=item.draft.id == opened,
                    editing=editing.get(item.draft.id),
                    query=query,
                )
    with pane_detail:
        chosen = next((item for item in [*just, *items] if item.draft.id == opened), None)
        if chosen is None:
            st.info(t("Nothing to show: no reply matches these filters."))
        else:
            detail(s, chosen)
st.html(SHORTCUTS, unsafe_allow_javascript=True)
st.caption(t("Keys: j / k next / previous · a approve · e edit (not while typing)"))
