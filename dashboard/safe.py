"""Post text shown as text: whatever a post (or an author's name) contains is escaped before it reaches
st.markdown, so no Markdown, HTML, LaTeX or Streamlit directive from a platform is ever interpreted; the only
links are ours, built from a stored URL that is http(s) and percent-encoded so it cannot break out of them."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$&\"'=^])")


def md_text(text: object) -> str:
    """`text` as Markdown that renders exactly these characters (line breaks kept)."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", str(text if text is not None else ""))
    return escaped.replace("\r\n", "\n").replace("\n", "  \n")


def safe_url(url: object) -> str | None:
    """A stored http(s) URL, percent-encoded so it cannot break out of a link; None for anything else."""
    if not isinstance(url, str) or len(url) > 2000:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return quote(url.strip(), safe="/:?#&=%@+~,;!*$'")  # parentheses, brackets, <> and spaces are encoded


def md_link(label: str, url: object) -> str:
    """A Markdown link to a stored http(s) URL, or "" when the URL is anything else (javascript:, data:, junk)."""
    checked = safe_url(url)
    return f"[{md_text(label)}]({checked})" if checked else ""
