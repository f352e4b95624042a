"""Query compilation per platform, and the credential messages a user sees when one is missing."""

from __future__ import annotations

import pytest

from kikimimi.errors import ConfigError, MissingCredential
from kikimimi.settings import QueryConfig, load_settings
from listener.query import (
    compile_bluesky,
    compile_mastodon,
    compile_reddit,
    compile_x,
    matches_terms,
    passes_filters,
    search_terms,
)
from listener.registry import build_collector

BRAND_QUERY = QueryConfig(
    name="brand",
    keywords=["komorebi tea", "木漏れ日ティー", "matcha"],
    phrases=["cold brew sencha"],
    hashtags=["#komorebitea"],
    exclude=["hiring", "job opening"],
    languages=["en", "ja"],
    subreddits=["tea", "r/matcha"],
)
HANDLES = {"komorebi_tea"}


def test_x_operators():
    assert compile_x(BRAND_QUERY, HANDLES) == (
        '("komorebi tea" OR "木漏れ日ティー" OR matcha OR "cold brew sencha" OR #komorebitea OR @komorebi_tea)'
        ' -hiring -"job opening" (lang:en OR lang:ja) -is:retweet'
    )
    japanese = QueryConfig(name="ja", keywords=["木漏れ日ティー"], languages=["ja"])
    assert compile_x(japanese) == '"木漏れ日ティー" lang:ja -is:retweet'


def test_reddit_lucene_within_the_subreddits():
    search = compile_reddit(BRAND_QUERY, {"KomorebiTeaCo"})
    assert search.path == "r/tea+matcha/search"
    assert search.q == (
        '("komorebi tea" OR "木漏れ日ティー" OR matcha OR "cold brew sencha" OR komorebitea OR "u/KomorebiTeaCo")'
        ' NOT hiring NOT "job opening"'
    )
    assert compile_reddit(QueryConfig(name="all", keywords=["komorebi"])).path == "r/all/search"


def test_bluesky_one_search_per_term_and_mentions_of_the_brand():
    searches = compile_bluesky(BRAND_QUERY, {"komorebitea.bsky.social"})
    assert [s.params["q"] for s in searches] == [
        "komorebi tea",
        "木漏れ日ティー",
        "matcha",
        '"cold brew sencha"',
        "#komorebitea",
        "@komorebitea.bsky.social",
    ]
    assert searches[-1].params["mentions"] == "komorebitea.bsky.social"
    assert "lang" not in searches[0].params  # two languages: filtered after fetching
    ja = compile_bluesky(QueryConfig(name="ja", keywords=["木漏れ日ティー"], languages=["ja"]))
    assert ja[0].params == {"q": "木漏れ日ティー", "sort": "latest", "lang": "ja"}


def test_mastodon_hashtag_timelines_searches_and_mentions():
    sources = compile_mastodon(BRAND_QUERY, {"komorebi@mastodon.social"})
    assert sources.hashtags == ["komorebitea"]
    assert sources.searches == ["komorebi tea", "木漏れ日ティー", "matcha", '"cold brew sencha"']
    assert sources.mentions
    assert not compile_mastodon(BRAND_QUERY.model_copy(update={"mention_handles": False}), {"x"}).mentions


def test_a_query_over_the_length_limit_names_the_query_and_the_limit():
    long = QueryConfig(name="everything", keywords=[f"product line number {i}" for i in range(40)])
    for compile_ in (compile_x, compile_reddit):
        with pytest.raises(
            ConfigError, match=r"query 'everything' compiles to \d+ characters for \w+; the limit is 512"
        ):
            compile_(long)
    with pytest.raises(ConfigError, match="query 'empty': no keywords"):
        compile_x(QueryConfig(name="empty", languages=["ja"]))


def test_filters_for_feeds_that_cannot_be_searched():
    assert not passes_filters(BRAND_QUERY, "Komorebi Tea is HIRING baristas")
    assert not passes_filters(BRAND_QUERY, "komorebi tea ist super", ["de"])
    assert passes_filters(BRAND_QUERY, "木漏れ日ティー最高", ["ja"])
    assert passes_filters(BRAND_QUERY, "no language declared", [])
    terms = search_terms(BRAND_QUERY, {"komorebi_tea"})
    assert matches_terms(terms, "昨日、木漏れ日ティーで買った") and not matches_terms(terms, "just oolong today")


@pytest.mark.parametrize(
    ("source", "env", "variable", "hint"),
    [
        ("x", {}, "X_BEARER_TOKEN", "developer.x.com"),
        ("reddit", {"REDDIT_CLIENT_ID": "id"}, "REDDIT_CLIENT_SECRET", "needs Reddit's approval"),
        ("bluesky", {"BLUESKY_HANDLE": "komorebitea.bsky.social"}, "BLUESKY_APP_PASSWORD", "app password"),
        ("mastodon", {}, "MASTODON_API_BASE_URL", "Preferences → Development"),
    ],
)
def test_a_missing_credential_names_the_variable_and_how_to_get_it(source, env, variable, hint):
    settings = load_settings(fallback_to_example=True)
    with pytest.raises(MissingCredential) as caught:
        build_collector(source, settings, env=env)
    assert caught.value.variable == variable
    assert variable in str(caught.value) and hint in str(caught.value)


def test_collectors_are_built_from_credentials_without_touching_the_network():
    settings = load_settings(fallback_to_example=True)
    env = {
        "X_BEARER_TOKEN": "t",
        "REDDIT_CLIENT_ID": "i",
        "REDDIT_CLIENT_SECRET": "s",
        "REDDIT_USER_AGENT": "kikimimi-test/0.1 by u/someone",
        "BLUESKY_HANDLE": "komorebitea.bsky.social",
        "BLUESKY_APP_PASSWORD": "abcd-efgh-ijkl-mnop",
        "MASTODON_API_BASE_URL": "https://mastodon.social",
        "MASTODON_ACCESS_TOKEN": "m",
    }
    for source in ("x", "reddit", "bluesky", "mastodon"):
        assert build_collector(source, settings, env=env).name == source


def test_every_recorded_response_is_used_by_some_test():
    """A fixture no test reads is a recording nobody checks: delete it or test with it."""
    from pathlib import Path

    here = Path(__file__).parent
    sources = "".join(p.read_text(encoding="utf-8") for p in here.glob("test_*.py"))
    unused = [
        f"{f.parent.name}/{f.name}"
        for f in sorted((here / "fixtures").glob("*/*.json"))
        if f'"{f.name}"' not in sources
    ]
    assert unused == []
