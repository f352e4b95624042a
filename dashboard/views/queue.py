"""Reply queue: read the post, its analysis and the author's history; edit, approve or reject the draft."""

import streamlit as st

from dashboard import queries
from dashboard.safe import md_link, md_text
from dashboard.state import acting_user, session, settings
from kikimimi.errors import KikimimiError
from kikimimi.models import DraftState

PAGE_SIZE = 10
SENTIMENT_ICON = {"negative": "🔴", "neutral": "⚪", "positive": "🟢"}

st.title("Reply queue")
user = acting_user()
live = settings().live_posting
st.caption(
    "Live posting is ON: approved replies are sent by the next `kikimimi run`."
    if live
    else "Dry run: approved replies are logged, not sent, until `live_posting = true` is configured."
)

left, middle, right = st.columns(3)
states = left.multiselect("State", [s.value for s in queries.QUEUE_STATES], default=["drafted"], key="states")
platforms = middle.multiselect("Platform", ["x", "reddit", "bluesky", "mastodon"], key="platforms")
languages = right.multiselect("Language", ["en", "ja", "other"], key="languages")
page = st.number_input("Page", min_value=1, value=1, step=1, key="page")

with session() as s:
    items, total = queries.queue(
        s,
        states=tuple(DraftState(v) for v in states) or queries.QUEUE_STATES,
        platforms=platforms,
        languages=languages,
        limit=PAGE_SIZE,
        offset=(int(page) - 1) * PAGE_SIZE,
    )
    st.write(f"{total} replies waiting · page {int(page)} of {max(1, -(-total // PAGE_SIZE))}")
    for item in items:
        post, draft, analysis, author = item.post, item.draft, item.analysis, item.author
        with st.container(border=True):
            head, meta = st.columns([3, 2])
            name = author.display_name or author.handle
            link = md_link("open", post.url)
            head.markdown(
                f"**{md_text(name)}** (@{md_text(author.handle)}) · {post.platform} · "
                f"{post.created_at:%Y-%m-%d %H:%M} UTC" + (f" · {link}" if link else "")
            )
            head.markdown(md_text(post.text))  # the post as text: nothing in it is read as Markdown or HTML
            cues = ", ".join(f"{md_text(c['kind'])} «{md_text(c['span'])}»" for c in analysis.empathy_cues) or "none"
            meta.markdown(
                f"{SENTIMENT_ICON.get(analysis.sentiment, '')} {analysis.sentiment} · intent **{analysis.intent}** · "
                f"{'question' if analysis.is_question else 'statement'} ({analysis.question_score:.2f}) · "
                f"priority {analysis.priority:.2f}  \nempathy cues: {cues}  \n"
                f"{'✅ replyable' if post.replyable else '✋ reply by hand'}: {md_text(post.replyable_reason)}"
                + ("  \n🔒 private message: the reply stays private" if post.visibility == "private" else "")
            )
            history = queries.author_history(s, author, exclude_post_id=post.id)
            if not history.empty:
                with meta.expander(f"Author history ({len(history)})"):
                    st.dataframe(history[["created_at", "platform", "handle", "sentiment", "text"]], hide_index=True)
            text = st.text_area(
                f"Draft v{draft.version} ({draft.state})", value=draft.text, key=f"text-{draft.id}", height=110
            )
            b1, b2, b3, note = st.columns([1, 1, 1, 4])
            actions = {
                "edit": b1.button("Save edit", key=f"edit-{draft.id}"),
                "approve": b2.button("Approve", key=f"approve-{draft.id}", type="primary"),
                "reject": b3.button("Reject", key=f"reject-{draft.id}"),
            }
            note.caption(
                f"template {draft.template} · by {draft.created_by}"
                + (f" · approved by {draft.approved_by}" if draft.approved_by else "")
                + (f" · error: {draft.error}" if draft.error else "")
            )
            chosen = next((a for a, pressed in actions.items() if pressed), None)
            if chosen and user is None:
                st.error("Choose who you are in the sidebar first.")
            elif chosen:
                try:
                    queries.act_on_draft(s, draft.id, chosen, user, text=text)
                    st.success(f"{chosen}: done — the draft is now {draft.state}")
                except KikimimiError as exc:
                    s.rollback()
                    st.error(str(exc))
