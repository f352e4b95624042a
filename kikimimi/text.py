"""Make platform text and numbers storable, in one place: every database and every JSON encoder accepts the result.

Platforms send what they like: NUL characters (PostgreSQL text refuses them), lone UTF-16 surrogates (no UTF-8
encoder accepts them), undecodable bytes, NaN and infinities (not JSON), counts beyond any integer column.
The helpers here turn each into something a database stores and gives back unchanged.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = [
    "INT32_MAX",
    "INT64_MAX",
    "as_count",
    "short",
    "storable_json",
    "storable_text",
    "json_text",
]

INT32_MAX = 2**31 - 1  # PostgreSQL INTEGER
INT64_MAX = 2**63 - 1  # PostgreSQL BIGINT, SQLite INTEGER
MAX_JSON_DEPTH = 64  # deeper raw payloads are cut (a platform never nests this deep; an attacker might)
REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
_SPACES = re.compile(r"\s+")


def storable_text(value: str | bytes | bytearray) -> str:
    """`value` with NUL removed, lone surrogates and undecodable bytes replaced by U+FFFD."""
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("utf-8", errors="replace")
    return _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else REPLACEMENT, value)


def as_count(value: Any, maximum: int = INT32_MAX) -> int | None:
    """A non-negative count clamped to `maximum` (an INTEGER column by default); None when it is no number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value.isascii() or not value.isdigit() or len(value) > 40:
            return None
        value = int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        value = int(value)
    if not isinstance(value, int):
        return None
    return max(0, min(value, maximum))


def storable_json(value: Any, _depth: int = 0) -> Any:
    """A copy of `value` that every JSON column stores: strings made storable, NaN/±inf → None, huge ints clamped,
    bytes decoded, tuples as lists, other objects as their text, nesting cut at MAX_JSON_DEPTH."""
    if isinstance(value, str):
        return storable_text(value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -INT64_MAX <= value <= INT64_MAX else str(value)  # JSON readers differ past 2**63
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bytes | bytearray):
        return storable_text(value)
    if _depth >= MAX_JSON_DEPTH:
        return "…"
    if isinstance(value, dict):
        return {storable_text(str(k)): storable_json(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [storable_json(v, _depth + 1) for v in value]
    if hasattr(value, "isoformat"):
        return storable_text(value.isoformat())
    return storable_text(str(value))


def json_text(value: Any, limit: int = 1_000_000) -> str:
    """`value` as storable JSON text (bytes decoded as they are), cut to `limit` characters."""
    if isinstance(value, bytes | bytearray):
        text = storable_text(value)
    else:
        text = json.dumps(storable_json(value), ensure_ascii=False, sort_keys=True, allow_nan=False)
    return text if len(text) <= limit else text[:limit] + "…"


def short(message: object, limit: int = 300) -> str:
    """One line of at most `limit` characters: whitespace collapsed, storable, cut with an ellipsis."""
    text = str(message)
    if len(text) > limit * 4:  # never scan a 2 MB error page to shorten it to 300 characters
        text = text[: limit * 4]
    text = _SPACES.sub(" ", storable_text(text)).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
