"""Mastodon (Mastodon.py): normalise status dicts into posts."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlparse

from kikimimi.errors import MalformedPayload
from kikimimi.models import AuthorCreate, PostCreate
from kikimimi.timeutil import parse_timestamp
from listener.base import BrandAccounts

PLATFORM = "mastodon"
_BREAKS = re.compile(r"<br\s*/?>|</p>\s*<p[^>]*>", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")


def html_to_text(content: str) -> str:
    """Mastodon sends HTML; keep line and paragraph breaks, drop tags, unescape entities."""
    return html.unescape(_TAGS.sub("", _BREAKS.sub("\n", content))).strip()


def normalise_status(status: dict[str, Any], brand: BrandAccounts) -> PostCreate:
    """Direct messages stay private: they are stored with visibility "private" and answered privately."""
    try:
        status_id, account = str(status["id"]), status["account"]
        text = html_to_text(status["content"])
        acct, account_id = account["acct"], str(account["id"])
        created_at = status["created_at"]
        created_at = parse_timestamp(created_at) if isinstance(created_at, str) else created_at
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedPayload(f"mastodon: status {_id_of(status)} is malformed: {exc!r}") from exc
    is_brand = brand.owns(PLATFORM, full_acct(account))
    private = status.get("visibility") == "direct"
    parent = status.get("in_reply_to_id")
    if is_brand:
        replyable, reason = False, "written by the brand"
    elif private:
        replyable, reason = True, "direct message: answer privately"
    else:
        replyable, reason = True, "public post"
    return PostCreate(
        platform=PLATFORM,
        external_id=status_id,
        text=text,
        language=status.get("language"),
        url=status.get("url") or status.get("uri"),
        created_at=created_at,
        thread_id=None if parent else status_id,  # a reply's root is not in the status itself
        parent_external_id=str(parent) if parent else None,
        is_brand_reply=is_brand and bool(parent),
        visibility="private" if private else "public",
        replyable=replyable,
        replyable_reason=reason,
        raw=status,
        author=AuthorCreate(
            platform=PLATFORM,
            external_id=account_id,
            handle=acct,
            display_name=account.get("display_name") or None,
            followers_count=account.get("followers_count"),
            profile_url=account.get("url"),
            is_brand=is_brand,
        ),
    )


def full_acct(account: dict[str, Any]) -> str:
    """`user@instance` for every account (local accounts arrive as a bare `user`; their URL names the instance)."""
    acct = str(account.get("acct") or account.get("username") or "")
    if "@" in acct:
        return acct
    host = urlparse(str(account.get("url") or "")).hostname
    return f"{acct}@{host}" if host else acct


def _id_of(status: Any) -> str:
    return str(status.get("id", "?")) if isinstance(status, dict) else "?"
