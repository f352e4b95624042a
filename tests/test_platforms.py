"""One place per platform (`kikimimi.platforms`): the collector and the poster build their clients the same way,
no stage reaches into another for it, and a Bluesky session is resumed and refreshed instead of re-created."""

from __future__ import annotations

import ast
import base64
import json
from pathlib import Path

import atproto
import pytest
from atproto_client.request import Request

from kikimimi.platforms import bluesky as bluesky_platform
from kikimimi.platforms.http import BoundedSession
from kikimimi.platforms.reddit import CappedRateLimiter
from kikimimi.platforms.sessions import DatabaseSessionStore
from kikimimi.settings import EXAMPLE_CONFIG, load_settings
from listener.registry import build_collector
from responder.posters import POSTING_TIMEOUT_SECONDS, build_posters
from tests.collect_support import RecordedServer

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("listener", "nlp_models", "responder", "dashboard")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_stage_imports_another_for_platform_clients_and_the_platform_core_imports_no_stage():
    for path in sorted((ROOT / "responder").glob("*.py")):
        assert not {n for n in _imports(path) if n.split(".")[0] == "listener"}, path.name
    core = [*sorted((ROOT / "kikimimi" / "platforms").glob("*.py")), ROOT / "kikimimi" / "erasure.py"]
    for path in [*core, ROOT / "kikimimi" / "budget.py", ROOT / "kikimimi" / "models.py"]:
        assert not {n for n in _imports(path) if n.split(".")[0] in STAGES}, path.name


ENV = {
    "X_BEARER_TOKEN": "bearer",
    "X_API_KEY": "k",
    "X_API_SECRET": "s",
    "X_ACCESS_TOKEN": "t",
    "X_ACCESS_TOKEN_SECRET": "ts",
    "REDDIT_CLIENT_ID": "id",
    "REDDIT_CLIENT_SECRET": "secret",
    "REDDIT_USER_AGENT": "kikimimi-test/0.1",
    "REDDIT_USERNAME": "KomorebiTeaCo",
    "REDDIT_PASSWORD": "pw",
    "BLUESKY_HANDLE": "komorebitea.bsky.social",
    "BLUESKY_APP_PASSWORD": "app-pw",
    "MASTODON_API_BASE_URL": "https://mastodon.social",
    "MASTODON_ACCESS_TOKEN": "tok",
}


def test_collector_and_poster_clients_are_built_alike_bounded_and_pinned(settings):
    config = load_settings(EXAMPLE_CONFIG).model_copy(update={"database_url": settings.database_url})
    posters = build_posters(config, env=ENV)
    collectors = {p: build_collector(p, config, env=ENV) for p in ("x", "reddit", "bluesky", "mastodon")}

    x_read, x_post = collectors["x"].client, posters["x"].client  # type: ignore[attr-defined]
    assert isinstance(x_read.session, BoundedSession) and isinstance(x_post.session, BoundedSession)
    assert x_post.session.timeout[1] == POSTING_TIMEOUT_SECONDS and x_post.consumer_key == "k"

    for reddit in (collectors["reddit"].reddit, posters["reddit"].reddit):  # type: ignore[attr-defined]
        assert isinstance(reddit._core._rate_limiter, CappedRateLimiter)  # never sleeps past our cap
        assert isinstance(reddit._core._authorizer._authenticator._requestor._http, BoundedSession)

    for mastodon in (collectors["mastodon"].client, posters["mastodon"].client):  # type: ignore[attr-defined]
        assert mastodon.version_check_mode == "none" and mastodon._Mastodon__version_check_tried  # never probes
        assert isinstance(mastodon.session, BoundedSession) and mastodon.ratelimit_method == "throw"

    assert collectors["bluesky"].fetch_follower_counts  # type: ignore[attr-defined]


# --- Bluesky: keep the session -------------------------------------------------------------------------

FAR, LONG_AGO = 4_070_908_800, 1  # 2099-01-01 and 1970: far from any clock a test runs under


def jwt(exp: int, jti: str = "a") -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'ES256K', 'typ': 'at+jwt'})}.{part({'sub': 'did:plc:brand', 'exp': exp, 'jti': jti})}.c2ln"


def session_answer(access: str, refresh: str) -> dict:
    return {"did": "did:plc:brand", "handle": "komorebitea.bsky.social", "accessJwt": access, "refreshJwt": refresh}


def session_string(access: str, refresh: str) -> str:
    return f"komorebitea.bsky.social:::did:plc:brand:::{access}:::{refresh}:::https://bsky.social"


class MemoryStore:
    def __init__(self, value: str | None = None) -> None:
        self.value, self.saved = value, []

    def load(self) -> str | None:
        return self.value

    def save(self, session_string: str) -> None:
        self.value = session_string
        self.saved.append(session_string)


def client_for(server: RecordedServer) -> atproto.Client:
    return atproto.Client(base_url="https://bsky.social/xrpc", request=Request(transport=server.httpx_transport()))


SEARCH = "/xrpc/app.bsky.feed.searchPosts"
EMPTY = {"posts": []}


def test_first_sign_in_logs_in_once_and_saves_the_session():
    server = RecordedServer().on("POST", "com.atproto.server.createSession", session_answer(jwt(FAR), jwt(FAR)))
    store, client = MemoryStore(), client_for(server)
    assert bluesky_platform.sign_in(client, "komorebitea.bsky.social", "app-pw", store, fetch_profile=False) == "login"
    assert len(server.calls_to("createSession")) == 1 and store.value and jwt(FAR) in store.value


def test_a_stored_session_is_resumed_without_logging_in():
    server = RecordedServer().on("GET", SEARCH, EMPTY)
    store, client = MemoryStore(session_string(jwt(FAR), jwt(FAR))), client_for(server)
    assert bluesky_platform.sign_in(client, "komorebitea.bsky.social", "pw", store, fetch_profile=False) == "resumed"
    client.app.bsky.feed.search_posts({"q": "tea"})
    assert [c.path for c in server.calls] == [SEARCH] and store.saved == []


def test_an_expired_access_token_is_refreshed_and_the_new_session_saved():
    fresh = session_answer(jwt(FAR, "new"), jwt(FAR, "new-refresh"))
    server = RecordedServer().on("POST", "com.atproto.server.refreshSession", fresh).on("GET", SEARCH, EMPTY)
    store, client = MemoryStore(session_string(jwt(LONG_AGO), jwt(FAR))), client_for(server)
    assert bluesky_platform.sign_in(client, "komorebitea.bsky.social", "pw", store, fetch_profile=False) == "resumed"
    client.app.bsky.feed.search_posts({"q": "tea"})
    assert [c.path.rsplit("/", 1)[-1] for c in server.calls] == ["com.atproto.server.refreshSession", SEARCH[6:]]
    assert store.saved and jwt(FAR, "new-refresh") in store.saved[-1]
    assert not server.calls_to("createSession")


@pytest.mark.parametrize("stored", [session_string(jwt(FAR), jwt(LONG_AGO)), "garbage", ""])
def test_a_dead_or_unreadable_stored_session_falls_back_to_the_app_password(stored):
    server = RecordedServer().on("POST", "com.atproto.server.createSession", session_answer(jwt(FAR), jwt(FAR)))
    store, client = MemoryStore(stored), client_for(server)
    assert bluesky_platform.sign_in(client, "komorebitea.bsky.social", "pw", store, fetch_profile=False) == "login"
    assert len(server.calls_to("createSession")) == 1 and store.saved


def test_the_session_store_keeps_one_string_per_account_in_the_database(settings, session):
    store = DatabaseSessionStore(settings.database_url, "bluesky", "@KomorebiTea.bsky.social")
    assert store.load() is None
    store.save("one")
    store.save("two")
    other = DatabaseSessionStore(settings.database_url, "bluesky", "komorebitea.bsky.social (posting)")
    assert DatabaseSessionStore(settings.database_url, "bluesky", "komorebitea.bsky.social").load() == "two"
    assert other.load() is None
