"""Timezone-aware UTC everywhere in storage; conversion happens only for display."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Attach UTC to a naive datetime (we only ever store UTC) or convert an aware one."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_timestamp(value: str | float | int) -> datetime:
    """Parse an ISO 8601 string (with Z or offset) or a Unix epoch into an aware UTC datetime."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return as_utc(datetime.fromisoformat(text))
