"""Alerts as the team receives them: raised once, delivered once per destination (retried until confirmed), to
local receivers on 127.0.0.1 (an HTTP thread, aiosmtpd), with the one clock fixed by the `clock` fixture."""

from __future__ import annotations

import json
import socket
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest
from sqlmodel import col, func, select
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from dashboard.auth import sign_in_for_test
from kikimimi.cli import app
from kikimimi.db import open_session
from kikimimi.errors import ConfigError
from kikimimi.models import (
    Alert,
    AlertAttempt,
    AlertDelivery,
    AlertKind,
    Analysis,
    AuthorCreate,
    Brand,
    Post,
    Role,
    User,
)
from kikimimi.pipeline import check_alerts, run_once
from kikimimi.settings import EXAMPLE_CONFIG, Settings, load_settings
from kikimimi.timeutil import as_utc, utcnow
from listener.sample_data import generate
from listener.store import upsert_posts
from responder import delivery
from responder.alerts import frt_jumps, jump_window, raise_alerts, waiting_posts
from tests.conftest import make_post

SECRET = "s3cret-for-tests"
PAGE = Path(__file__).parent.parent / "dashboard" / "views" / "alerts.py"


@dataclass
class Received:
    path: str
    alert_id: str | None
    signature: str | None
    body: bytes
    status: int


class Receiver:
    """A webhook receiver: answers 500 to the first `fail_first` requests of each alert id, then 200."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.fail_first = 0
        self.seen: Counter[str | None] = Counter()
        self.url = ""

    def of(self, alert_id: int) -> list[Received]:
        return [r for r in self.requests if r.alert_id == str(alert_id)]


@pytest.fixture
def receiver():
    rec = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server hook
            body = self.rfile.read(int(self.headers["Content-Length"]))
            alert_id = self.headers.get(delivery.ID_HEADER)
            rec.seen[alert_id] += 1
            status = 500 if rec.seen[alert_id] <= rec.fail_first else 200
            rec.requests.append(
                Received(self.path, alert_id, self.headers.get(delivery.SIGNATURE_HEADER), body, status)
            )
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield rec
    server.shutdown()
    server.server_close()


def configured(tmp_path, monkeypatch, receiver_url: str, extra: str = ""):  # noqa: ANN001, ANN201
    """The example config with a signed webhook for the demo brand; its URL and key come from the environment."""
    toml = EXAMPLE_CONFIG.read_text(encoding="utf-8") + (
        '\n[[brands.alerts]]\nname = "ops"\nkind = "webhook"\nurl_env = "TEST_ALERT_URL"\n'
        'secret_env = "TEST_ALERT_SECRET"\n' + extra
    )
    path = tmp_path / "kikimimi.toml"
    path.write_text(toml, encoding="utf-8")
    monkeypatch.setenv("TEST_ALERT_URL", receiver_url + "/hook")
    monkeypatch.setenv("TEST_ALERT_SECRET", SECRET)
    monkeypatch.setenv("KIKIMIMI_CONFIG", str(path))  # the dashboard and the CLI read the same file
    return load_settings(path)


def test_the_demo_spike_day_raises_one_negative_spike_alert_delivered_once(tmp_path, monkeypatch, receiver, clock):
    settings = configured(tmp_path, monkeypatch, receiver.url)
    receiver.fail_first = 2  # the receiver fails twice, then confirms
    summary = run_once(settings)
    assert summary.alerts is not None and summary.alerts.raised >= 1
    with open_session(settings) as s:
        last = as_utc(s.exec(select(func.max(Post.created_at))).one())
        spike_day = generate.SPIKE_DAY.date() + (last.date() - generate.END.date())  # the feed is re-based
        negative = s.exec(select(Alert).where(Alert.kind == AlertKind.negative_spike)).all()
        assert len(negative) == 1
        alert = negative[0]
        assert alert.window_start.date() <= spike_day <= alert.window_end.date()
        behind = s.exec(
            select(Post.created_at, Analysis.sentiment).join(Analysis).where(Post.id.in_(alert.post_ids))
        ).all()
        assert len(behind) >= settings.alerts.min_negative and {sentiment for _, sentiment in behind} == {"negative"}
        assert Counter(as_utc(at).date() for at, _ in behind).most_common(1)[0][0] == spike_day
        assert alert.details["phrases"], "the phrases behind the spike"
        assert s.exec(select(func.count()).select_from(Alert).where(Alert.kind.like("sla_%"))).one() == 0  # backfill
    assert [r.status for r in receiver.of(alert.id)] == [500]

    clock.set(clock())  # from here the clock stands until moved: a loaded machine's seconds must not count
    clock.frozen = True
    for wait in (60, 120):  # the back-off doubles: 60 s, then 120 s
        clock.advance(timedelta(seconds=wait - 1))
        with open_session(settings) as s:
            check_alerts(s, settings)
        assert len(receiver.of(alert.id)) == (1 if wait == 60 else 2), "not before its back-off"
        clock.advance(timedelta(seconds=1))
        with open_session(settings) as s:
            check_alerts(s, settings)
    got = receiver.of(alert.id)
    assert [r.status for r in got] == [500, 500, 200]
    assert all(json.loads(r.body)["id"] == alert.id and r.path == "/hook" for r in got)  # the same alert id
    assert all(delivery.verify(SECRET, r.body, r.signature) for r in got)
    assert json.loads(got[-1].body)["kind"] == "negative_spike"

    clock.advance(timedelta(hours=2))  # the pass again, and the command: nothing new is raised or sent
    before = len(receiver.requests)
    with open_session(settings) as s:
        again = check_alerts(s, settings)
    result = CliRunner().invoke(app, ["alerts", "check", "--json", "--config", str(tmp_path / "kikimimi.toml")])
    assert result.exit_code == 0, result.output
    assert again.raised == 0 and json.loads(result.output)["raised"] == 0
    assert len(receiver.requests) == before
    with open_session(settings) as s:
        sent = s.exec(select(AlertDelivery).where(AlertDelivery.alert_id == alert.id)).one()
        assert (sent.state, sent.attempts, sent.destination) == ("delivered", 3, "Komorebi Tea/ops")
        tries = s.exec(select(AlertAttempt.ok, AlertAttempt.status).where(AlertAttempt.delivery_id == sent.id)).all()
        assert tries == [(False, 500), (False, 500), (True, 200)]
        assert len(s.exec(select(Alert).where(Alert.kind == AlertKind.negative_spike)).all()) == 1


@pytest.fixture
def brand_posts(session):  # noqa: ANN001, ANN201
    """A brand and a way to store one analysed post that needs a reply, posted `minutes_ago`."""
    brand = Brand(name="Komorebi Tea")
    session.add(brand)
    session.commit()

    def add(external_id: str, minutes_ago: float, **overrides: object) -> Post:
        created = utcnow() - timedelta(minutes=minutes_ago)
        post_id = upsert_posts(session, [make_post(external_id, created_at=created, **overrides)], brand_id=brand.id)
        post_id = post_id.new_post_ids[0]
        session.add(
            Analysis(post_id=post_id, language="en", sentiment="negative", intent="order_status", needs_reply=True)
        )
        session.commit()
        return session.get(Post, post_id)

    return add


def test_an_unanswered_post_nears_then_passes_its_target_and_a_backfilled_one_raises_nothing(
    tmp_path, monkeypatch, receiver, clock, session, brand_posts
):
    settings = configured(tmp_path, monkeypatch, receiver.url)
    fresh = brand_posts("100", minutes_ago=10, text="where is my order?")
    brand_posts("200", minutes_ago=3 * 24 * 60, text="old and never answered")  # collected now: a backfill
    answered = brand_posts("300", minutes_ago=10, text="answered quickly")
    upsert_posts(
        session,
        [make_post("301", text="on its way!", is_brand_reply=True, parent_external_id="300", created_at=utcnow())],
    )
    session.commit()
    assert check_alerts(session, settings).raised == 0

    clock.advance(timedelta(minutes=40))  # 50 minutes: past 75 % of the 60-minute target
    assert check_alerts(session, settings).raised == 1
    clock.advance(timedelta(minutes=20))  # 70 minutes: past the target
    assert check_alerts(session, settings).raised == 1
    clock.advance(timedelta(minutes=30))
    assert check_alerts(session, settings).raised == 0  # each once
    alerts = session.exec(select(Alert).order_by(Alert.id)).all()
    assert [(a.kind, a.post_ids) for a in alerts] == [("sla_near", [fresh.id]), ("sla_breach", [fresh.id])]
    assert answered.id not in {i for a in alerts for i in a.post_ids}
    bodies = [json.loads(r.body) for r in receiver.requests]
    assert [b["kind"] for b in bodies] == ["sla_near", "sla_breach"] and all(r.status == 200 for r in receiver.requests)
    assert "passed the 60-minute target" in bodies[1]["summary"]


def test_an_automatic_acknowledgement_does_not_silence_a_service_level_alert(
    tmp_path, monkeypatch, receiver, session, brand_posts
):
    """The alerts and the service-levels page count the same answers: a bot's "we'll get back to you" is none."""
    settings = configured(tmp_path, monkeypatch, receiver.url)
    bot = AuthorCreate(platform="x", external_id="bot", handle="komorebi_bot", display_name="Komorebi bot")
    brand_posts("500", minutes_ago=90)
    upsert_posts(
        session,
        [make_post("501", author=bot, is_brand_reply=True, parent_external_id="500", created_at=utcnow(), text="ack")],
    )
    session.commit()
    brand = settings.brands[0].model_copy(update={"automated_handles": {"x": ["komorebi_bot"]}})
    assert waiting_posts(session, settings) == []  # without the bot listed, its reply is an answer
    listed = settings.model_copy(update={"brands": [brand, *settings.brands[1:]]})
    assert [w.post.external_id for w in waiting_posts(session, listed)] == ["500"]
    assert check_alerts(session, listed).raised == 1


def test_a_new_post_first_seen_past_its_target_raises_one_service_level_alert(
    tmp_path, monkeypatch, receiver, session, brand_posts
):
    settings = configured(tmp_path, monkeypatch, receiver.url)
    brand_posts("400", minutes_ago=90)  # posted 90 min ago, collected now (within the 120-minute window)
    assert check_alerts(session, settings).raised == 1
    assert check_alerts(session, settings).raised == 0
    assert session.exec(select(Alert.kind)).all() == ["sla_breach"]


def test_the_signature_verifies_only_the_exact_body_with_the_shared_secret():
    body = json.dumps({"id": 7, "kind": "negative_spike"}).encode()
    header = delivery.sign(SECRET, body)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert delivery.verify(SECRET, body, header)
    assert not delivery.verify(SECRET, body.replace(b"7", b"8"), header)
    assert not delivery.verify("another secret", body, header)
    assert not delivery.verify(SECRET, body, None)


def test_slack_teams_and_email_deliveries_carry_the_alert_id(tmp_path, monkeypatch, receiver, session, brand_posts):
    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self) -> None:
            self.messages: list[bytes] = []

        async def handle_DATA(self, server, smtp_session, envelope):  # noqa: ANN001, ANN201, N802 - aiosmtpd's hook
            self.messages.append(envelope.original_content)
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        extra = (
            '\n[[brands.alerts]]\nname = "slack"\nkind = "slack"\nurl_env = "TEST_SLACK_URL"\n'
            '\n[[brands.alerts]]\nname = "teams"\nkind = "teams"\nurl_env = "TEST_TEAMS_URL"\n'
            f'\n[[brands.alerts]]\nname = "lead"\nkind = "email"\nhost = "127.0.0.1"\nport = {port}\n'
            'sender = "kikimimi@example.com"\nto = ["lead@example.com"]\nstarttls = false\n'
        )
        settings = configured(tmp_path, monkeypatch, receiver.url, extra)
        monkeypatch.setenv("TEST_SLACK_URL", receiver.url + "/slack")
        monkeypatch.setenv("TEST_TEAMS_URL", receiver.url + "/teams")
        brand_posts("500", minutes_ago=90, url="https://x.com/u/status/500")
        result = check_alerts(session, settings)
    finally:
        smtp.stop()
    assert (result.raised, result.delivered) == (1, 4)
    alert_id = session.exec(select(Alert.id)).one()
    by_path = {r.path: json.loads(r.body) for r in receiver.of(alert_id)}
    assert set(by_path) == {"/hook", "/slack", "/teams"}
    assert f"#{alert_id}" in by_path["/slack"]["text"] and "https://x.com/u/status/500" in by_path["/slack"]["text"]
    assert by_path["/teams"]["@type"] == "MessageCard" and f"#{alert_id}" in by_path["/teams"]["title"]
    mail = message_from_bytes(inbox.messages[0])
    assert mail[delivery.ID_HEADER] == str(alert_id) and f"alert-{alert_id}@" in mail["Message-ID"]
    assert f"alert #{alert_id}" in mail["Subject"]


def test_a_missing_secret_is_named_and_retried_and_secrets_cannot_be_written_in_the_file(
    tmp_path, monkeypatch, receiver, session, brand_posts
):
    settings = configured(tmp_path, monkeypatch, receiver.url)
    monkeypatch.delenv("TEST_ALERT_SECRET")
    brand_posts("600", minutes_ago=90)
    assert check_alerts(session, settings).pending == 1 and receiver.requests == []
    sent = session.exec(select(AlertDelivery)).one()
    assert sent.state == "pending" and "TEST_ALERT_SECRET" in (sent.last_error or "")
    bad = tmp_path / "bad.toml"
    bad.write_text(
        EXAMPLE_CONFIG.read_text(encoding="utf-8")
        + '\n[[brands.alerts]]\nname = "ops"\nkind = "slack"\nurl = "https://hooks.slack.com/services/T/B/X"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="url"):
        load_settings(bad)


def test_the_median_first_response_jump_against_the_same_weekday_is_caught(session):
    from listener.store import store_page
    from responder import sla
    from tests.trends_support import BRAND, _post, ensure_target

    target = ensure_target(session, BRAND, BRAND.queries[0])
    session.commit()
    start = as_utc(pd.Timestamp("2026-11-16 00:30", tz="UTC").to_pydatetime())  # a Monday (09:30 in Tokyo)
    posts = []
    for days, minutes in ((0, 3), (7, 10)):  # three minutes last Monday, ten this Monday
        for k in range(4):
            at, key = start + timedelta(days=days, hours=k), f"q{days}-{k}"
            reply = _post(f"r{key}", "x", at + timedelta(minutes=minutes + k % 2), "on it", "komorebi_tea")
            posts += [
                _post(key, "x", at, "komorebi where is my tea", f"c{k}"),
                reply.model_copy(update={"is_brand_reply": True, "parent_external_id": key}),
            ]
    store_page(session, posts, brand_id=target.brand_id, query_id=target.query_id)
    session.commit()
    for post in session.exec(select(Post).where(~col(Post.is_brand_reply))):
        session.add(Analysis(post_id=post.id, language="en", sentiment="neutral", intent="other", needs_reply=True))
    session.commit()
    settings, since, until = Settings(brands=[BRAND]), start, start + timedelta(days=8)
    daily = sla.frt_by_day(session, jump_window(since, until), settings, "Asia/Tokyo", now=until)
    jumps = frt_jumps(daily, since=since, until=until, display_tz="Asia/Tokyo")
    assert [(j.platform, j.day, j.usual_minutes, j.median_minutes, j.compared_with) for j in jumps] == [
        (None, "2026-11-23", 3.5, 10.5, "same weekday"),
        ("x", "2026-11-23", 3.5, 10.5, "same weekday"),
    ]
    monday = sla.Scope(since=start + timedelta(days=7), until=start + timedelta(days=8))
    slow = sla.slowest(session, settings, monday, now=until, limit=2)
    assert {session.get(Post, i).external_id for i in slow} == {"q7-1", "q7-3"}  # the 11-minute answers


def test_the_alerts_page_lists_alerts_with_deliveries_and_posts_in_japanese(
    tmp_path, monkeypatch, receiver, session, brand_posts
):
    settings = configured(tmp_path, monkeypatch, receiver.url)
    post = brand_posts("700", minutes_ago=90, text="注文がまだ届きません", url="https://x.com/u/status/700")
    raise_alerts(session, settings)
    delivery.deliver_due(session, settings)
    reader = User(name="mika", role=Role.viewer, locale="ja", time_zone="Asia/Tokyo")
    session.add(reader)
    session.commit()
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    sign_in_for_test(at, reader.id)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    text = " ".join(m.value for m in at.markdown)
    assert at.title[0].value == "アラート" and "初回応答の目標時間を超えました" in text
    assert "Komorebi Tea/ops" in text and "配信済み" in text and "JST" in text
    assert "注文がまだ届きません" in text and f"status/{post.external_id}" in text


def test_the_phrases_behind_a_spike_are_its_own_in_japanese_and_english():
    from nlp_models.phrases import top_phrases

    spike = [
        "木漏れ日ティーの抹茶がまだ届かない",
        "木漏れ日ティー、抹茶届きません。配送遅延？",
        "Komorebi shipping delay again",
    ]
    spike.append("komorebi order stuck, shipping delay")
    usual = ["木漏れ日ティーの抹茶おいしい", "木漏れ日ティー大好き", "komorebi tea is lovely", "komorebi matcha rocks"]
    phrases = top_phrases(spike, usual)
    assert "届く" in phrases  # 届かない and 届きません are one word
    assert {"shipping", "delay"} & set(phrases) or "shipping delay" in phrases
    assert not {"木漏れ日", "ティー", "komorebi"} & set(phrases)  # in every post, spike or not: says nothing
