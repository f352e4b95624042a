"""Alerts: spikes and service-level slips as raised, each with its deliveries and the posts behind it."""

import streamlit as st

from dashboard import i18n
from dashboard.auth import require_user
from dashboard.safe import md_link, md_text
from dashboard.state import display_timezone, session
from kikimimi.models import AlertKind
from responder.alerts import alert_list, posts_behind
from responder.delivery import deliveries

user = require_user()
tz = display_timezone(user)
t = i18n.translator(user.locale)


def when(moment) -> str:  # noqa: ANN001 - a stored UTC datetime
    return i18n.when(moment, tz, user.locale)


KINDS = {
    AlertKind.negative_spike.value: t("Negative spike"),
    AlertKind.volume_spike.value: t("Volume spike"),
    AlertKind.sla_near.value: t("Nearing the first-response target"),
    AlertKind.sla_breach.value: t("Past the first-response target"),
    AlertKind.frt_jump.value: t("First response slowed down"),
}
STATES = {"pending": t("to retry"), "delivered": t("delivered"), "failed": t("given up")}


def describe(alert) -> str:  # noqa: ANN001 - an Alert
    d = alert.details
    if alert.kind == AlertKind.negative_spike:
        return t("{negative} of {posts} posts negative ({share}), usually {usual}; seen in: {slices}").format(
            negative=d["negative"],
            posts=d["posts"],
            share=f"{d['observed']:.0%}",
            usual=f"{d['expected']:.0%}",
            slices=", ".join(d.get("slices", [])),
        )
    if alert.kind == AlertKind.volume_spike:
        return t("{posts} posts, usually {usual}; seen in: {slices}").format(
            posts=d["posts"], usual=f"{d['expected']:.0f}", slices=", ".join(d.get("slices", []))
        )
    if alert.kind in (AlertKind.sla_near, AlertKind.sla_breach):
        return t("{platform} post waiting {minutes} min for a first reply (target {target} min)").format(
            platform=alert.platform, minutes=f"{d['minutes']:.0f}", target=d["target"]
        )
    return t("median first response {median} min on {day}, usually {usual} min ({platform})").format(
        median=f"{d['median_minutes']:.0f}",
        day=d["day"],
        usual=f"{d['usual_minutes']:.0f}",
        platform=alert.platform or t("all platforms"),
    )


st.title(t("Alerts"))
st.caption(t("Spikes of negativity or volume per listening query, and replies nearing or past their target."))
chosen = st.multiselect(t("Kind"), list(KINDS), format_func=KINDS.get, key=f"alert-kinds-{user.locale}")
with session() as s:
    found = alert_list(s, kinds=chosen or None)
    sent = deliveries(s, [a.id for a in found if a.id is not None])
    behind = {a.id: posts_behind(s, a) for a in found}
if not found:
    st.info(t("No alerts yet: they are raised by every `kikimimi run` pass and by `kikimimi alerts check`."))
for alert in found:
    with st.container(border=True):
        st.markdown(
            f"**#{alert.id} · {md_text(KINDS.get(alert.kind, alert.kind))}** · "
            + t("raised {at}").format(at=when(alert.created_at))
            + f"  \n{md_text(describe(alert))}  \n"
            + t("window {start} – {end}").format(start=when(alert.window_start), end=when(alert.window_end))
        )
        phrases = alert.details.get("phrases") or []
        if phrases:
            st.markdown(t("Top phrases: {phrases}").format(phrases=md_text(", ".join(phrases))))
        lines = []
        for row in sent.get(alert.id, []):
            d = row.delivery
            state = STATES.get(d.state, d.state)
            line = f"- {md_text(d.destination)} ({d.channel}): {state} · " + t("{n} attempts").format(n=d.attempts)
            if d.delivered_at:
                line += " · " + when(d.delivered_at)
            if d.last_error:
                line += f" · {md_text(d.last_error)}"
            lines.append(line)
        st.markdown("\n".join(lines) if lines else t("No destination is configured for this brand."))
        posts = behind.get(alert.id, [])
        with st.expander(t("Posts behind it ({n})").format(n=len(posts))):
            for post in posts:
                link = md_link(t("open"), post.url)
                st.markdown(
                    f"{post.platform} · {when(post.created_at)}"
                    + (f" · {link}" if link else "")
                    + f"  \n{md_text(post.text)}"
                )
