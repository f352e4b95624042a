"""No secrets in logs: a logging filter that blanks bearer tokens, Authorization headers, passwords and the
credentials in URLs, installed on the root logger's handlers so that library loggers (tweepy's DEBUG request
dumps, prawcore, httpx) pass through it too."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping

__all__ = ["RedactingFilter", "install_redaction", "redact", "redact_url"]

MASK = "[REDACTED]"
_SECRET_NAMES = (
    r"password|passwd|app[_-]?password|client[_-]?secret|access[_-]?token|refresh[_-]?token"
    r"|api[_-]?key|api[_-]?secret|token[_-]?secret|bearer[_-]?token|secret"
)
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # Authorization: Bearer xyz · 'Authorization': 'bearer xyz' · authorization=Basic xyz
    (
        re.compile(
            r"(?i)(authorization[\"']?\s{0,3}[:=]\s{0,3}[\"']?)(?:(bearer|basic|token|oauth)\s{1,3})?[^\s\"',}]+"
        ),
        r"\1\2 " + MASK,
    ),
    (re.compile(r"(?i)\b(bearer\s{1,3})[A-Za-z0-9._~+/%=-]{6,}"), r"\1" + MASK),
    (re.compile(rf"(?i)((?:{_SECRET_NAMES})[\"']?\s{{0,3}}[:=]\s{{0,3}}[\"']?)[^\s\"'&,}}]+"), r"\1" + MASK),
    # scheme://user:password@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]{1,20}://[^\s:/@]{0,200}:)[^\s@/]{1,200}@"), r"\1" + MASK + "@"),
]
_SECRET_ENV = re.compile(r"(?i)(TOKEN|SECRET|PASSWORD|KEY)")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every token, password and URL credential it carries replaced by [REDACTED]."""
    for value in secrets:
        if value and len(value) >= 6:
            text = text.replace(value, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_url(url: str) -> str:
    """A database URL fit to print, even one SQLAlchemy cannot parse."""
    return redact(url)


def _env_secrets(env: Mapping[str, str]) -> list[str]:
    return sorted({v for k, v in env.items() if _SECRET_ENV.search(k) and len(v) >= 6}, key=len, reverse=True)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (arguments merged in) and traceback text with secrets blanked."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.secrets = _env_secrets(env if env is not None else os.environ)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a record whose arguments do not format is still logged
            message = str(record.msg)
        record.msg, record.args = redact(message, self.secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
            record.exc_info = None  # the redacted text stands in for the traceback
        return True


def install_redaction(logger: logging.Logger | None = None) -> RedactingFilter:
    """Put one RedactingFilter on every handler of `logger` (the root by default)."""
    target = logger or logging.getLogger()
    redacting = RedactingFilter()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(redacting)
    return redacting
