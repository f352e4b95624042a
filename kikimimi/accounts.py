"""People and their passwords: argon2 hashes, sign-in with throttling, user management (admins only).

Throttling: `MAX_FAILURES` wrong passwords in a row lock the account for `LOCK_MINUTES` (by the one clock), and
the message never says whether the name exists. Every sign-in, refusal and change is in the audit table.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from kikimimi import audit
from kikimimi.errors import KikimimiError, PermissionDenied
from kikimimi.models import Role, User
from kikimimi.timeutil import utcnow

log = logging.getLogger(__name__)
MAX_FAILURES = 5
LOCK_MINUTES = 15
MIN_PASSWORD_LENGTH = 8
LOCALES = ("en", "ja")
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("kikimimi: no such user")  # verified against for unknown names, so timing says nothing


class SignInRefused(PermissionDenied):
    """Wrong name or password, a locked or deactivated account: the message is safe to show."""


class AccountError(KikimimiError):
    """A user-management request that cannot be carried out (bad password, unknown user, unknown role)."""


def generate_password() -> str:
    """A password for a first admin, to be shown once."""
    return secrets.token_urlsafe(12)


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def find_user(session: Session, name: str) -> User | None:
    return session.exec(select(User).where(User.name == name)).first()


def _require_admin(session: Session, actor: User | str, action: str, target: str) -> None:
    """Admins and the operator at the command line manage users; anyone else is refused (and audited)."""
    if actor == audit.OPERATOR or (isinstance(actor, User) and actor.role == Role.admin and actor.active):
        return
    role = actor.role if isinstance(actor, User) else "?"
    raise audit.refused(
        session,
        actor,
        action,
        "user",
        target,
        PermissionDenied(f"{audit.actor_name(actor)} ({role}) may not {action.replace('_', ' ')}"),
    )


def users(session: Session) -> list[User]:
    """Every account, by name (what an admin's Users page lists)."""
    return list(session.exec(select(User).order_by(User.name)))


def add_user(
    session: Session,
    actor: User | str,
    name: str,
    role: Role,
    *,
    password: str | None = None,
    now: datetime | None = None,
) -> User:
    """Add a user, or change an existing user's role (and password, when one is given); commits."""
    name = name.strip()
    _require_admin(session, actor, "add_user", name)
    if not name:
        raise AccountError("a user needs a name")
    user = find_user(session, name)
    created = user is None
    user = user or User(name=name)
    user.role = Role(role)
    if password is not None:
        user.password_hash = hash_password(password)
        if not created:
            user.signed_out_at = now or utcnow()  # a new password ends the sessions of the old one
    session.add(user)
    audit.record(session, actor, "add_user" if created else "change_role", "user", name, reason=f"role {role}", now=now)
    session.commit()
    return user


def set_password(session: Session, actor: User | str, name: str, password: str, *, now: datetime | None = None) -> User:
    """Set a user's password (an admin, the operator, or the user themself); signs out their other sessions."""
    user = find_user(session, name)
    if not (isinstance(actor, User) and user is not None and actor.id == user.id):
        _require_admin(session, actor, "set_password", name)
    if user is None:
        raise AccountError(f"unknown user {name!r}: add one with `kikimimi users add NAME --role ROLE`")
    user.password_hash = hash_password(password)
    user.failed_attempts, user.locked_until = 0, None
    user.signed_out_at = now or utcnow()  # every cookie issued with the old password stops working
    session.add(user)
    audit.record(session, actor, "set_password", "user", name, now=now)
    session.commit()
    return user


def change_role(session: Session, actor: User | str, name: str, role: Role, *, now: datetime | None = None) -> User:
    """Give an existing user another role (admins only); the last active admin keeps theirs. Commits."""
    _require_admin(session, actor, "change_role", name)
    user = find_user(session, name)
    if user is None:
        raise AccountError(f"unknown user {name!r}")
    if Role(role) != Role.admin:
        _keep_an_admin(session, actor, user, "change_role")
    user.role = Role(role)
    session.add(user)
    audit.record(session, actor, "change_role", "user", name, reason=f"role {role}", now=now)
    session.commit()
    return user


def reset_password(session: Session, actor: User | str, name: str, *, now: datetime | None = None) -> str:
    """Give a user a new generated password (admins only), to be shown once; their sessions end."""
    _require_admin(session, actor, "reset_password", name)
    password = generate_password()
    set_password(session, actor, name, password, now=now)
    return password


def change_own_password(session: Session, user: User, current: str, new: str, *, now: datetime | None = None) -> User:
    """A signed-in user changes their own password, proving they know the current one."""
    if user.password_hash is None or not _verify(user.password_hash, current):
        error = AccountError("the current password is not right")
        raise audit.refused(session, user, "set_password", "user", user.name, error)
    return set_password(session, user, user.name, new, now=now)


def _keep_an_admin(session: Session, actor: User | str, user: User, action: str) -> None:
    others = session.exec(select(User).where(User.role == Role.admin, User.active, User.id != user.id)).first()
    if user.role == Role.admin and user.active and others is None:
        error = AccountError(f"{user.name} is the last active admin: make someone else admin first")
        raise audit.refused(session, actor, action, "user", user.name, error)


def set_active(session: Session, actor: User | str, name: str, active: bool, *, now: datetime | None = None) -> User:
    """Deactivate (or reactivate) an account: a deactivated user cannot sign in, and their sessions end."""
    _require_admin(session, actor, "activate_user" if active else "deactivate_user", name)
    user = find_user(session, name)
    if user is None:
        raise AccountError(f"unknown user {name!r}")
    if not active:
        _keep_an_admin(session, actor, user, "deactivate_user")
    user.active = active
    if not active:
        user.signed_out_at = now or utcnow()
    session.add(user)
    audit.record(session, actor, "activate_user" if active else "deactivate_user", "user", name, now=now)
    session.commit()
    return user


def set_preferences(session: Session, user: User, *, locale: str | None = None, time_zone: str | None = None) -> User:
    """A user's own display language and time zone (anyone may set their own)."""
    if locale is not None:
        if locale not in LOCALES:
            raise AccountError(f"unknown language {locale!r}: use one of {', '.join(LOCALES)}")
        user.locale = locale
    if time_zone is not None:
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise AccountError(f"unknown time zone {time_zone!r}") from None
        user.time_zone = time_zone
    session.add(user)
    audit.record(session, user, "set_preferences", "user", user.name, reason=f"{user.locale} {user.time_zone}")
    session.commit()
    return user


def authenticate(session: Session, name: str, password: str, *, now: datetime | None = None) -> User:
    """The user whose name and password these are, or SignInRefused; failures count towards a lock-out."""
    now = now or utcnow()
    user = find_user(session, name.strip())
    if user is None or user.password_hash is None:
        _verify(_DUMMY_HASH, password)
        return _refuse(session, user, name, "wrong name or password", now)
    if not user.active:
        return _refuse(session, user, name, "this account is deactivated: ask an admin", now)
    if user.locked_until is not None and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        return _refuse(session, user, name, f"too many failed attempts: try again in {minutes} min", now)
    if not _verify(user.password_hash, password):
        user.failed_attempts += 1
        reason = "wrong name or password"
        if user.failed_attempts >= MAX_FAILURES:
            user.locked_until, user.failed_attempts = now + timedelta(minutes=LOCK_MINUTES), 0
            reason = f"too many failed attempts: locked for {LOCK_MINUTES} min"
        session.add(user)
        return _refuse(session, user, name, reason, now)
    user.failed_attempts, user.locked_until = 0, None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    session.add(user)
    audit.record(session, user, "sign_in", "user", user.name, now=now)
    session.commit()
    return user


def user_for_identity(session: Session, email: str | None) -> User | None:
    """The active user an identity provider's e-mail names (single sign-on), audited as a sign-in."""
    user = find_user(session, (email or "").strip()) if email else None
    if user is None or not user.active:
        if email:
            reason = "no active Kikimimi user has this e-mail as its name"
            session.add(audit.make_event(email, "sign_in_sso", "user", email, audit.AuditOutcome.refused, reason, None))
            session.commit()
        return None
    audit.record(session, user, "sign_in_sso", "user", user.name)
    session.commit()
    return user


def sign_out(session: Session, user: User, *, now: datetime | None = None) -> None:
    """End every session of `user` (each cookie issued before now stops working)."""
    user.signed_out_at = now or utcnow()
    session.add(user)
    audit.record(session, user, "sign_out", "user", user.name, now=now)
    session.commit()


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _refuse(session: Session, user: User | None, name: str, reason: str, now: datetime) -> User:
    actor = user.name if user else f"unknown:{name.strip()[:64]}"
    session.add(audit.make_event(actor, "sign_in", "user", name.strip()[:64], audit.AuditOutcome.refused, reason, now))
    session.commit()  # the refusal and the failure count are kept together
    raise SignInRefused(reason)
