"""No secrets in logs: tweepy's DEBUG dump of its request headers, passwords, URL credentials, bad database URLs."""

from __future__ import annotations

import io
import logging

import pytest
import tweepy
from typer.testing import CliRunner

from kikimimi import cli
from kikimimi.db import get_engine
from kikimimi.errors import ConfigError
from kikimimi.redact import RedactingFilter, install_redaction, redact
from kikimimi.settings import EXAMPLE_CONFIG
from tests.collect_support import RecordedServer, fixture

TOKEN = "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid%2BULvsea4JtiGRiSDSJSI%3DEUifiRBkKG5E2XzMDjRfl76ZC9Ub0wnz4Xs"


@pytest.fixture
def debug_log():  # type: ignore[no-untyped-def]
    """The root logger at DEBUG with one handler writing to a buffer, redaction installed as the CLI does."""
    root, buffer = logging.getLogger(), io.StringIO()
    handler = logging.StreamHandler(buffer)
    saved = root.level, root.handlers[:]
    root.handlers = [handler]
    root.setLevel(logging.DEBUG)  # setLevel, not `.level =`: it clears the loggers' cached isEnabledFor answers
    install_redaction()
    yield buffer
    root.handlers = saved[1]
    root.setLevel(saved[0])


def test_tweepy_debug_logging_never_prints_the_bearer_token(debug_log):
    server = RecordedServer().on("GET", "/2/tweets/search/recent", fixture("x", "search_empty.json"))
    client = tweepy.Client(bearer_token=TOKEN, return_type=dict)
    client.session = server.session()
    client.search_recent_tweets("komorebi")
    text = debug_log.getvalue()
    assert "Making API request" in text and "Authorization" in text  # tweepy did dump its headers …
    assert TOKEN not in text and TOKEN[:20] not in text  # … with the token blanked


def test_passwords_in_messages_arguments_and_tracebacks_are_blanked(debug_log):
    log = logging.getLogger("atproto.something")
    log.info("login %s", {"identifier": "brand.bsky.social", "password": "abcd-efgh-ijkl-mnop"})
    log.warning("connecting to postgresql+psycopg://kiki:s3cr3t-pw@db/kikimimi")
    try:
        raise RuntimeError("Authorization: Bearer sk-live-0123456789abcdef")
    except RuntimeError:
        log.exception("request failed")
    text = debug_log.getvalue()
    assert "abcd-efgh-ijkl-mnop" not in text and "s3cr3t-pw" not in text and "sk-live-0123456789abcdef" not in text
    assert text.count("[REDACTED]") >= 3 and "RuntimeError" in text


def test_secret_environment_values_are_blanked_wherever_they_appear():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token is %s", ("opaque-value-42",), None)
    RedactingFilter(env={"MASTODON_ACCESS_TOKEN": "opaque-value-42"}).filter(record)
    assert record.getMessage() == "token is [REDACTED]"


def test_redaction_leaves_ordinary_text_alone():
    assert redact("where is my order #4411? password reset emails never arrive") == (
        "where is my order #4411? password reset emails never arrive"
    )


def test_a_malformed_database_url_never_prints_its_password(monkeypatch):
    url = "postgresql+psycopg://kiki:hunter2-secret@db.internal:notaport/kikimimi"
    with pytest.raises(ConfigError) as error:
        get_engine(url)
    assert "hunter2-secret" not in str(error.value) and "db.internal" in str(error.value)
    monkeypatch.setenv("KIKIMIMI_DATABASE_URL", url)
    result = CliRunner().invoke(cli.app, ["stats", "-c", str(EXAMPLE_CONFIG)])
    assert isinstance(result.exception, ConfigError) and "hunter2-secret" not in str(result.exception)
