"""Live posting: one `responder.posting.Poster` per platform, replying in the post's own thread and visibility.

Each poster refuses what the platform (or our rules) would not allow rather than posting somewhere else:
no reply into a locked Reddit thread, no X reply without the author's @mention or quote, a direct Mastodon
message answered only by a direct message. `find_reply` lets `post_approved` reconcile a draft left in
`posting` by a crash: it looks for our own account's reply to the post before anything is retried.
Clients are injected; `build_posters` makes the real ones from environment credentials (network-free), with
the same builders and error translation as the collectors (`kikimimi.platforms`).

Posting exactly once needs two things from each poster. Its errors must say whether the platform may have
acted: a timeout, a 5xx, a reset connection, a 408/409/425 become `TransientPlatformError` (the outcome is
unknown and goes to a lookup); a clear refusal stays `PlatformError`. And `lookup_lag_seconds` says how long
after a reply is created `find_reply` may still miss it (search indexes and listings lag). Mastodon takes an
Idempotency-Key; X, Reddit and Bluesky have none, so there the lookup is the guard.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from kikimimi.errors import ConfigError, PlatformError, TransientPlatformError
from kikimimi.models import Post
from kikimimi.platforms import bluesky as bluesky_platform
from kikimimi.platforms import mastodon as mastodon_platform
from kikimimi.platforms import reddit as reddit_platform
from kikimimi.platforms import x as x_platform
from kikimimi.platforms.http import CONNECT_TIMEOUT_SECONDS
from kikimimi.platforms.retry import call_with_retries
from kikimimi.platforms.sessions import DatabaseSessionStore
from kikimimi.settings import Settings
from responder.posting import Poster

log = logging.getLogger(__name__)

BLUESKY_MAX_GRAPHEMES = 300  # app.bsky.feed.post text limit
REDDIT_REPLY_SCAN = 100  # how many of our newest comments find_reply looks through
POSTING_TIMEOUT_SECONDS = 30.0  # a platform call that hangs longer is abandoned (well inside the posting lease)
AMBIGUOUS_STATUS = frozenset({408, 409, 425})  # the request may have been acted on before this answer


def _refuse_unreplyable(post: Post) -> None:
    if not post.replyable:
        raise PlatformError(post.platform, f"post {post.external_id} cannot be answered: {post.replyable_reason}")


def _status(exc: Exception) -> int | None:
    """The HTTP status behind a client library's exception, where it carries one."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if isinstance(status, int):
        return status
    args = getattr(exc, "args", ())  # Mastodon.py: MastodonAPIError(message, status, reason, error)
    return args[1] if len(args) > 1 and isinstance(args[1], int) else None


def posting_translate(
    platform: str, translate: Callable[[Exception], Exception | None]
) -> Callable[[Exception], Exception | None]:
    """The collector's translation, made strict for writes: any answer that may follow a created reply is
    transient (unknown outcome), so only a clear refusal ever becomes a plain `PlatformError`."""

    def strict(exc: Exception) -> Exception | None:
        status = _status(exc)
        if status is not None and (status in AMBIGUOUS_STATUS or status >= 500):
            return TransientPlatformError(platform, f"ambiguous answer {status} to a reply: {exc}")
        return translate(exc)

    return strict


def _call(platform: str, call: Callable[[], Any], translate: Callable[[Exception], Exception | None]) -> Any:
    """One posting call through the shared fault policy; `max_attempts=1`: a write is never blindly repeated."""
    return call_with_retries(
        call, translate=posting_translate(platform, translate), what=f"{platform}: post", max_attempts=1
    )


# --- X -----------------------------------------------------------------------------------------------


class XPoster:
    """`create_tweet(in_reply_to_tweet_id=...)` with user context; only where the author mentioned or quoted us."""

    platform = "x"
    lookup_lag_seconds = 60.0  # recent search indexes new tweets with a delay

    def __init__(self, client: Any, handle: str) -> None:
        self.client = client  # tweepy.Client with user-context credentials, return_type=dict
        self.handle = handle.lstrip("@")

    def reply(self, post: Post, text: str, *, idempotency_key: str) -> str:
        _refuse_unreplyable(post)
        response = _call(
            "x",
            lambda: self.client.create_tweet(text=text, in_reply_to_tweet_id=post.external_id, user_auth=True),
            x_platform.translate_error,
        )
        return str(response["data"]["id"])

    def find_reply(self, post: Post, *, idempotency_key: str) -> str | None:
        """Our account's tweet replying to `post`, searched in its conversation (recent search: 7 days)."""
        query = f"conversation_id:{post.thread_id or post.external_id} from:{self.handle}"
        response = _call(
            "x",
            lambda: self.client.search_recent_tweets(query, tweet_fields=["referenced_tweets"], max_results=100),
            x_platform.translate_error,
        )
        for tweet in response.get("data") or []:
            refs = {(r.get("type"), str(r.get("id"))) for r in tweet.get("referenced_tweets") or []}
            if ("replied_to", post.external_id) in refs:
                return str(tweet["id"])
        return None


# --- Reddit ------------------------------------------------------------------------------------------


def reddit_markdown(text: str) -> str:
    """Reddit Markdown joins single line breaks: keep the draft's lines apart as paragraphs."""
    lines = [line.strip() for line in text.strip().splitlines()]
    return "\n\n".join(line for line in lines if line)


class RedditPoster:
    """`.reply()` in Markdown on the submission or comment itself; refuses locked or archived threads."""

    platform = "reddit"
    lookup_lag_seconds = 30.0  # the user's comment listing is cached

    def __init__(self, reddit: Any, username: str) -> None:
        self.reddit = reddit  # praw.Reddit with username/password (script app)
        self.username = username

    def _thing(self, post: Post) -> Any:
        kind, _, ident = post.external_id.partition("_")
        return self.reddit.submission(id=ident) if kind == "t3" else self.reddit.comment(id=ident)

    def reply(self, post: Post, text: str, *, idempotency_key: str) -> str:
        _refuse_unreplyable(post)
        translate_error = reddit_platform.translate_error  # praw's API errors (Reddit refused) included
        thing = self._thing(post)

        def thread_state() -> tuple[bool, bool]:
            submission = thing if post.external_id.startswith("t3_") else thing.submission
            return bool(submission.locked or getattr(thing, "locked", False)), bool(submission.archived)

        locked, archived = _call("reddit", thread_state, translate_error)
        if locked or archived:  # the thread may have been locked since we stored it
            raise PlatformError("reddit", f"{post.external_id}: the thread is {'locked' if locked else 'archived'}")
        comment = _call("reddit", lambda: thing.reply(body=reddit_markdown(text)), translate_error)
        if comment is None:
            raise PlatformError("reddit", f"{post.external_id}: Reddit accepted no reply (locked?)")
        return str(comment.fullname)

    def find_reply(self, post: Post, *, idempotency_key: str) -> str | None:
        def scan() -> str | None:
            for comment in self.reddit.redditor(self.username).comments.new(limit=REDDIT_REPLY_SCAN):
                if comment.parent_id == post.external_id:
                    return str(comment.fullname)
            return None

        return _call("reddit", scan, reddit_platform.translate_error)


# --- Bluesky -----------------------------------------------------------------------------------------


class BlueskyPoster:
    """`send_post(reply_to=ReplyRef(root, parent))`: the parent is the post, the root its thread's first post."""

    platform = "bluesky"
    lookup_lag_seconds = 30.0  # the appview indexes new posts from the firehose

    def __init__(self, client: Any, login: Callable[[], Any] | None = None) -> None:
        self.client = client  # atproto.Client
        self.login = login
        self._logged_in = login is None

    def _ensure_login(self) -> None:
        if not self._logged_in and self.login is not None:
            _call("bluesky", self.login, bluesky_platform.translate_error)
            self._logged_in = True

    def reply(self, post: Post, text: str, *, idempotency_key: str) -> str:
        from atproto_client import models

        _refuse_unreplyable(post)
        if len(text) > BLUESKY_MAX_GRAPHEMES:
            raise PlatformError("bluesky", f"reply is {len(text)} characters; Bluesky allows {BLUESKY_MAX_GRAPHEMES}")
        parent_cid = post.raw.get("cid")
        if not parent_cid:
            raise PlatformError("bluesky", f"{post.external_id}: stored without its cid; cannot reference it")
        parent = models.ComAtprotoRepoStrongRef.Main(uri=post.external_id, cid=parent_cid)
        root_ref = ((post.raw.get("record") or {}).get("reply") or {}).get("root") or {}
        root = (
            models.ComAtprotoRepoStrongRef.Main(uri=root_ref["uri"], cid=root_ref["cid"])
            if root_ref.get("uri") and root_ref.get("cid")
            else parent
        )
        self._ensure_login()
        created = _call(
            "bluesky",
            lambda: self.client.send_post(
                text=text, reply_to=models.AppBskyFeedPost.ReplyRef(root=root, parent=parent)
            ),
            bluesky_platform.translate_error,
        )
        return str(created.uri)

    def find_reply(self, post: Post, *, idempotency_key: str) -> str | None:
        self._ensure_login()
        me = getattr(self.client, "me", None)
        thread = _call(
            "bluesky",
            lambda: self.client.get_post_thread(uri=post.external_id, depth=1),
            bluesky_platform.translate_error,
        )
        for reply in getattr(thread.thread, "replies", None) or []:
            view = getattr(reply, "post", None)
            if view is not None and me is not None and view.author.did == me.did:
                return str(view.uri)
        return None


# --- Mastodon ----------------------------------------------------------------------------------------


class MastodonPoster:
    """`status_post(in_reply_to_id, visibility=<the post's>)` with Mastodon's own Idempotency-Key."""

    platform = "mastodon"
    lookup_lag_seconds = 10.0  # our own instance serves the context; Idempotency-Key guards the retry too

    def __init__(self, client: Any) -> None:
        self.client = client  # mastodon.Mastodon
        self._me: str | None = None

    def reply(self, post: Post, text: str, *, idempotency_key: str) -> str:
        _refuse_unreplyable(post)
        visibility = str(post.raw.get("visibility") or ("direct" if post.visibility == "private" else "public"))
        acct = str((post.raw.get("account") or {}).get("acct") or "")
        # A reply must mention its author: it notifies them, and a direct message is visible only to those mentioned.
        body = text if not acct or f"@{acct}".lower() in text.lower() else f"@{acct} {text}"
        status = _call(
            "mastodon",
            lambda: self.client.status_post(
                body, in_reply_to_id=post.external_id, visibility=visibility, idempotency_key=idempotency_key
            ),
            lambda exc: mastodon_platform.translate_error(exc, self.client),
        )
        return str(status["id"])

    def find_reply(self, post: Post, *, idempotency_key: str) -> str | None:
        def look() -> str | None:
            if self._me is None:
                self._me = str(self.client.me()["id"])
            for status in self.client.status_context(post.external_id)["descendants"]:
                if str(status["account"]["id"]) == self._me and str(status.get("in_reply_to_id")) == post.external_id:
                    return str(status["id"])
            return None

        return _call("mastodon", look, lambda exc: mastodon_platform.translate_error(exc, self.client))


# --- wiring ------------------------------------------------------------------------------------------

POSTING_CREDENTIALS = {
    "x": x_platform.POST_CREDENTIALS,
    "reddit": reddit_platform.POST_CREDENTIALS,
    "bluesky": bluesky_platform.POST_CREDENTIALS,
    "mastodon": mastodon_platform.POST_CREDENTIALS,
}
POSTING_TIMEOUT = (CONNECT_TIMEOUT_SECONDS, POSTING_TIMEOUT_SECONDS)


def build_posters(settings: Settings, env: Mapping[str, str] | None = None) -> dict[str, Poster]:
    """Posters for every platform whose posting credentials are all set; the others are logged and left out.

    Building touches no network (logins are lazy), so a dry run costs nothing.
    """
    import os

    env = env if env is not None else os.environ
    posters: dict[str, Poster] = {}
    for platform, names in POSTING_CREDENTIALS.items():
        missing = [n for n in names if not env.get(n, "").strip()]
        if missing:
            log.info("%s: no live posting (set %s)", platform, ", ".join(missing))
            continue
        try:
            posters[platform] = _BUILDERS[platform](settings, {n: env[n].strip() for n in names})
        except ConfigError as exc:
            log.warning("%s", exc)
    return posters


def _own_handle(settings: Settings, platform: str) -> str:
    handles = sorted(settings.brand_handles.get(platform) or [])
    if not handles:
        raise ConfigError(f"{platform}: live posting needs the brand's own handle in brands.handles.{platform}")
    return handles[0]


def _x(settings: Settings, values: dict[str, str]) -> Poster:
    client = x_platform.x_client(
        consumer_key=values["X_API_KEY"],
        consumer_secret=values["X_API_SECRET"],
        access_token=values["X_ACCESS_TOKEN"],
        access_token_secret=values["X_ACCESS_TOKEN_SECRET"],
        timeout=POSTING_TIMEOUT,  # a hung call must not outlive the posting lease
    )
    return XPoster(client, _own_handle(settings, "x"))


def _reddit(settings: Settings, values: dict[str, str]) -> Poster:
    reddit = reddit_platform.reddit_client(
        values["REDDIT_CLIENT_ID"],
        values["REDDIT_CLIENT_SECRET"],
        values["REDDIT_USER_AGENT"],
        username=values["REDDIT_USERNAME"],
        password=values["REDDIT_PASSWORD"],
        timeout=POSTING_TIMEOUT,
    )
    return RedditPoster(reddit, values["REDDIT_USERNAME"])


def _bluesky(settings: Settings, values: dict[str, str]) -> Poster:
    """Signs in lazily, resuming the posting session kept in the database (its own, apart from the collector's:
    each refresh rotates the refresh token, so two holders of one session would spoil it for each other)."""
    client = bluesky_platform.bluesky_client(timeout=POSTING_TIMEOUT)
    handle, password = values["BLUESKY_HANDLE"], values["BLUESKY_APP_PASSWORD"]
    store = DatabaseSessionStore(settings.database_url, "bluesky", f"{handle} (posting)")
    return BlueskyPoster(client, login=lambda: bluesky_platform.sign_in(client, handle, password, store))


def _mastodon(settings: Settings, values: dict[str, str]) -> Poster:
    client = mastodon_platform.mastodon_client(
        values["MASTODON_API_BASE_URL"], values["MASTODON_ACCESS_TOKEN"], timeout=POSTING_TIMEOUT
    )
    return MastodonPoster(client)


_BUILDERS: dict[str, Callable[[Settings, dict[str, str]], Poster]] = {
    "x": _x,
    "reddit": _reddit,
    "bluesky": _bluesky,
    "mastodon": _mastodon,
}
