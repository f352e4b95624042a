"""Spam rules (baseline): crypto pitches, follow-for-follow, fake giveaways, link farms."""

from __future__ import annotations

import re

# Linear time: the "A … B" rules look at most 200 characters ahead (".*" rescanned the rest of the post for every
# "giveaway" in it), and only the first MAX_CHARS characters are read.
_SPAM = re.compile(
    r"crypto|bitcoin|\bbtc\b|\beth\b|airdrop|nft|forex|follow ?(4|for) ?follow|f4f|\bdm me\b|"
    r"giveaway.{0,200}?(click|link|dm)|free (iphone|gift card)|earn \$|\$\d{1,12} ?(a|per) day|onlyfans|"
    r"副業|稼げる|仮想通貨|フォロバ100|相互フォロー|プレゼント企画.{0,200}?(DM|リンク)|無料で.{0,200}?(稼|貰)",
    re.IGNORECASE,
)
MAX_CHARS = 10_000
_URL = re.compile(r"https?://\S+")


def is_spam(text: str) -> bool:
    """True for obvious promotional spam; conservative on purpose (a missed spam costs less than a lost customer)."""
    head = text[:MAX_CHARS]
    if _SPAM.search(head):
        return True
    return len(_URL.findall(head)) >= 3
