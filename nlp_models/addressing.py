"""Whether a post addresses the brand: the input that turns "my parcel still hasn't moved" into an ask.

LABELLING.md counts a problem report as an implicit help request only when it is addressed to the brand
(an @mention of one of its accounts, or a reply in the brand's thread); the same words posted publicly are
a vent. The encoder sees every handle as "@user", so this flag is computed here and fed to the question head.
"""

from __future__ import annotations

import re
from collections.abc import Collection

__all__ = ["mentions_handle", "addresses_brand", "addresses_brand_from_text"]

_LEADING_MENTION = re.compile(r"^\s*\.?@\w")


def mentions_handle(text: str, handles: Collection[str]) -> bool:
    """True when `text` @mentions one of `handles` (case-insensitive; "@shop" but not "@shop_fan" or "a@shop")."""
    for handle in handles:
        name = handle.lower().lstrip("@")
        if name and re.search(rf"(?<![\w@.])@{re.escape(name)}(?![\w@]|\.\w)", text, re.IGNORECASE):
            return True
    return False


def addresses_brand(
    *,
    text: str,
    handles: Collection[str],
    replyable_reason: str = "",
    visibility: str = "public",
    parent_by_brand: bool = False,
    thread_by_brand: bool = False,
) -> bool:
    """A post addresses the brand when it @mentions or quotes one of the brand's accounts, is a private
    message to it, or replies inside a thread the brand wrote in (its parent or its thread's root is the brand's)."""
    if parent_by_brand or thread_by_brand or visibility == "private":
        return True
    if "mentioned the brand" in replyable_reason or "quoted the brand" in replyable_reason:
        return True
    return mentions_handle(text, handles)


def addresses_brand_from_text(text: str) -> bool:
    """The default for a labelled CSV without an `addresses_brand` column, where no brand handle is known:
    a post that opens with an @handle (a reply or a post directed at an account) addresses it."""
    return bool(_LEADING_MENTION.match(text or ""))
