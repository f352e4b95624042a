"""Bluesky (atproto): normalise `app.bsky.feed.defs#postView` dicts into posts."""

from __future__ import annotations

from typing import Any

from kikimimi.errors import MalformedPayload
from kikimimi.models import AuthorCreate, PostCreate
from kikimimi.timeutil import parse_timestamp
from listener.base import BrandAccounts

PLATFORM = "bluesky"


def normalise_post_view(view: dict[str, Any], brand: BrandAccounts) -> PostCreate:
    """Bluesky is an open API: any public post can be answered; the post URI is its id."""
    try:
        uri, record, author = view["uri"], view["record"], view["author"]
        text, handle, did = record["text"], author["handle"], author["did"]
        created_at = parse_timestamp(record["createdAt"])
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedPayload(f"bluesky: post {_id_of(view)} is malformed: {exc!r}") from exc
    reply = record.get("reply") or {}
    is_brand = brand.owns(PLATFORM, handle)
    rkey = uri.rsplit("/", 1)[-1]
    langs = record.get("langs") or []
    return PostCreate(
        platform=PLATFORM,
        external_id=uri,
        text=text,
        language=langs[0] if langs else None,
        url=f"https://bsky.app/profile/{handle}/post/{rkey}",
        created_at=created_at,
        thread_id=(reply.get("root") or {}).get("uri") or uri,
        parent_external_id=(reply.get("parent") or {}).get("uri"),
        is_brand_reply=is_brand and bool(reply),
        visibility="public",
        replyable=not is_brand,
        replyable_reason="written by the brand" if is_brand else "public post",
        raw=view,
        author=AuthorCreate(
            platform=PLATFORM,
            external_id=did,
            handle=handle,
            display_name=author.get("displayName"),
            followers_count=author.get("followersCount"),
            profile_url=f"https://bsky.app/profile/{handle}",
            is_brand=is_brand,
        ),
    )


def _id_of(view: Any) -> str:
    return str(view.get("uri", "?")) if isinstance(view, dict) else "?"
