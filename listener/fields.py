"""Reading fields out of platform payloads: every surprise becomes MalformedPayload, never another exception.

Normalisers are pure functions over JSON a platform (or an attacker) wrote. These helpers say what a field
must be, return it in the type the post needs, and raise MalformedPayload naming the field otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from pydantic import ValidationError

from kikimimi.errors import MalformedPayload
from kikimimi.text import as_count, storable_text
from kikimimi.timeutil import as_utc, parse_timestamp

T = TypeVar("T")
MAX_ID_LENGTH = 512  # longer "ids" are not ids


def mapping(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedPayload(f"{what} is {_kind(value)}, not an object")
    return value


def optional_mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def items_of(value: Any) -> list[dict[str, Any]]:
    """The objects in a list field; anything else in it (or a field that is no list) is ignored."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def identifier(value: Any, what: str) -> str:
    """A platform id: a non-empty string or a non-negative integer. None, "", "None", floats and objects are refused,
    so two posts without ids can never merge into one stored as "None"."""
    text = optional_identifier(value)
    if text is None:
        raise MalformedPayload(f"{what} is missing or not an id ({_kind(value)})")
    return text


def optional_identifier(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if value >= 0 else None
    if isinstance(value, str):
        text = storable_text(value).strip()
        if text and text not in ("None", "null", "undefined") and len(text) <= MAX_ID_LENGTH:
            return text
    return None


def text(value: Any, what: str) -> str:
    """A required text field (a string; bytes are decoded)."""
    if isinstance(value, bytes | bytearray):
        return storable_text(value)
    if not isinstance(value, str):
        raise MalformedPayload(f"{what} is {_kind(value)}, not text")
    return value


def optional_text(value: Any) -> str | None:
    """A string field that may be absent: anything but a non-empty string is None."""
    if isinstance(value, bytes | bytearray):
        value = storable_text(value)
    return value if isinstance(value, str) and value else None


def count(value: Any) -> int | None:
    """A follower count or the like: clamped to an INTEGER column; no number (or NaN) is None."""
    return as_count(value)


def timestamp(value: Any, what: str) -> datetime:
    """An ISO 8601 string, a Unix epoch or a datetime, as aware UTC; anything unreadable is MalformedPayload."""
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MalformedPayload(f"{what} is {_kind(value)}, not a time")
    try:
        return parse_timestamp(value)
    except (ValueError, TypeError, OverflowError, OSError) as exc:
        raise MalformedPayload(f"{what} is not a time: {exc}") from exc


def build(factory: Callable[[], T], what: str) -> T:
    """Construct a model; a validation error is the payload's fault, so it is MalformedPayload."""
    try:
        return factory()
    except ValidationError as exc:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise MalformedPayload(f"{what}: field {where or '?'}: {first.get('msg', exc)}") from exc


def _kind(value: Any) -> str:
    return "missing" if value is None else f"a {type(value).__name__}"
