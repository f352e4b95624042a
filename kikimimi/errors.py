"""One exception tree for the project: ours (KikimimiError) and the platforms' (PlatformError)."""

from __future__ import annotations

from datetime import datetime

from kikimimi.text import short

ERROR_MESSAGE_LIMIT = 300  # characters of a platform's error kept in messages and run records


class KikimimiError(Exception):
    """Base of every error Kikimimi raises on purpose; the CLI prints its message as one line."""


class ConfigError(KikimimiError):
    """A setting is missing or malformed; the message names it."""


class MissingCredential(ConfigError):
    """A platform credential is absent; the message names the environment variable and how to get it."""

    def __init__(self, platform: str, variable: str, how: str = "") -> None:
        self.platform = platform
        self.variable = variable
        hint = f" {how}" if how else ""
        super().__init__(f"{platform}: set the environment variable {variable}.{hint}")


class IllegalTransition(KikimimiError):
    """A reply draft was asked to move to a state its current state does not allow."""


class ConcurrentChange(IllegalTransition):
    """Someone else moved the reply draft after it was read; nothing was changed."""


class PermissionDenied(KikimimiError):
    """The acting user's role does not allow the action."""


class PlatformError(KikimimiError):
    """A platform answered with an error (translated at the boundary from the client library's exception)."""

    def __init__(self, platform: str, message: str) -> None:
        self.platform = platform
        # a 2 MB HTML error page must not become a 2 MB log line or run record
        super().__init__(short(f"{platform}: {message}", ERROR_MESSAGE_LIMIT))


class RateLimited(PlatformError):
    """The platform refused for rate limiting; `reset_at` says when it will accept again, if it said."""

    def __init__(self, platform: str, reset_at: datetime | None = None, message: str = "rate limited") -> None:
        self.reset_at = reset_at
        when = f" until {reset_at.isoformat()}" if reset_at else ""
        super().__init__(platform, f"{message}{when}")


class TransientPlatformError(PlatformError):
    """Timeouts, 5xx and connection errors: worth retrying later with back-off."""


class MalformedPayload(KikimimiError):
    """A platform item could not be normalised or stored; it is quarantined, the rest of the page kept."""

    def __init__(self, message: str) -> None:
        super().__init__(short(message, ERROR_MESSAGE_LIMIT))
