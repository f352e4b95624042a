"""Reddit: normalise submissions and comments (the JSON `data` objects praw wraps) into posts."""

from __future__ import annotations

from typing import Any

from kikimimi.errors import MalformedPayload
from kikimimi.models import AuthorCreate, PostCreate
from kikimimi.timeutil import parse_timestamp
from listener.base import BrandAccounts

PLATFORM = "reddit"


def normalise_thing(payload: dict[str, Any], brand: BrandAccounts) -> PostCreate:
    """`payload` is {"kind": "submission"|"comment", "data": {...}}; ids are fullnames (t3_…, t1_…)."""
    try:
        kind, data = payload["kind"], payload["data"]
        fullname = data.get("name") or ("t3_" if kind == "submission" else "t1_") + data["id"]
        if kind == "submission":
            text = "\n\n".join(part for part in (data["title"], data.get("selftext") or "") if part)
            thread_id, parent = fullname, None
        elif kind == "comment":
            text, thread_id, parent = data["body"], data["link_id"], data["parent_id"]
        else:
            raise ValueError(f"unknown kind {kind!r}")
        created_at = parse_timestamp(data["created_utc"])
        author = data.get("author") or "[deleted]"
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedPayload(f"reddit: item {_id_of(payload)} is malformed: {exc!r}") from exc
    is_brand = brand.owns(PLATFORM, author)
    if is_brand:
        replyable, reason = False, "written by the brand"
    elif data.get("locked"):
        replyable, reason = False, "the thread is locked"
    elif data.get("archived"):
        replyable, reason = False, "the thread is archived"
    else:
        replyable, reason = True, "open thread"
    permalink = data.get("permalink") or ""
    return PostCreate(
        platform=PLATFORM,
        external_id=fullname,
        text=text,
        language=None,
        url=f"https://www.reddit.com{permalink}" if permalink else None,
        created_at=created_at,
        thread_id=thread_id,
        parent_external_id=parent,
        is_brand_reply=is_brand and parent is not None,
        visibility="public",
        replyable=replyable,
        replyable_reason=reason,
        raw=payload,
        author=AuthorCreate(
            platform=PLATFORM,
            external_id=data.get("author_fullname") or f"name:{author}",
            handle=author,
            display_name=author,
            followers_count=None,  # Reddit does not expose followers for ordinary accounts
            profile_url=f"https://www.reddit.com/user/{author}",
            is_brand=is_brand,
        ),
    )


def _id_of(payload: Any) -> str:
    try:
        return str(payload["data"].get("name") or payload["data"]["id"])
    except (KeyError, TypeError, AttributeError):
        return "?"
