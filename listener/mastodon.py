"""Mastodon (Mastodon.py): the hashtag / search / mentions collector, and the pure normaliser to posts."""

from __future__ import annotations

import html
import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from mastodon import Mastodon

from kikimimi.errors import PlatformError
from kikimimi.models import AuthorCreate, PostCreate
from kikimimi.platforms.mastodon import CREDENTIAL_HELP, MASTODON_VERSION, translate_error
from kikimimi.platforms.retry import Attempts, Sleep, call_with_retries
from kikimimi.settings import QueryConfig
from listener import fields
from listener.base import BrandAccounts, Page
from listener.query import compile_mastodon, passes_filters

__all__ = ["CREDENTIAL_HELP", "MASTODON_VERSION", "MastodonCollector", "normalise_status", "translate_error"]

log = logging.getLogger(__name__)

PLATFORM = "mastodon"
# linear-time: a tag ends at the next < or >, so a post of 100,000 "<" costs one pass, not 100,000
_BREAKS = re.compile(r"<br\s*/?>|</p>\s*<p[^<>]*>", re.IGNORECASE)
_TAGS = re.compile(r"<[^<>]+>")


def html_to_text(content: str) -> str:
    """Mastodon sends HTML; keep line and paragraph breaks, drop tags, unescape entities."""
    return html.unescape(_TAGS.sub("", _BREAKS.sub("\n", content))).strip()


def normalise_status(status: dict[str, Any], brand: BrandAccounts) -> PostCreate:
    """Direct messages stay private: they are stored with visibility "private" and answered privately."""
    where = f"mastodon: status {_id_of(status)}"
    status = fields.mapping(status, where)
    status_id = fields.identifier(status.get("id"), f"{where}: id")
    account = fields.mapping(status.get("account"), f"{where}: account")
    text = html_to_text(fields.text(status.get("content"), f"{where}: content"))
    acct = fields.identifier(account.get("acct"), f"{where}: account acct")
    account_id = fields.identifier(account.get("id"), f"{where}: account id")
    created_at = fields.timestamp(status.get("created_at"), f"{where}: created_at")
    is_brand = brand.owns(PLATFORM, full_acct(account))
    private = status.get("visibility") == "direct"
    parent = fields.optional_identifier(status.get("in_reply_to_id"))
    if is_brand:
        replyable, reason = False, "written by the brand"
    elif private:
        replyable, reason = True, "direct message: answer privately"
    else:
        replyable, reason = True, "public post"
    author = fields.build(
        lambda: AuthorCreate(
            platform=PLATFORM,
            external_id=account_id,
            handle=acct,
            display_name=fields.optional_text(account.get("display_name")),
            followers_count=fields.count(account.get("followers_count")),
            profile_url=fields.optional_text(account.get("url")),
            is_brand=is_brand,
        ),
        where,
    )
    return fields.build(
        lambda: PostCreate(
            platform=PLATFORM,
            external_id=status_id,
            text=text,
            language=fields.optional_text(status.get("language")),
            url=fields.optional_text(status.get("url")) or fields.optional_text(status.get("uri")),
            created_at=created_at,
            thread_id=None if parent else status_id,  # a reply's root is not in the status itself
            parent_external_id=parent,
            is_brand_reply=is_brand and bool(parent),
            visibility="private" if private else "public",
            replyable=replyable,
            replyable_reason=reason,
            raw=status,
            author=author,
        ),
        where,
    )


def full_acct(account: dict[str, Any]) -> str:
    """`user@instance` for every account (local accounts arrive as a bare `user`; their URL names the instance)."""
    acct = fields.optional_text(account.get("acct")) or fields.optional_text(account.get("username")) or ""
    if "@" in acct:
        return acct
    try:
        host = urlparse(fields.optional_text(account.get("url")) or "").hostname
    except ValueError:  # e.g. "http://[" : an invalid IPv6 host
        host = None
    return f"{acct}@{host}" if host else acct


def _id_of(status: Any) -> str:
    value = fields.optional_identifier(status.get("id")) if isinstance(status, dict) else None
    return value[:40] if value else "?"


# --- the collector ------------------------------------------------------------------------------------

MASTODON_PAGE_SIZE = 40  # the API's maximum `limit` for timelines and search
BACKFILL_MAX_PAGES = 10


class MastodonCollector:
    """Hashtag timelines, full-text search (`search_v2`) and the brand account's mentions, polled with `min_id`.

    `client` is a `mastodon.Mastodon(ratelimit_method="throw")`. With `min_id` each page holds the statuses
    right after the previous one, so the cursor (the newest id per stream) can move after every page. A response
    hook on the client's requests session keeps each answer's body, so `raw` is the JSON the server sent.
    """

    name = PLATFORM

    def __init__(
        self,
        client: Mastodon,
        brand: BrandAccounts,
        *,
        sleep: Sleep = time.sleep,
        page_size: int = MASTODON_PAGE_SIZE,
    ) -> None:
        self.client = client
        self.brand = brand
        self.sleep = sleep
        self.page_size = page_size
        self.attempts = Attempts()
        self._body: bytes | None = None  # the last answer's body, as the server sent it
        hooks = getattr(getattr(client, "session", None), "hooks", None)
        if isinstance(hooks, dict) and isinstance(hooks.get("response"), list):
            hooks["response"].append(self._keep_body)

    def _keep_body(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        """A requests response hook: keep the body, so `raw` is the server's own JSON, not Mastodon.py's
        re-serialisation (null fields added, datetimes parsed and made naive)."""
        try:
            self._body = response.content if response.ok else None
        except Exception:  # noqa: BLE001 - an unreadable body: Mastodon.py will say so itself
            self._body = None
        return response

    def pages(self, query: QueryConfig, cursor: str | None, *, backfill: bool = False) -> Iterator[Page]:
        sources = compile_mastodon(query, self.brand.handles.get(PLATFORM, ()))
        positions: dict[str, str] = {} if backfill else _load_positions(cursor)
        streams: list[tuple[str, Callable[..., Any]]] = [
            (f"tag:{tag}", lambda tag=tag, **kw: self.client.timeline_hashtag(tag, **kw)) for tag in sources.hashtags
        ]
        streams += [
            (
                f"search:{term}",
                lambda term=term, **kw: self.client.search_v2(term, resolve=False, result_type="statuses", **kw)[
                    "statuses"
                ],
            )
            for term in sources.searches
        ]
        if sources.mentions:
            streams.append(("mentions", lambda **kw: self.client.notifications(types=["mention"], **kw)))
        for key, fetch in streams:
            yield from self._stream(query, key, fetch, positions, backfill)

    def _stream(
        self, query: QueryConfig, key: str, fetch: Callable[..., Any], positions: dict[str, str], backfill: bool
    ) -> Iterator[Page]:
        min_id = None if backfill else positions.get(key)
        max_id: str | None = None
        for _ in range(BACKFILL_MAX_PAGES if backfill or min_id else 1):
            kwargs: dict[str, Any] = {"limit": self.page_size}
            if min_id:
                kwargs["min_id"] = min_id
            if max_id:
                kwargs["max_id"] = max_id
            self._body = None
            answer = self._call(lambda kwargs=kwargs: fetch(**kwargs), key)
            if answer is not None and not isinstance(answer, list):
                raise PlatformError(PLATFORM, f"{key} answered {type(answer).__name__}, not a list of statuses")
            entries = self._as_sent(key, answer or [])
            ids = [int(e["id"]) for e in entries if isinstance(e, dict) and _numeric(e.get("id"))]
            if ids and not backfill:
                positions[key] = str(max([*ids, int(min_id or 0)]))
            statuses = [_status_of(e) for e in entries] if key == "mentions" else entries
            items = [s for s in statuses if s is not None and _wanted(query, s)]
            cursor = json.dumps(positions, sort_keys=True, separators=(",", ":"))
            yield Page(items=items, cursor=cursor, requests=self.attempts.take())
            if len(entries) < self.page_size or not ids:
                return  # a short page: nothing newer (or older, in backfill) is left
            if backfill:
                max_id = str(min(ids))
            else:
                min_id = positions[key]

    def _call(self, call: Callable[[], Any], key: str) -> Any:
        def translate(exc: Exception) -> Exception | None:
            return translate_error(exc, self.client)

        return call_with_retries(
            call, translate=translate, sleep=self.sleep, what=f"mastodon: {key}", on_attempt=self.attempts.add
        )

    def _as_sent(self, key: str, answer: list[Any]) -> list[Any]:
        """The entries of this answer as the server sent them (from the kept body) when the body holds exactly
        these entries; otherwise Mastodon.py's objects made plain again."""
        plain = [_plain(entry) for entry in answer]
        try:
            body = json.loads(self._body) if self._body else None
        except ValueError:
            body = None
        if key.startswith("search:") and isinstance(body, dict):
            body = body.get("statuses")
        if not isinstance(body, list) or len(body) != len(plain):
            return plain
        if [_entry_id(e) for e in body] != [_entry_id(e) for e in plain]:
            return plain
        return body

    def normalise(self, item: dict[str, Any]) -> PostCreate:
        return normalise_status(item, self.brand)

    deletion_batch_size = 1  # Mastodon has no batch lookup of statuses by id

    def gone(self, external_ids: list[str]) -> dict[str, str]:
        """Which of these statuses answer 404 now: deleted, or no longer visible to us (made private)."""
        from mastodon.errors import MastodonNotFoundError

        gone: dict[str, str] = {}
        for status_id in external_ids:

            def look(status_id: str = status_id) -> str | None:
                try:
                    self.client.status(status_id)
                except MastodonNotFoundError:
                    return "deleted or made private"
                return None

            reason = self._call(look, f"status {status_id}")
            if reason:
                gone[status_id] = reason
        return gone


def _entry_id(entry: Any) -> str | None:
    return str(entry.get("id")) if isinstance(entry, dict) else None


def _numeric(value: Any) -> bool:
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    return text.isascii() and text.isdigit() and len(text) <= 20


def _load_positions(position: str | None) -> dict[str, str]:
    try:
        data = json.loads(position) if position else {}
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _status_of(notification: Any) -> Any:
    return notification.get("status") if isinstance(notification, dict) else None


def _plain(value: Any) -> Any:
    """Mastodon.py's typed dicts with datetimes → plain JSON-able values, as the server sent them."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _wanted(query: QueryConfig, status: Any) -> bool:
    """Exclusions and languages, which Mastodon's search and timelines cannot filter; malformed passes through."""
    if not isinstance(status, dict) or not isinstance(status.get("content"), str):
        return True
    return passes_filters(query, html_to_text(status["content"]), [fields.optional_text(status.get("language")) or ""])
