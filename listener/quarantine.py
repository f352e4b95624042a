"""The dead-letter table: items a collector could not normalise or store, kept as they came, with why.

An operator sees them with `kikimimi quarantine list` and replays them with `kikimimi quarantine retry`
(after a fix to a normaliser, say): a replay goes through the same normaliser and store as a poll.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from kikimimi.errors import ERROR_MESSAGE_LIMIT, MalformedPayload
from kikimimi.models import ListeningQuery, PostCreate, Quarantine
from kikimimi.text import json_text, short, storable_text
from kikimimi.timeutil import utcnow
from listener.store import storable_post, store_page

log = logging.getLogger(__name__)
Normaliser = Callable[[dict[str, Any]], PostCreate]


def quarantine_item(
    session: Session,
    *,
    platform: str,
    item: Any,
    error: str | BaseException,
    query_key: str = "",
    run_id: int | None = None,
    external_id: str | None = None,
    now: datetime | None = None,
) -> Quarantine:
    """Keep `item` (a dict, a list, text or bytes) with why it was refused; added to the session, not committed."""
    if isinstance(error, BaseException) and not isinstance(error, MalformedPayload):
        error = f"{type(error).__name__}: {error}"
    row = Quarantine(
        platform=storable_text(platform)[:16],
        query_key=storable_text(query_key),
        external_id=storable_text(external_id)[:200] if external_id else None,
        raw=_raw_text(item),
        error=short(error, ERROR_MESSAGE_LIMIT) or "unknown error",
        run_id=run_id,
        created_at=now or utcnow(),
    )
    session.add(row)
    return row


def _raw_text(item: Any) -> str:
    try:
        return json_text(item)
    except (TypeError, ValueError, RecursionError):  # not JSON at all: keep what it looked like
        return short(repr(item), 100_000)


def list_quarantined(session: Session, *, include_resolved: bool = False, limit: int = 200) -> list[Quarantine]:
    """Quarantined items, newest first; resolved ones only when asked."""
    query = select(Quarantine).order_by(col(Quarantine.id).desc()).limit(limit)
    if not include_resolved:
        query = query.where(col(Quarantine.resolved).is_(False))
    return list(session.exec(query))


@dataclass
class RetryReport:
    """What a replay did: the rows stored (resolved), the rows still refused with why."""

    resolved: list[int] = field(default_factory=list)
    still_failing: dict[int, str] = field(default_factory=dict)
    new_posts: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "resolved": self.resolved,
            "still_failing": {str(k): v for k, v in self.still_failing.items()},
            "new_posts": self.new_posts,
        }


def retry_quarantined(
    session: Session,
    normaliser_for: Callable[[str], Normaliser | None],
    *,
    ids: Sequence[int] | None = None,
    now: datetime | None = None,
) -> RetryReport:
    """Replay unresolved items (all, or `ids`) through their platform's normaliser and the store; commit.

    A stored item is marked resolved; one that fails again keeps its row with the new error and one more retry.
    """
    now = now or utcnow()
    query = select(Quarantine).where(col(Quarantine.resolved).is_(False)).order_by(col(Quarantine.id))
    if ids:
        query = query.where(col(Quarantine.id).in_(list(ids)))
    report = RetryReport()
    for row in list(session.exec(query)):
        assert row.id is not None
        row.retries += 1
        row.retried_at = now
        try:
            normalise = normaliser_for(row.platform)
            if normalise is None:
                raise MalformedPayload(f"no normaliser for platform {row.platform!r}")
            try:
                item = json.loads(row.raw)
            except ValueError as exc:
                raise MalformedPayload(f"the quarantined item is not JSON: {exc}") from exc
            if not isinstance(item, dict):
                raise MalformedPayload(f"the quarantined item is a {type(item).__name__}, not an object")
            post = storable_post(normalise(item), now=now)
            brand_id, query_id = _target_of(session, row.query_key)
            stored = store_page(session, [post], brand_id=brand_id, query_id=query_id)
            if stored.refused:
                raise MalformedPayload(stored.refused[0])
        except Exception as exc:  # noqa: BLE001 - whatever the replay hits is recorded on the row
            message = str(exc) if isinstance(exc, MalformedPayload) else f"{type(exc).__name__}: {exc}"
            row.error = short(message, ERROR_MESSAGE_LIMIT) or "unknown error"
            report.still_failing[row.id] = row.error
        else:
            row.resolved, row.resolved_at = True, now
            report.resolved.append(row.id)
            report.new_posts += stored.new
        session.add(row)
        session.commit()
    return report


def _target_of(session: Session, query_key: str) -> tuple[int | None, int | None]:
    """The brand and query a quarantined item was collected for, when that query is still known."""
    query = session.exec(select(ListeningQuery).where(ListeningQuery.key == query_key)).first() if query_key else None
    return (query.brand_id, query.id) if query is not None else (None, None)
