"""X (API v2): normalise tweets into posts."""

from __future__ import annotations

from typing import Any

from kikimimi.errors import MalformedPayload
from kikimimi.models import AuthorCreate, PostCreate
from kikimimi.timeutil import parse_timestamp
from listener.base import BrandAccounts

PLATFORM = "x"


def normalise_tweet(payload: dict[str, Any], brand: BrandAccounts) -> PostCreate:
    """`payload` is {"tweet": <v2 tweet>, "author": <v2 user from includes.users>}.

    Since 2026, self-serve apps may reply only when the author @mentioned or quoted the brand's account.
    """
    try:
        tweet, user = payload["tweet"], payload["author"]
        tweet_id, text, username = str(tweet["id"]), tweet["text"], user["username"]
        created_at = parse_timestamp(tweet["created_at"])
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedPayload(f"x: tweet {_id_of(payload)} is malformed: {exc!r}") from exc
    referenced = {ref.get("type"): str(ref.get("id")) for ref in tweet.get("referenced_tweets") or []}
    mentions = {m.get("username", "").lower() for m in (tweet.get("entities") or {}).get("mentions") or []}
    is_brand = brand.owns(PLATFORM, username)
    mentioned = any(brand.owns(PLATFORM, m) for m in mentions)
    quoted = "quoted" in referenced and any(brand.owns(PLATFORM, h) for h in _quoted_authors(payload))
    if is_brand:
        replyable, reason = False, "written by the brand"
    elif mentioned or quoted:
        replyable, reason = (
            True,
            "the author mentioned the brand's account" if mentioned else "the author quoted the brand",
        )
    else:
        replyable, reason = False, "X API replies need an @mention or quote of the brand's account: reply by hand"
    return PostCreate(
        platform=PLATFORM,
        external_id=tweet_id,
        text=text,
        language=tweet.get("lang"),
        url=f"https://x.com/{username}/status/{tweet_id}",
        created_at=created_at,
        thread_id=str(tweet.get("conversation_id") or tweet_id),
        parent_external_id=referenced.get("replied_to"),
        is_brand_reply=is_brand and "replied_to" in referenced,
        visibility="public",
        replyable=replyable,
        replyable_reason=reason,
        raw=payload,
        author=AuthorCreate(
            platform=PLATFORM,
            external_id=str(user["id"]),
            handle=username,
            display_name=user.get("name"),
            followers_count=(user.get("public_metrics") or {}).get("followers_count"),
            profile_url=f"https://x.com/{username}",
            is_brand=is_brand,
        ),
    )


def _quoted_authors(payload: dict[str, Any]) -> list[str]:
    """Usernames of quoted tweets' authors, when the collector included them."""
    return [str(u) for u in payload.get("quoted_usernames") or []]


def _id_of(payload: Any) -> str:
    try:
        return str(payload["tweet"]["id"])
    except (KeyError, TypeError):
        return "?"
