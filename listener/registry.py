"""Build the collector for a configured source name, with its platform client made from environment credentials.

Credentials come from the environment only (never the TOML file). A missing one raises `MissingCredential`
naming the variable and how to get it, so the CLI can say so and carry on with the other platforms.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from kikimimi.errors import ConfigError, MissingCredential
from kikimimi.settings import Settings
from listener.base import BrandAccounts, Collector
from listener.http import CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS, USER_AGENT, BoundedSession
from listener.sample import SampleCollector

__all__ = ["USER_AGENT", "build_collector", "brand_accounts", "require"]


def brand_accounts(settings: Settings) -> BrandAccounts:
    return BrandAccounts.from_mapping({p: sorted(h) for p, h in settings.brand_handles.items()})


def require(platform: str, variable: str, how: str, env: Mapping[str, str] | None = None) -> str:
    """The value of an environment variable, or MissingCredential naming it and how to get it."""
    value = (env if env is not None else os.environ).get(variable, "").strip()
    if not value:
        raise MissingCredential(platform, variable, how)
    return value


def build_collector(source: str, settings: Settings, env: Mapping[str, str] | None = None) -> Collector:
    """The collector for `source`; raises MissingCredential (a ConfigError) naming what is missing."""
    brand = brand_accounts(settings)
    if source == "sample":
        return SampleCollector(brand, settings.sample_feed)
    if source == "x":
        return _x(brand, env)
    if source == "reddit":
        return _reddit(brand, env)
    if source == "bluesky":
        return _bluesky(brand, env)
    if source == "mastodon":
        return _mastodon(brand, env)
    raise ConfigError(f"setting 'sources': no collector named {source!r}")


def _x(brand: BrandAccounts, env: Mapping[str, str] | None) -> Collector:
    from listener import x

    token = require("x", "X_BEARER_TOKEN", x.CREDENTIAL_HELP, env)
    return x.XCollector(x_client(token), brand)


def _reddit(brand: BrandAccounts, env: Mapping[str, str] | None) -> Collector:
    from listener import reddit

    values = {
        name: require("reddit", name, reddit.CREDENTIAL_HELP, env)
        for name in ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "REDDIT_USER_AGENT")
    }
    client = reddit_client(values["REDDIT_CLIENT_ID"], values["REDDIT_CLIENT_SECRET"], values["REDDIT_USER_AGENT"])
    return reddit.RedditCollector(client, brand)


def _bluesky(brand: BrandAccounts, env: Mapping[str, str] | None) -> Collector:
    from listener import bluesky

    handle = require("bluesky", "BLUESKY_HANDLE", bluesky.CREDENTIAL_HELP, env)
    password = require("bluesky", "BLUESKY_APP_PASSWORD", bluesky.CREDENTIAL_HELP, env)
    client = bluesky_client()
    return bluesky.BlueskyCollector(client, brand, login=lambda: client.login(handle, password))


def _mastodon(brand: BrandAccounts, env: Mapping[str, str] | None) -> Collector:
    from listener import mastodon

    base_url = require("mastodon", "MASTODON_API_BASE_URL", mastodon.CREDENTIAL_HELP, env)
    token = require("mastodon", "MASTODON_ACCESS_TOKEN", mastodon.CREDENTIAL_HELP, env)
    return mastodon.MastodonCollector(mastodon_client(base_url, token), brand)


# --- the clients, each bounded: (connect, read) timeouts, no sleeping on rate limits, junk headers dropped ----

Timeout = tuple[float, float]
DEFAULT_TIMEOUT: Timeout = (CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS)


def x_client(token: str, *, timeout: Timeout = DEFAULT_TIMEOUT, session: BoundedSession | None = None) -> Any:
    """tweepy's v2 client returning dicts; tweepy sends its requests without a timeout, so its session has ours."""
    import tweepy

    client = tweepy.Client(bearer_token=token, return_type=dict, wait_on_rate_limit=False)
    client.session = session or BoundedSession(*timeout)
    return client


def reddit_client(
    client_id: str,
    client_secret: str,
    user_agent: str,
    *,
    timeout: Timeout = DEFAULT_TIMEOUT,
    session: BoundedSession | None = None,
    **urls: str,
) -> Any:
    """praw over our BoundedSession (prawcore asks for 16 s per request; the session holds it to `timeout`);
    RedditCollector caps prawcore's rate-limit sleeps. `urls` (oauth_url, reddit_url) are for local fakes."""
    import praw

    return praw.Reddit(
        client_id=client_id,
        client_secret=client_secret,
        user_agent=user_agent,
        check_for_updates=False,
        check_for_async=False,
        requestor_kwargs={"timeout": max(timeout), "session": session or BoundedSession(*timeout)},
        **urls,
    )


def bluesky_client(*, timeout: Timeout = DEFAULT_TIMEOUT, base_url: str | None = None) -> Any:
    """atproto's client over an httpx client with our connect and read timeouts."""
    import atproto
    import atproto_client.request
    import httpx

    connect, read = timeout
    request = atproto_client.request.Request(timeout=httpx.Timeout(read, connect=connect))
    return atproto.Client(base_url, request=request)


def mastodon_client(
    base_url: str, token: str, *, timeout: Timeout = DEFAULT_TIMEOUT, session: BoundedSession | None = None
) -> Any:
    """A Mastodon.py client that never probes the server's version (a failing probe loops without end in
    Mastodon.py 2.3), throws on rate limits instead of sleeping, and times out (connect, read)."""
    from mastodon import Mastodon

    from listener.mastodon import MASTODON_VERSION

    return Mastodon(
        api_base_url=base_url,
        access_token=token,
        ratelimit_method="throw",
        version_check_mode="none",
        mastodon_version=MASTODON_VERSION,
        request_timeout=timeout,  # type: ignore[arg-type]  # requests takes (connect, read)
        session=session or BoundedSession(*timeout),
        user_agent=USER_AGENT,
    )


def normaliser_for(platform: str, settings: Settings) -> Callable[[dict[str, Any]], Any] | None:
    """The pure normaliser a platform's items go through (for replaying quarantined items); None if unknown."""
    from listener.sample import NORMALISERS

    brand = brand_accounts(settings)
    if platform == "sample":
        return SampleCollector(brand, settings.sample_feed).normalise
    normalise = NORMALISERS.get(platform)
    return (lambda item: normalise(item, brand)) if normalise is not None else None
