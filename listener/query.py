"""Compile one platform-neutral `QueryConfig` (plus the brand's own handles) into each platform's search.

Pure functions: no client, no network. A compiled query that a platform would refuse for its length
raises `ConfigError` naming the query and the limit, at start-up rather than at the first poll.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from kikimimi.errors import ConfigError
from kikimimi.settings import QueryConfig

X_MAX_QUERY_LENGTH = 512  # X API v2 recent search, self-serve (pay-per-use / Basic) access
REDDIT_MAX_QUERY_LENGTH = 512  # Reddit search `q`
BLUESKY_MAX_QUERY_LENGTH = 512  # our bound per searchPosts term: no lexicon limit, keep requests sane
MASTODON_MAX_QUERY_LENGTH = 512  # our bound per search term (Mastodon documents none)
_BARE_WORD = re.compile(r"^[\w'-]+$")  # a term X / Lucene accept unquoted (ASCII or CJK word characters)


def _quote(term: str) -> str:
    """Quote a term unless it is one bare word; quoted terms match exactly (word order kept)."""
    term = term.strip().replace('"', "")
    return term if _BARE_WORD.match(term) and term.isascii() else f'"{term}"'


def _or_group(terms: list[str]) -> str:
    return terms[0] if len(terms) == 1 else f"({' OR '.join(terms)})"


def _dedupe(items: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        if item and item.lower() not in {s.lower() for s in seen}:
            seen[item] = None
    return list(seen)


def _check_length(query: QueryConfig, platform: str, text: str, limit: int) -> str:
    if len(text) > limit:
        raise ConfigError(
            f"query '{query.name}' compiles to {len(text)} characters for {platform}; the limit is {limit}:"
            " split it into several queries or drop terms"
        )
    return text


def _require_terms(query: QueryConfig, platform: str, terms: list[str]) -> list[str]:
    if not terms:
        raise ConfigError(f"query '{query.name}': no keywords, phrases, hashtags or handles to search {platform} for")
    return terms


def _handles(handles: Iterable[str]) -> list[str]:
    return _dedupe(h.strip().lstrip("@") for h in handles)


# --- X -----------------------------------------------------------------------------------------------


def compile_x(query: QueryConfig, handles: Iterable[str] = ()) -> str:
    """X API v2 search operators: an OR group of terms, `-exclusions`, `lang:` and `-is:retweet`."""
    terms = [_quote(k) for k in query.keywords] + [f'"{p.strip()}"' for p in query.phrases]
    terms += [f"#{t.lstrip('#')}" for t in query.hashtags]
    if query.mention_handles:
        terms += [f"@{h}" for h in _handles(handles)]
    parts = [_or_group(_require_terms(query, "x", _dedupe(terms)))]
    parts += [f"-{_quote(e)}" for e in query.exclude]
    langs = _dedupe(query.languages)
    if langs:
        parts.append(_or_group([f"lang:{lang}" for lang in langs]))
    parts.append("-is:retweet")
    return _check_length(query, "x", " ".join(parts), X_MAX_QUERY_LENGTH)


# --- Reddit -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RedditSearch:
    """Lucene `q` searched within `subreddits` (a multireddit path, `all` when none are configured)."""

    subreddits: str
    q: str

    @property
    def path(self) -> str:
        return f"r/{self.subreddits}/search"


def compile_reddit(query: QueryConfig, handles: Iterable[str] = ()) -> RedditSearch:
    """Reddit lucene: quoted phrases, `title:` for hashtags-as-words is not needed (search covers title+body)."""
    terms = [_quote(k) for k in query.keywords] + [f'"{p.strip()}"' for p in query.phrases]
    terms += [_quote(t.lstrip("#")) for t in query.hashtags]
    if query.mention_handles:
        terms += [f'"u/{h}"' for h in _handles(handles)]
    q = _or_group(_require_terms(query, "reddit", _dedupe(terms)))
    q += "".join(f" NOT {_quote(e)}" for e in query.exclude)
    subs = "+".join(_dedupe(s.strip().removeprefix("r/") for s in query.subreddits)) or "all"
    return RedditSearch(subreddits=subs, q=_check_length(query, "reddit", q, REDDIT_MAX_QUERY_LENGTH))


# --- Bluesky ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlueskySearch:
    """One `app.bsky.feed.searchPosts` request per term (Bluesky search has no OR); `key` names its cursor."""

    key: str
    params: dict[str, str]


def compile_bluesky(query: QueryConfig, handles: Iterable[str] = ()) -> list[BlueskySearch]:
    """Terms, phrases and hashtags each become a searchPosts `q`; the brand's handles a `mentions` filter."""
    langs = _dedupe(query.languages)
    lang = {"lang": langs[0]} if len(langs) == 1 else {}  # several languages: filtered after fetching
    searches = [BlueskySearch(k, {"q": k, "sort": "latest", **lang}) for k in _dedupe(query.keywords)]
    searches += [BlueskySearch(f'"{p}"', {"q": f'"{p}"', "sort": "latest", **lang}) for p in _dedupe(query.phrases)]
    tags = _dedupe(t.lstrip("#") for t in query.hashtags)
    searches += [BlueskySearch(f"#{t}", {"q": f"#{t}", "sort": "latest", **lang}) for t in tags]
    if query.mention_handles:
        searches += [BlueskySearch(f"@{h}", {"q": f"@{h}", "mentions": h, "sort": "latest"}) for h in _handles(handles)]
    _require_terms(query, "bluesky", [s.key for s in searches])
    for search in searches:
        _check_length(query, "bluesky", search.params["q"], BLUESKY_MAX_QUERY_LENGTH)
    return searches


# --- Mastodon -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MastodonSources:
    """What to read on Mastodon: hashtag timelines, full-text searches, and the brand account's mentions."""

    hashtags: list[str] = field(default_factory=list)
    searches: list[str] = field(default_factory=list)
    mentions: bool = False

    def keys(self) -> list[str]:
        """Cursor keys, one per stream."""
        keys = [f"tag:{t}" for t in self.hashtags] + [f"search:{s}" for s in self.searches]
        return keys + (["mentions"] if self.mentions else [])


def compile_mastodon(query: QueryConfig, handles: Iterable[str] = ()) -> MastodonSources:
    """Hashtag timelines (`timeline_hashtag`), `search_v2` per term, and notifications for @mentions."""
    tags = _dedupe(re.sub(r"\s+", "", t.lstrip("#")) for t in query.hashtags)
    searches = _dedupe([*query.keywords, *(f'"{p}"' for p in query.phrases)])
    sources = MastodonSources(tags, searches, mentions=query.mention_handles and bool(_handles(handles)))
    _require_terms(query, "mastodon", sources.keys())
    for term in searches:
        _check_length(query, "mastodon", term, MASTODON_MAX_QUERY_LENGTH)
    return sources


# --- the filters search APIs cannot apply themselves -----------------------------------------------


def passes_filters(query: QueryConfig, text: str, languages: Iterable[str] = ()) -> bool:
    """False when `text` contains an excluded term, or its declared languages miss all the query's languages.

    Used where a platform's search cannot express exclusions or several languages (Bluesky, Mastodon).
    An item with no declared language is kept: the NLP stage decides its language later.
    """
    lowered = text.casefold()
    if any(e.casefold() in lowered for e in query.exclude if e):
        return False
    declared = {lang.split("-")[0].lower() for lang in languages if lang}
    wanted = {lang.split("-")[0].lower() for lang in query.languages}
    return not (wanted and declared and not declared & wanted)


def search_terms(query: QueryConfig, handles: Iterable[str] = ()) -> list[str]:
    """Everything a post may contain to match the query, lower-cased: for feeds that cannot be searched."""
    terms = [*query.keywords, *query.phrases, *(f"#{t.lstrip('#')}" for t in query.hashtags)]
    if query.mention_handles:
        terms += _handles(handles)
    return [t.casefold() for t in _dedupe(terms)]


def matches_terms(terms: list[str], text: str) -> bool:
    """Does `text` contain any of `terms` (from `search_terms`)? Plain substring: works for Japanese too."""
    lowered = text.casefold()
    return any(term in lowered for term in terms)
