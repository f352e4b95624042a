"""Test support for the collectors: a recorded-response HTTP server for requests and httpx, and a database.

The real client libraries (tweepy, praw, atproto, Mastodon.py) run unmodified; only their HTTP transport is
replaced, so paging, error mapping and header parsing are the libraries' own. No network is possible:
an unexpected request fails the test.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import requests
from requests.adapters import BaseAdapter
from sqlmodel import Session, select

from kikimimi.models import CollectorRun, Cursor, Post
from kikimimi.settings import BrandConfig, QueryConfig
from listener import runner
from listener.base import BrandAccounts
from listener.runner import Target, collect, ensure_target

FIXTURES = Path(__file__).parent / "fixtures"
BRAND = BrandConfig(
    name="Komorebi Tea",
    handles={
        "x": ["komorebi_tea"],
        "reddit": ["KomorebiTeaCo"],
        "bluesky": ["komorebitea.bsky.social"],
        "mastodon": ["komorebi@mastodon.social"],
    },
)
ACCOUNTS = BrandAccounts.from_mapping(BRAND.handles)
QUERY = QueryConfig(
    name="brand",
    keywords=["komorebi tea", "木漏れ日ティー"],
    hashtags=["komorebitea"],
    exclude=["hiring"],
    languages=["en", "ja"],
    subreddits=["tea", "matcha"],
)


def fixture(platform: str, name: str) -> Any:
    return json.loads((FIXTURES / platform / name).read_text(encoding="utf-8"))


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    error: Exception | None = None  # raised instead of answering (a timeout, a dropped connection)


@dataclass
class Call:
    method: str
    url: str
    path: str
    params: dict[str, str]


class RecordedServer:
    """Answers requests from queues of recorded replies, one queue per (method, path suffix); records calls."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, str, list[Reply]]] = []
        self.calls: list[Call] = []

    def on(self, method: str, path: str, *replies: Reply | dict | list) -> RecordedServer:
        queue = [r if isinstance(r, Reply) else Reply(body=r) for r in replies]
        self.routes.append((method.upper(), path, queue))
        return self

    def answer(self, method: str, url: str) -> Reply:
        parts = urlsplit(url)
        params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.calls.append(Call(method.upper(), url, parts.path, params))
        for route_method, path, queue in self.routes:
            if route_method == method.upper() and parts.path.endswith(path) and queue:
                return queue.pop(0)
        raise AssertionError(f"unexpected request: {method} {url}")

    def calls_to(self, path: str) -> list[Call]:
        return [c for c in self.calls if c.path.endswith(path)]

    def unused(self) -> list[str]:
        """Recorded replies nobody asked for: a test that leaves some did not exercise what it meant to."""
        return [f"{m} {p}: {len(q)}" for m, p, q in self.routes if q]

    # --- transports --------------------------------------------------------------------------------

    def session(self) -> requests.Session:
        """A requests.Session (tweepy, praw, Mastodon.py) whose every request this server answers."""
        session = requests.Session()
        adapter = _Adapter(self)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    def httpx_transport(self) -> httpx.MockTransport:
        """An httpx transport (atproto) answered by this server."""

        def handle(request: httpx.Request) -> httpx.Response:
            reply = self.answer(request.method, str(request.url))
            if reply.error:
                raise reply.error
            return httpx.Response(
                reply.status,
                headers={"content-type": "application/json", **reply.headers},
                content=json.dumps(reply.body).encode() if reply.body is not None else b"",
            )

        return httpx.MockTransport(handle)


class _Adapter(BaseAdapter):
    def __init__(self, server: RecordedServer) -> None:
        super().__init__()
        self.server = server

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        reply = self.server.answer(str(request.method), str(request.url))
        if reply.error:
            raise reply.error
        response = requests.Response()
        response.status_code = reply.status
        response.reason = "OK" if reply.status < 400 else "Error"
        response.headers.update({"content-type": "application/json; charset=utf-8", **reply.headers})
        response._content = json.dumps(reply.body).encode() if reply.body is not None else b""
        response.url = str(request.url)
        response.request = request
        return response

    def close(self) -> None:
        pass


class Sleeps(list):
    """A fake `sleep` that records how long the collector asked to wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def target(session: Session, query: QueryConfig = QUERY) -> Target:
    t = ensure_target(session, BRAND, query)
    session.commit()
    return t


def poll(session: Session, collector: Any, query: QueryConfig = QUERY, *, backfill: bool = False) -> CollectorRun:
    return collect(session, collector, target(session, query), backfill=backfill)


def stored(session: Session, platform: str) -> dict[str, Post]:
    return {p.external_id: p for p in session.exec(select(Post).where(Post.platform == platform))}


def cursor_of(session: Session, platform: str, query: QueryConfig = QUERY) -> Cursor:
    session.expire_all()
    row = session.exec(select(Cursor).where(Cursor.platform == platform, Cursor.query_key == query.key)).one()
    return row


class Crash(BaseException):
    """Stands in for the process dying: a BaseException, so no `except Exception` can swallow it."""


def die_on_save(monkeypatch, page: int = 2) -> Callable[[], None]:
    """Page `page` is fetched but the process dies before it is saved; call the result to 'restart'."""
    real_store, calls = runner.store_page, []

    def dies(*args, **kwargs):
        calls.append(1)
        if len(calls) == page:
            raise Crash  # fetched, never saved
        return real_store(*args, **kwargs)

    monkeypatch.setattr(runner, "store_page", dies)
    return lambda: monkeypatch.setattr(runner, "store_page", real_store)
