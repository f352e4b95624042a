"""Build the collector for a configured source name, with its platform client (built by `kikimimi.platforms`,
the same builders the posters use) made from environment credentials.

Credentials come from the environment only (never the TOML file). A missing one raises `MissingCredential`
naming the variable and how to get it, so the CLI can say so and carry on with the other platforms.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from kikimimi.errors import ConfigError, MissingCredential
from kikimimi.platforms.http import USER_AGENT
from kikimimi.settings import Settings
from listener.base import BrandAccounts, Collector
from listener.sample import SampleCollector

__all__ = ["USER_AGENT", "build_collector", "brand_accounts", "require"]  # the clients: kikimimi.platforms


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
        return _bluesky(brand, env, settings)
    if source == "mastodon":
        return _mastodon(brand, env)
    raise ConfigError(f"setting 'sources': no collector named {source!r}")


def _x(brand: BrandAccounts, env: Mapping[str, str] | None) -> Collector:
    from kikimimi.platforms.x import x_client
    from listener import x

    token = require("x", "X_BEARER_TOKEN", x.CREDENTIAL_HELP, env)
    return x.XCollector(x_client(token), brand)


def _reddit(brand: BrandAccounts, env: Mapping[str, str] | None) -> Collector:
    from kikimimi.platforms.reddit import reddit_client
    from listener import reddit

    values = {
        name: require("reddit", name, reddit.CREDENTIAL_HELP, env)
        for name in ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "REDDIT_USER_AGENT")
    }
    client = reddit_client(values["REDDIT_CLIENT_ID"], values["REDDIT_CLIENT_SECRET"], values["REDDIT_USER_AGENT"])
    return reddit.RedditCollector(client, brand)


def _bluesky(brand: BrandAccounts, env: Mapping[str, str] | None, settings: Settings) -> Collector:
    """Signs in by resuming the session kept in the database (refreshed by atproto, saved again), logging in
    with the app password only when there is none; follower counts come in batches from getProfiles."""
    from kikimimi.platforms.bluesky import bluesky_client, sign_in
    from kikimimi.platforms.sessions import DatabaseSessionStore
    from listener import bluesky

    handle = require("bluesky", "BLUESKY_HANDLE", bluesky.CREDENTIAL_HELP, env)
    password = require("bluesky", "BLUESKY_APP_PASSWORD", bluesky.CREDENTIAL_HELP, env)
    client = bluesky_client()
    store = DatabaseSessionStore(settings.database_url, "bluesky", handle)
    return bluesky.BlueskyCollector(
        client,
        brand,
        login=lambda: sign_in(client, handle, password, store, fetch_profile=False),
        fetch_follower_counts=True,
    )


def _mastodon(brand: BrandAccounts, env: Mapping[str, str] | None) -> Collector:
    from kikimimi.platforms.mastodon import mastodon_client
    from listener import mastodon

    base_url = require("mastodon", "MASTODON_API_BASE_URL", mastodon.CREDENTIAL_HELP, env)
    token = require("mastodon", "MASTODON_ACCESS_TOKEN", mastodon.CREDENTIAL_HELP, env)
    return mastodon.MastodonCollector(mastodon_client(base_url, token), brand)


def normaliser_for(platform: str, settings: Settings) -> Callable[[dict[str, Any]], Any] | None:
    """The pure normaliser a platform's items go through (for replaying quarantined items); None if unknown."""
    from listener.sample import NORMALISERS

    brand = brand_accounts(settings)
    if platform == "sample":
        return SampleCollector(brand, settings.sample_feed).normalise
    normalise = NORMALISERS.get(platform)
    return (lambda item: normalise(item, brand)) if normalise is not None else None
