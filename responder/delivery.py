"""Alert delivery: signed webhooks, Slack and Microsoft Teams incoming webhooks, e-mail over SMTP.

Each `AlertDelivery` is tried until its destination confirms it (a 2xx answer, or the SMTP server accepting the
message), with a doubling back-off between tries (`retry_seconds` up to `retry_max_seconds`), each try recorded as
an `AlertAttempt`; after `max_attempts` it is given up (failed). A worker leases a delivery before sending, so two
workers never send it at once. A crash after sending and before recording can send it again: every message
carries the alert's id (`X-Kikimimi-Alert-Id`, the body's `id`, the e-mail's Message-ID) so the receiver drops
the repeat. Secrets come from the environment variables that kikimimi.toml names.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

import requests
from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from kikimimi.errors import ConfigError, KikimimiError
from kikimimi.models import Alert, AlertAttempt, AlertDelivery, AlertKind, DeliveryState, Post
from kikimimi.settings import (
    AlertSettings,
    EmailDestination,
    Settings,
    SlackDestination,
    TeamsDestination,
    WebhookDestination,
)
from kikimimi.text import short
from kikimimi.timeutil import utcnow

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 10
LEASE = timedelta(minutes=2)  # longer than one send can take (the timeout), so a lease outlives its sender
SIGNATURE_HEADER = "X-Kikimimi-Signature"
ID_HEADER = "X-Kikimimi-Alert-Id"
POSTS_LISTED = 5


class DeliveryError(KikimimiError):
    """A destination did not confirm a delivery (`status`: its HTTP status or SMTP code, when it answered)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        self.status = status
        super().__init__(short(message))


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: "sha256=" and the hex HMAC-SHA256 of the exact body bytes."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """What a receiver checks: the header is the body's signature with the shared secret (constant time)."""
    return bool(header) and hmac.compare_digest(sign(secret, body), header or "")


def payload(session: Session, alert: Alert) -> dict:
    """What every channel says about an alert: its id first, then what, when, the figures and the posts."""
    posts = session.exec(select(Post.id, Post.url).where(col(Post.id).in_(alert.post_ids[:POSTS_LISTED]))).all()
    return {
        "id": alert.id,
        "kind": alert.kind,
        "key": alert.key,
        "window": alert.window_key,
        "window_start": alert.window_start.isoformat(),
        "window_end": alert.window_end.isoformat(),
        "summary": summary(alert),
        "details": alert.details,
        "post_ids": alert.post_ids,
        "posts": [{"id": i, "url": u} for i, u in posts],
        "raised_at": alert.created_at.isoformat(),
    }


def summary(alert: Alert) -> str:
    """One English line about an alert (the dashboard has its own, translated)."""
    d = alert.details
    if alert.kind == AlertKind.negative_spike:
        phrases = ", ".join(d.get("phrases", [])) or "—"
        return (
            f"Negative spike ({', '.join(d.get('slices', [])) or 'all'}): {d['negative']} of {d['posts']} posts "
            f"negative ({d['observed']:.0%}, usually {d['expected']:.0%}) in the {d['basis']} to "
            f"{alert.window_end:%Y-%m-%d %H:%M} UTC. Phrases: {phrases}"
        )
    if alert.kind == AlertKind.volume_spike:
        return (
            f"Volume spike ({', '.join(d.get('slices', [])) or 'all'}): {d['posts']} posts in the {d['basis']} to "
            f"{alert.window_end:%Y-%m-%d %H:%M} UTC, usually {d['expected']:.0f}."
        )
    if alert.kind in (AlertKind.sla_near, AlertKind.sla_breach):
        verb = "passed" if alert.kind == AlertKind.sla_breach else "nears"
        return (
            f"A {alert.platform} post has waited {d['minutes']:.0f} min for a first reply: it {verb} the "
            f"{d['target']}-minute target. {d.get('url') or ''}".strip()
        )
    return (
        f"Median first response on {d['day']} ({alert.platform or 'all platforms'}): {d['median_minutes']:.0f} min, "
        f"against {d['usual_minutes']:.0f} min on the {d['compared_with']}. Check staffing."
    )


def deliver_due(session: Session, settings: Settings, now: datetime | None = None) -> dict[str, int]:
    """Try every pending delivery that is due, each once; returns how many ended delivered, failed, pending."""
    now = now or utcnow()
    counts = {"delivered": 0, "failed": 0, "pending": 0}
    due = session.exec(
        select(AlertDelivery.id)
        .where(AlertDelivery.state == DeliveryState.pending.value, col(AlertDelivery.next_attempt_at) <= now)
        .order_by(col(AlertDelivery.next_attempt_at), col(AlertDelivery.id))
    ).all()
    for delivery_id in due:
        if not _lease(session, delivery_id, now):
            continue  # another worker has it
        delivery = session.get(AlertDelivery, delivery_id, populate_existing=True)
        alert = session.get(Alert, delivery.alert_id) if delivery else None
        if delivery is None or alert is None:
            continue
        state = _attempt(session, settings, delivery, alert, now)
        counts[state] += 1
    return counts


def _lease(session: Session, delivery_id: int, now: datetime) -> bool:
    """Take the delivery for this worker (one UPDATE, so two workers cannot both win); commits."""
    taken = session.execute(
        update(AlertDelivery)
        .where(col(AlertDelivery.id) == delivery_id, col(AlertDelivery.state) == DeliveryState.pending.value)
        .where(or_(col(AlertDelivery.lease_until).is_(None), col(AlertDelivery.lease_until) < now))
        .values(lease_until=now + LEASE)
    )
    session.commit()
    return taken.rowcount == 1  # type: ignore[attr-defined]


def _attempt(session: Session, settings: Settings, delivery: AlertDelivery, alert: Alert, now: datetime) -> str:
    cfg: AlertSettings = settings.alerts
    attempt = AlertAttempt(delivery_id=delivery.id or 0, at=now)
    try:
        attempt.status = send(find_destination(settings, delivery.destination), payload(session, alert))
        attempt.ok = True
    except (DeliveryError, ConfigError) as exc:
        attempt.error = short(str(exc))
        attempt.status = getattr(exc, "status", None)
    delivery.attempts += 1
    delivery.lease_until = None
    if attempt.ok:
        delivery.state, delivery.delivered_at, delivery.last_error = DeliveryState.delivered.value, now, None
    else:
        delivery.last_error = attempt.error
        if delivery.attempts >= cfg.max_attempts:
            delivery.state = DeliveryState.failed.value
        else:
            delay = min(cfg.retry_seconds * 2 ** (delivery.attempts - 1), cfg.retry_max_seconds)
            delivery.next_attempt_at = now + timedelta(seconds=delay)
        log.warning(
            "alert %s to %s: attempt %s failed: %s", alert.id, delivery.destination, delivery.attempts, attempt.error
        )
    session.add_all([attempt, delivery])
    session.commit()
    return delivery.state


def find_destination(settings: Settings, name: str):  # noqa: ANN201 - one of the destination models
    """The configured destination "<brand>/<name>"; a clear error once it has been removed from the config."""
    brand_name, _, destination = name.partition("/")
    for brand in settings.brands:
        if brand.name == brand_name:
            for d in brand.alerts:
                if d.name == destination:
                    return d
    raise ConfigError(f"alert destination {name!r} is no longer configured")


def send(destination, message: dict) -> int:  # noqa: ANN001 - one of the destination models
    """Send one alert to one destination; returns the confirming status, or raises DeliveryError."""
    if isinstance(destination, WebhookDestination):
        body = json.dumps(message, ensure_ascii=False, sort_keys=True).encode()
        headers = {SIGNATURE_HEADER: sign(_env(destination.secret_env), body)}
        return _post(_env(destination.url_env), body, message["id"], headers)
    if isinstance(destination, SlackDestination):
        text = f"Kikimimi alert #{message['id']}: {message['summary']}" + _links(message)
        return _post(_env(destination.url_env), json.dumps({"text": text}).encode(), message["id"])
    if isinstance(destination, TeamsDestination):
        card = {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": f"Kikimimi alert #{message['id']}",
            "title": f"Kikimimi alert #{message['id']} · {message['kind']}",
            "text": message["summary"] + _links(message),
        }
        return _post(_env(destination.url_env), json.dumps(card).encode(), message["id"])
    if isinstance(destination, EmailDestination):
        return _mail(destination, message)
    raise ConfigError(f"unknown alert destination {destination!r}")


def _env(variable: str) -> str:
    value = os.environ.get(variable, "").strip()
    if not value:
        raise ConfigError(f"alerts: set the environment variable {variable}")
    return value


def _links(message: dict) -> str:
    urls = [p["url"] for p in message.get("posts", []) if p.get("url")]
    return "".join(f"\n• {u}" for u in urls)


def _post(url: str, body: bytes, alert_id: int, headers: dict[str, str] | None = None) -> int:
    try:
        response = requests.post(
            url,
            data=body,
            headers={"Content-Type": "application/json", ID_HEADER: str(alert_id), **(headers or {})},
            timeout=TIMEOUT_SECONDS,
        )
    except requests.RequestException as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from None
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"HTTP {response.status_code}: {response.text}", response.status_code)
    return response.status_code


def _mail(destination: EmailDestination, message: dict) -> int:
    mail = EmailMessage()
    mail["Subject"] = f"[Kikimimi] alert #{message['id']}: {message['kind'].replace('_', ' ')}"
    mail["From"], mail["To"] = destination.sender, ", ".join(destination.to)
    mail["Message-ID"] = f"<kikimimi-alert-{message['id']}@{destination.sender.partition('@')[2] or 'kikimimi'}>"
    mail[ID_HEADER] = str(message["id"])
    mail.set_content(message["summary"] + _links(message))
    try:
        with smtplib.SMTP(destination.host, destination.port, timeout=TIMEOUT_SECONDS) as smtp:
            if destination.starttls:
                smtp.starttls()
            if destination.username_env:
                smtp.login(_env(destination.username_env), _env(destination.password_env or ""))
            refused = smtp.send_message(mail)
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", exc.smtp_code) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP: {type(exc).__name__}: {exc}") from None
    if refused:
        raise DeliveryError(f"SMTP refused {', '.join(refused)}")
    return 250


@dataclass
class DeliveryRow:
    delivery: AlertDelivery
    attempts: list[AlertAttempt]


def deliveries(session: Session, alert_ids: list[int]) -> dict[int, list[DeliveryRow]]:
    """Each alert's deliveries with their attempts, oldest first (what the Alerts page shows)."""
    if not alert_ids:
        return {}
    rows = list(session.exec(select(AlertDelivery).where(col(AlertDelivery.alert_id).in_(alert_ids))))
    attempts = list(
        session.exec(
            select(AlertAttempt)
            .where(col(AlertAttempt.delivery_id).in_([r.id for r in rows]))
            .order_by(col(AlertAttempt.at), col(AlertAttempt.id))
        )
    )
    out: dict[int, list[DeliveryRow]] = {}
    for row in sorted(rows, key=lambda r: r.id or 0):
        out.setdefault(row.alert_id, []).append(DeliveryRow(row, [a for a in attempts if a.delivery_id == row.id]))
    return out
