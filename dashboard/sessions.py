"""Signed, expiring session tokens for the dashboard's cookie (no Streamlit here, so it is tested on its own).

A token is `payload.signature`: the payload names the user and when it was issued and expires, and the signature
is an HMAC-SHA256 of it under the server's secret key. The key is `KIKIMIMI_SECRET_KEY`, or one generated once
into the data directory (mode 0600). A token is refused once expired, when its user is deactivated, and when it
was issued before the user's `signed_out_at` (sign-out and password changes end every session).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session

from kikimimi.models import User
from kikimimi.settings import data_dir
from kikimimi.timeutil import utcnow

COOKIE = "kikimimi_session"
SECRET_ENV = "KIKIMIMI_SECRET_KEY"
SECRET_FILE = "secret_key"


def secret_key() -> bytes:
    """The signing key: from the environment, else the data directory's (created once, readable by us only)."""
    given = os.environ.get(SECRET_ENV, "").strip()
    if given:
        return given.encode()
    path = data_dir() / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process wrote it first: use theirs
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()


def issue(user: User, *, hours: float, now: datetime | None = None, key: bytes | None = None) -> str:
    """A token that signs `user` in for `hours`."""
    now = now or utcnow()
    payload = {"u": user.id, "n": user.name, "iat": now.timestamp(), "exp": (now + timedelta(hours=hours)).timestamp()}
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    return f"{body}.{_sign(body, key or secret_key())}"


def verify(
    session: Session, token: str | None, *, now: datetime | None = None, key: bytes | None = None
) -> User | None:
    """The user a genuine, unexpired, unrevoked token signs in, else None."""
    if not token or token.count(".") != 1:
        return None
    body, signature = token.split(".")
    if not hmac.compare_digest(signature, _sign(body, key or secret_key())):
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        user_id, name, issued, expires = (
            int(payload["u"]),
            str(payload["n"]),
            float(payload["iat"]),
            float(payload["exp"]),
        )
    except (ValueError, KeyError, TypeError):
        return None
    now = now or utcnow()
    if expires <= now.timestamp():
        return None
    user = session.get(User, user_id)
    if user is None or user.name != name or not user.active:
        return None
    if user.signed_out_at is not None and issued <= user.signed_out_at.timestamp():
        return None
    return user


def _sign(body: str, key: bytes) -> str:
    return _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")
