"""Spam rules (baseline): crypto pitches, follow-for-follow, fake giveaways, link farms."""

from __future__ import annotations

import re

_SPAM = re.compile(
    r"crypto|bitcoin|\bbtc\b|\beth\b|airdrop|nft|forex|follow ?(4|for) ?follow|f4f|\bdm me\b|"
    r"giveaway.*(click|link|dm)|free (iphone|gift card)|earn \$|\$\d+ ?(a|per) day|onlyfans|"
    r"副業|稼げる|仮想通貨|フォロバ100|相互フォロー|プレゼント企画.*(DM|リンク)|無料で.*(稼|貰)",
    re.IGNORECASE,
)
_URL = re.compile(r"https?://\S+")


def is_spam(text: str) -> bool:
    """True for obvious promotional spam; conservative on purpose (a missed spam costs less than a lost customer)."""
    if _SPAM.search(text):
        return True
    return len(_URL.findall(text)) >= 3
