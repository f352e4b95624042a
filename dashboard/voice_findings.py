"""The brand-voice findings shown under a draft's editor (`responder.voice.lint_draft`), in the reader's language."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st

from responder.voice import Finding


def _(message: str) -> str:
    return message  # marks a string for the catalogue; translated where it is shown


MESSAGES = {
    "avoid": _("Avoid “{phrase}”"),
    "use": _("Say “{instead}”, not “{phrase}”"),
    "sign_off": _("End with the sign-off “{sign_off}”"),
    "emoji": _("No emoji here: {emoji}"),
    "emoji_count": _("At most {max} emoji (this has {used})"),
    "honorific": _("Address the customer as {honorific}"),
    "formality": _("Too casual for the brand's voice: {words}"),
}


def show(findings: Sequence[Finding], t: Callable[[str], str]) -> None:
    """A separated list under the editor: what breaks the brand's voice, or that nothing does."""
    with st.container(border=True):
        if not findings:
            st.caption("✅ " + t("Brand voice: nothing to fix"))
            return
        st.markdown("**" + t("Brand voice: {n} to fix before approving").format(n=len(findings)) + "**")
        st.markdown("\n".join(f"- ⚠️ {t(MESSAGES.get(f.code, f.message)).format(**f.params)}" for f in findings))
