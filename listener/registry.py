"""Build the collector for a configured source name, with its platform client made from environment credentials.

Credentials come from the environment only (never the TOML file). A missing one raises `MissingCredential`
naming the variable and how to get it, so the CLI can say so and carry on with the other platforms.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from kikimimi.errors import ConfigError, MissingCredential
from kikimimi.settings import Settings
from listener.base import BrandAccounts, Collector
from listener.sample import SampleCollector

USER_AGENT = "kikimimi/0.1 (social listening; +https://github.com/kikimimi)"


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
    import tweepy

    from listener import x

    token = require("x", "X_BEARER_TOKEN", x.CREDENTIAL_HELP, env)
    return x.XCollector(tweepy.Client(bearer_token=token, return_type=dict, wait_on_rate_limit=False), brand)


def _reddit(brand: BrandAccounts, env: Mapping[str, str] | None) -> Collector:
    import praw

    from listener import reddit

    values = {
        name: require("reddit", name, reddit.CREDENTIAL_HELP, env)
        for name in ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "REDDIT_USER_AGENT")
    }
    client = praw.Reddit(
        client_id=values["REDDIT_CLIENT_ID"],
        client_secret=values["REDDIT_CLIENT_SECRET"],
        user_agent=values["REDDIT_USER_AGENT"],
        check_for_updates=False,
        check_for_async=False,
    )
    return reddit.RedditCollector(client, brand)


def _bluesky(brand: BrandAccounts, env: Mapping[str, str] | None) -> Collector:
    import atproto

    from listener import bluesky

    handle = require("bluesky", "BLUESKY_HANDLE", bluesky.CREDENTIAL_HELP, env)
    password = require("bluesky", "BLUESKY_APP_PASSWORD", bluesky.CREDENTIAL_HELP, env)
    client = atproto.Client()
    return bluesky.BlueskyCollector(client, brand, login=lambda: client.login(handle, password))


def _mastodon(brand: BrandAccounts, env: Mapping[str, str] | None) -> Collector:
    from mastodon import Mastodon

    from listener import mastodon

    base_url = require("mastodon", "MASTODON_API_BASE_URL", mastodon.CREDENTIAL_HELP, env)
    token = require("mastodon", "MASTODON_ACCESS_TOKEN", mastodon.CREDENTIAL_HELP, env)
    client = Mastodon(api_base_url=base_url, access_token=token, ratelimit_method="throw", user_agent=USER_AGENT)
    return mastodon.MastodonCollector(client, brand)
