"""The SQLModel tables (DESIGN.md "Core entities") and their create/public families.

All timestamps are timezone-aware UTC (see `UTCDateTime`). A post is unique per (platform, external_id),
and keeps the raw payload it was normalised from.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator
from sqlmodel import JSON, Field, SQLModel, UniqueConstraint, col

from kikimimi.timeutil import as_utc, utcnow


class UTCDateTime(TypeDecorator):
    """A DateTime that refuses naive values on write and always reads back as aware UTC (SQLite drops tz)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store timezone-aware UTC")
        return as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


def _ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


JSON_TYPE = JSON().with_variant(JSONB(), "postgresql")  # jsonb on PostgreSQL: indexable, compact, compared by value


def _json(**kw: Any) -> Any:
    return Field(sa_type=JSON_TYPE, **kw)


class Role(StrEnum):
    viewer = "viewer"
    responder = "responder"  # may edit drafts
    approver = "approver"  # may approve and reject
    admin = "admin"


class DraftState(StrEnum):
    """Where a reply draft stands; `responder.workflow.RULES` is the one table of moves between these."""

    drafted = "drafted"  # written (by a template or a person), waiting for approval
    approved = "approved"  # an approver approved this version of the text; a worker will post it
    posting = "posting"  # a worker holds a lease on it and may be talking to the platform right now
    posted = "posted"  # the platform has it: `posted_external_id` is the reply
    unknown = "unknown"  # the platform's answer was ambiguous (timeout, 5xx, crash): never posted again until a
    #                      lookup that waits out the platform's lag has settled it
    not_posted = "not_posted"  # that lookup showed nothing was posted: a person may Retry
    replied_by_hand = "replied_by_hand"  # a person sent the reply themselves (`hand_replied_by/at/url`)
    rejected = "rejected"
    failed = "failed"  # the platform clearly refused (locked thread, deleted post): `error` says why


# The states a draft can still leave (`responder.workflow.RULES` has a move out of each): a post holds at most one
# draft in these, enforced by the database (`uq_replydraft_open_post`). posted, replied_by_hand and rejected are
# the end of a draft's life.
OPEN_DRAFT_STATES = frozenset(
    {
        DraftState.drafted,
        DraftState.approved,
        DraftState.posting,
        DraftState.unknown,
        DraftState.not_posted,
        DraftState.failed,
    }
)
OPEN_DRAFT_CLAUSE = sa.text("state IN (" + ", ".join(f"'{s.value}'" for s in sorted(OPEN_DRAFT_STATES)) + ")")


class FaqStatus(StrEnum):
    candidate = "candidate"
    accepted = "accepted"
    dismissed = "dismissed"


class User(SQLModel, table=True):
    """A person who signs in to the dashboard; `role` decides what the stage functions let them change.

    `password_hash` is an argon2 hash (`kikimimi.accounts`); None means the account cannot sign in yet.
    `failed_attempts` and `locked_until` throttle guessing; `signed_out_at` invalidates every session cookie
    issued before it (sign-out, a password change).
    """

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    role: Role = Field(default=Role.viewer, sa_type=sa.String(16))
    password_hash: str | None = None
    locale: str = Field(default="en", max_length=8)
    time_zone: str | None = Field(default=None, max_length=64)  # None: the `display_timezone` setting
    active: bool = True
    failed_attempts: int = 0
    locked_until: datetime | None = _ts(default=None)
    signed_out_at: datetime | None = _ts(default=None)
    created_at: datetime = _ts(default_factory=utcnow)


class AuditOutcome(StrEnum):
    allowed = "allowed"
    refused = "refused"


class AuditEvent(SQLModel, table=True):
    """One audit table for every action a person (or the operator at the command line) took or tried:
    who, what, on which target, whether it was allowed, why not, when (`kikimimi.audit`)."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(default_factory=utcnow, index=True)
    actor: str = Field(index=True)
    action: str = Field(max_length=64, index=True)
    target_kind: str = Field(max_length=32)
    target_id: str | None = None
    outcome: str = Field(max_length=16, index=True)  # AuditOutcome
    reason: str | None = None


class Brand(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    handles: dict = _json(default_factory=dict)  # platform -> [own account handles]
    created_at: datetime = _ts(default_factory=utcnow)


class ListeningQuery(SQLModel, table=True):
    """A brand's listening query as configured; `key` hashes the canonical definition."""

    __table_args__ = (UniqueConstraint("brand_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brand.id", index=True)
    name: str
    key: str = Field(index=True)
    definition: dict = _json(default_factory=dict)
    updated_at: datetime = _ts(default_factory=utcnow)
    competitor: bool = False  # a competitor's brand: counted in share of voice, never drafted for


class AuthorBase(SQLModel):
    platform: str = Field(index=True, max_length=16)
    external_id: str
    handle: str
    display_name: str | None = Field(default=None, index=True)  # the author's history across platforms
    followers_count: int | None = None
    profile_url: str | None = None
    is_brand: bool = False  # one of the brand's own accounts


class AuthorCreate(AuthorBase):
    pass


class Author(AuthorBase, table=True):
    __table_args__ = (UniqueConstraint("platform", "external_id"),)
    id: int | None = Field(default=None, primary_key=True)
    first_seen: datetime = _ts(default_factory=utcnow)
    last_seen: datetime = _ts(default_factory=utcnow)


class PostBase(SQLModel):
    platform: str = Field(index=True, max_length=16)
    external_id: str
    text: str
    language: str | None = None  # the platform's own hint; nlp_models decides in Analysis.language
    url: str | None = None
    created_at: datetime = _ts(index=True)
    thread_id: str | None = Field(default=None, index=True)  # conversation / submission / root uri
    parent_external_id: str | None = Field(default=None, index=True)  # the post this one replies to
    is_brand_reply: bool = False  # written by one of the brand's own accounts
    visibility: str = "public"  # public | private (direct messages stay private)
    replyable: bool = False  # can a reply be posted through the API?
    replyable_reason: str = ""  # why (not)
    # `json`, not jsonb, on PostgreSQL: the payload exactly as the platform sent it (jsonb rewrites numbers)
    raw: dict = Field(sa_type=JSON, default_factory=dict)


class PostCreate(PostBase):
    """What a normaliser returns: the post plus its author, ready for upsert."""

    author: AuthorCreate


class Post(PostBase, table=True):
    __table_args__ = (
        UniqueConstraint("platform", "external_id"),
        sa.Index(
            "ix_post_not_grams_indexed",
            "id",
            sqlite_where=sa.text("grams_indexed = 0"),
            postgresql_where=sa.text("grams_indexed = false"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    author_id: int = Field(foreign_key="author.id", index=True)
    brand_id: int | None = Field(default=None, foreign_key="brand.id", index=True)
    query_id: int | None = Field(default=None, foreign_key="listeningquery.id")
    ingested_at: datetime = _ts(default_factory=utcnow)
    # deleted or made private on its platform (found by `kikimimi collect --deletions`):
    # hidden wherever posts are shown, never drafted for, never answered
    deleted_at: datetime | None = _ts(default=None)  # indexed where set (see `# --- scale ---`)
    deleted_reason: str | None = Field(default=None, max_length=200)
    deletion_checked_at: datetime | None = _ts(default=None)  # last re-lookup: the next pass checks others first
    # a person said this is not spam: the analysis stage never marks it spam again (`responder.inbox`)
    not_spam: bool = False
    # its text is in the full-text index (`kikimimi.search`); a partial index finds the few that are not
    grams_indexed: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # an analysis was stored for it (`nlp_models.stage`): a partial index holds the few that are not, so the
    # analysis stage finds its work without walking every post; the analysis row itself still decides
    analysed: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})


class PostGram(SQLModel, table=True):
    """One character bigram of a post's text: the full-text index that works for Japanese (`kikimimi.search`)."""

    post_id: int = Field(foreign_key="post.id", primary_key=True)
    gram: str = Field(primary_key=True, max_length=2, index=True)


class Analysis(SQLModel, table=True):
    """The current analysis of one post; re-run (replaced) when model versions change."""

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", unique=True, index=True)
    language: str = Field(max_length=8)
    sentiment: str = Field(max_length=16, index=True)
    sentiment_scores: dict = _json(default_factory=dict)
    is_question: bool = Field(default=False, index=True)
    question_score: float = 0.0
    intent: str = Field(max_length=32, index=True)
    intent_score: float = 0.0
    empathy_cues: list = _json(default_factory=list)
    is_spam: bool = False
    needs_reply: bool = Field(default=False, index=True)
    priority: float = Field(default=0.0, index=True)  # the queue's default order walks this index
    backend: str = ""
    model_versions: dict = _json(default_factory=dict)
    analysed_at: datetime = _ts(default_factory=utcnow)
    # drafting has settled this analysis (its post has a draft or the brand's reply); a new analysis clears it,
    # and an index finds the unsettled ones that need a reply: a drafting pass reads only new work
    draft_checked: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # the FAQ step has seen this question (embedded it, or it is a member, a brand reply or deleted); a new
    # analysis clears it, and a partial index finds the unseen questions: placement reads only new work
    faq_checked: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})


class FaqCluster(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    label: str
    representative_question: str = ""
    representatives: dict = _json(default_factory=dict)  # language -> most representative question
    key_phrases: list = _json(default_factory=list)
    status: FaqStatus = Field(default=FaqStatus.candidate, sa_type=sa.String(16), index=True)
    answer_en: str | None = None  # the help-centre answer in each language; drafts take the one in their own
    answer_ja: str | None = None
    size: int = 0
    first_seen: datetime | None = _ts(default=None)
    last_seen: datetime | None = _ts(default=None)
    # a lead acted on it (accept, dismiss, merge, split, rename, answer): re-grouping keeps its members
    pinned: bool = False
    renamed: bool = False  # the label is the lead's own; re-grouping leaves it alone
    merged_into_id: int | None = Field(default=None, foreign_key="faqcluster.id")
    # the sum of its members' FAQ embeddings (float32 bytes), so a new question is placed without reading them all
    embedding_sum: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    # kind -> name -> members about it ({"service": {"paypal": 12}}): placement keeps a PayPay question out
    # without reading the members; None until counted
    name_counts: dict | None = _json(default=None, nullable=True)

    # who took each decision and when (the audit table keeps every attempt; these say what stands)
    status_by: str | None = None
    status_at: datetime | None = _ts(default=None)
    renamed_by: str | None = None
    renamed_at: datetime | None = _ts(default=None)
    answer_en_by: str | None = None
    answer_en_at: datetime | None = _ts(default=None)
    answer_ja_by: str | None = None
    answer_ja_at: datetime | None = _ts(default=None)
    merged_by: str | None = None
    merged_at: datetime | None = _ts(default=None)
    split_by: str | None = None
    split_at: datetime | None = _ts(default=None)
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)


class FaqEmbedding(SQLModel, table=True):
    """A question post's FAQ embedding, paid for once and reused by every re-grouping."""

    post_id: int = Field(foreign_key="post.id", primary_key=True)
    model_version: str = Field(max_length=64, index=True)
    vector: bytes = Field(sa_type=sa.LargeBinary)


class FaqMember(SQLModel, table=True):
    """A question post's place in one FAQ cluster (a post belongs to at most one).

    The `post_*` columns are copies of what the FAQ list counts per member (its post's time, platform and deletion,
    its analysis's language and sentiment), kept by database triggers (migration 0016) whatever changes the post or
    its analysis, so the list is counted from one index instead of joining every member's post and analysis. They
    are filled by the database: a new member's are NULL until it is written."""

    post_id: int = Field(foreign_key="post.id", primary_key=True)
    cluster_id: int = Field(foreign_key="faqcluster.id", index=True)
    similarity: float = 0.0
    post_created_at: datetime | None = _ts(default=None)  # NULL: the post row is gone
    post_platform: str | None = Field(default=None, max_length=16)
    post_deleted_at: datetime | None = _ts(default=None)
    post_language: str | None = Field(default=None, max_length=8)  # NULL: not analysed
    post_mood: float | None = None  # sentiment_scores positive - negative


class ReplyDraft(SQLModel, table=True):
    """A proposed public reply; its `state` moves only through responder.workflow.

    While `posting`, the draft is leased: `lease_owner` (a worker id) alone may call the platform for it, and
    only until `lease_expires_at`; nobody else touches it before then. `send_started_at` is committed right
    before the platform call, so a lease that expired without it proves the platform was never called.
    `unknown_since` is when the outcome became unknown: a lookup must wait out the platform's lag from then.
    """

    __table_args__ = (
        sa.Index(
            "uq_replydraft_open_post",
            "post_id",
            unique=True,
            sqlite_where=OPEN_DRAFT_CLAUSE,
            postgresql_where=OPEN_DRAFT_CLAUSE,
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", index=True)
    text: str
    template: str | None = None
    created_by: str = "system"
    state: DraftState = Field(default=DraftState.drafted, sa_type=sa.String(16), index=True)
    version: int = 1  # bumped on every edit; approval is of one version
    approved_by: str | None = None
    approved_version: int | None = None
    posted_external_id: str | None = None
    posted_at: datetime | None = _ts(default=None)
    error: str | None = None
    attempts: int = 0  # how many times a worker took it into posting
    lease_owner: str | None = Field(default=None, max_length=128)
    lease_expires_at: datetime | None = _ts(default=None)
    heartbeat_at: datetime | None = _ts(default=None)
    send_started_at: datetime | None = _ts(default=None)
    unknown_since: datetime | None = _ts(default=None)
    hand_replied_by: str | None = None
    hand_replied_at: datetime | None = _ts(default=None)
    hand_reply_url: str | None = None
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)


class ReviewEvent(SQLModel, table=True):
    """Audit log: who did what to which draft, when."""

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="replydraft.id", index=True)
    actor: str
    action: str
    from_state: str | None = None
    to_state: str
    version: int
    note: str | None = None
    at: datetime = _ts(default_factory=utcnow)


class Flag(SQLModel, table=True):
    """A brand-wide switch kept in the database, so every worker on every machine sees it (`posting_paused`)."""

    name: str = Field(primary_key=True, max_length=64)
    enabled: bool = False
    reason: str | None = None
    changed_by: str | None = None
    changed_at: datetime = _ts(default_factory=utcnow)


class FlagEvent(SQLModel, table=True):
    """Audit log of switches: who turned which one on or off, when, and why."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, index=True)
    enabled: bool
    actor: str
    reason: str | None = None
    at: datetime = _ts(default_factory=utcnow)


class Cursor(SQLModel, table=True):
    """Where polling stopped, per (collector, query key)."""

    __table_args__ = (UniqueConstraint("platform", "query_key"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    query_key: str
    position: str | None = None
    state: dict = _json(default_factory=dict)  # platform-specific extras (e.g. rate-limit reset)
    updated_at: datetime = _ts(default_factory=utcnow)


class RunStatus(StrEnum):
    running = "running"  # in progress (or the process died: the next run closes it as failed)
    ok = "ok"  # every item stored
    partial = "partial"  # some items quarantined, or the platform failed after some pages were stored
    failed = "failed"  # nothing could be read or stored
    rate_limited = "rate_limited"  # the platform refused until a reset; the next poll resumes after it
    over_budget = "over_budget"  # the platform's monthly read budget is spent; collection resumes next month


class CollectorRun(SQLModel, table=True):
    """What one poll did: requests, items seen, new posts, duplicates, quarantined items, errors."""

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16, index=True)
    query_key: str
    query_name: str = ""
    mode: str = "poll"  # poll | backfill
    status: str = RunStatus.running.value  # see RunStatus
    requests: int = 0
    items_seen: int = 0
    new_posts: int = 0
    duplicates: int = 0
    errors: int = 0
    quarantined: int = 0  # items kept in Quarantine instead of stored
    error_message: str | None = None
    started_at: datetime = _ts(default_factory=utcnow)
    finished_at: datetime | None = _ts(default=None)


class Quarantine(SQLModel, table=True):
    """An item a collector could not normalise or store: kept as it came, with why, for `kikimimi quarantine`."""

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16, index=True)
    query_key: str = ""
    external_id: str | None = None  # when the item had a readable id
    raw: str  # the item as JSON text (or its bytes decoded), made storable
    error: str  # short: the first 300 characters of why
    run_id: int | None = Field(default=None, foreign_key="collectorrun.id", index=True)
    created_at: datetime = _ts(default_factory=utcnow)
    retries: int = 0  # replays tried by `kikimimi quarantine retry`
    retried_at: datetime | None = _ts(default=None)
    resolved: bool = Field(default=False, index=True)  # a replay stored it
    resolved_at: datetime | None = _ts(default=None)


class PlatformSession(SQLModel, table=True):
    """A platform session kept between polls (Bluesky's exported session string), so a poll refreshes the
    session instead of creating a new one: platforms limit how many sessions an account creates per day."""

    platform: str = Field(primary_key=True, max_length=16)
    account: str = Field(primary_key=True, max_length=255)
    session: str  # a secret, like the tokens in the environment: never logged, never shown
    updated_at: datetime = _ts(default_factory=utcnow)


class ReadUsage(SQLModel, table=True):
    """Items read from a platform in one calendar month (UTC, by the one clock), for the read budget."""

    platform: str = Field(primary_key=True, max_length=16)
    period: str = Field(primary_key=True, max_length=7)  # "2026-12"
    items: int = 0
    updated_at: datetime = _ts(default_factory=utcnow)


class ErasureEvent(SQLModel, table=True):
    """Audit log of erasures (an author's request under APPI / GDPR, or the retention limit): what kind, whose,
    who ran it, when, and how many rows of each table went. Never the content itself."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # author | expired
    scope: str  # "x:handle" for an author, "brand:<name> older than <days> days" for retention
    actor: str
    counts: dict = _json(default_factory=dict)  # table -> rows removed
    at: datetime = _ts(default_factory=utcnow)


# --- scale ---


class Lease(SQLModel, table=True):
    """A named job that one process at a time may run (the FAQ regroup), on SQLite and PostgreSQL alike:
    taken by a conditional UPDATE, held until `expires_at` (a crashed holder cannot block it for longer)."""

    name: str = Field(primary_key=True, max_length=64)
    owner: str | None = Field(default=None, max_length=128)
    expires_at: datetime | None = _ts(default=None)
    finished_at: datetime | None = _ts(default=None)  # when the job last ran to the end (the schedule reads it)


def visible() -> Any:
    """The condition every listing of posts carries: not deleted or made private on its platform."""
    return col(Post.deleted_at).is_(None)


# --- alerts ---


class AlertKind(StrEnum):
    negative_spike = "negative_spike"  # the share of negative posts jumped against its rolling baseline
    volume_spike = "volume_spike"  # the number of posts jumped against its rolling baseline
    sla_near = "sla_near"  # a post that needs a reply nears its first-response target, unanswered
    sla_breach = "sla_breach"  # ... or has passed it
    frt_jump = "frt_jump"  # the day's median first-response time jumped against the same weekday before


class Alert(SQLModel, table=True):
    """Something the team should hear about now, raised once: unique per (kind, key, window_key), so a re-run,
    a second worker or a crash between raising and delivering never raises it twice (`responder.alerts`)."""

    __table_args__ = (UniqueConstraint("kind", "key", "window_key"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32, index=True)  # AlertKind
    key: str = Field(max_length=200)  # what it is about: "query:3", "post:42", "brand:1:x"
    window_key: str = Field(max_length=64)  # which window: "2026-11-16T00:00/24h", "target", "2026-11-16"
    brand_id: int | None = Field(default=None, foreign_key="brand.id", index=True)
    query_id: int | None = Field(default=None, foreign_key="listeningquery.id")
    platform: str | None = Field(default=None, max_length=16)
    window_start: datetime = _ts()
    window_end: datetime = _ts()
    ongoing_until: datetime = _ts()  # the end of the last window that still showed it (the cooldown runs from here)
    details: dict = _json(default_factory=dict)  # figures, the slices that showed it, top phrases
    post_ids: list = _json(default_factory=list)  # the posts behind it (ids; an erased post simply drops out)
    created_at: datetime = _ts(default_factory=utcnow, index=True)


class DeliveryState(StrEnum):
    pending = "pending"  # not confirmed yet: tried again at `next_attempt_at`
    delivered = "delivered"  # the destination confirmed it (2xx, or the SMTP server accepted it)
    failed = "failed"  # gave up after the most attempts the settings allow


class AlertDelivery(SQLModel, table=True):
    """One alert to one configured destination of its brand; `AlertAttempt` records every try."""

    __table_args__ = (UniqueConstraint("alert_id", "destination"),)
    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    destination: str = Field(max_length=200)  # "<brand>/<destination name>" as in kikimimi.toml
    channel: str = Field(max_length=16)  # webhook | slack | teams | email
    state: str = Field(default=DeliveryState.pending.value, max_length=16, index=True)  # DeliveryState
    attempts: int = 0
    next_attempt_at: datetime = _ts(default_factory=utcnow)
    lease_until: datetime | None = _ts(default=None)  # a worker is sending it right now; nobody else until then
    delivered_at: datetime | None = _ts(default=None)
    last_error: str | None = None


class AlertAttempt(SQLModel, table=True):
    """One try at delivering: when, whether it was confirmed, what the destination said."""

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="alertdelivery.id", index=True)
    at: datetime = _ts(default_factory=utcnow)
    ok: bool = False
    status: int | None = None  # the HTTP status, or the SMTP reply code
    error: str | None = None


# --- trends ---


class PostQuery(SQLModel, table=True):
    """A post matched by a listening query. A post matched by several queries belongs to each (it counts for
    every brand it names), whichever query stored it first (`Post.query_id`)."""

    post_id: int = Field(foreign_key="post.id", primary_key=True)
    query_id: int = Field(foreign_key="listeningquery.id", primary_key=True, index=True)


# what the trends and service-level pages group and join by (`dashboard/trends_data.py`, `responder/sla.py`)
# the customer posts of a period from the index alone: the columns `trends_data` tests are in it (migration 0016)
sa.Index("ix_post_created_at_platform_customer", Post.created_at, Post.platform, Post.is_brand_reply, Post.deleted_at)
sa.Index("ix_post_author_id_created_at", Post.author_id, Post.created_at)
# a post's replies, oldest first: "answered?" and "when first answered?" (its first reply is the index's first entry;
# without created_at here SQLite took min(created_at) from the (platform, created_at) index and read every reply)
sa.Index("ix_post_platform_parent_external_id_created_at", Post.platform, Post.parent_external_id, Post.created_at)
sa.Index("ix_replydraft_post_id_state", ReplyDraft.post_id, ReplyDraft.state)


def ours() -> Any:
    """The condition a post is one of our own brands': matched by a query that is not a competitor's, or stored
    before posts were linked to queries. A post that only competitor queries matched is never drafted for."""
    linked = sa.exists().where(col(PostQuery.post_id) == col(Post.id))
    own = (
        sa.exists()
        .where(col(PostQuery.post_id) == col(Post.id), col(PostQuery.query_id) == col(ListeningQuery.id))
        .where(~col(ListeningQuery.competitor))
    )
    return own | ~linked


# --- inbox ---


class Assignment(SQLModel, table=True):
    """Who works a post now (one person at a time): responders take posts themselves, approvers hand them out
    (`responder.teamwork`). No row: unassigned."""

    post_id: int = Field(foreign_key="post.id", primary_key=True)
    assignee: str = Field(index=True, max_length=255)  # a User's name
    assigned_by: str = Field(max_length=255)
    assigned_at: datetime = _ts(default_factory=utcnow)


class EditLock(SQLModel, table=True):
    """A soft lock: `holder` has this draft open in the editor until `expires_at` (renewed while they work).

    Others are warned, and nobody else may approve the draft while the lock is alive (`responder.workflow`).
    Kept in the database so every browser and every dashboard process sees it."""

    draft_id: int = Field(foreign_key="replydraft.id", primary_key=True)
    holder: str = Field(index=True, max_length=255)
    since: datetime = _ts(default_factory=utcnow)
    expires_at: datetime = _ts()


class PostNote(SQLModel, table=True):
    """An internal note on a post, for the team only (never posted)."""

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", index=True)
    author: str = Field(max_length=255)
    text: str
    at: datetime = _ts(default_factory=utcnow)


class AnalysisCorrection(SQLModel, table=True):
    """A person's correction of one field of a post's analysis (the model's `Analysis` row is left as it was):
    the queue shows the latest correction of each field, and `kikimimi export corrections` writes them out
    for retraining."""

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", index=True)
    field: str = Field(max_length=16)  # intent | sentiment | needs_reply
    old_value: str | None = None
    new_value: str = Field(max_length=32)
    corrected_by: str = Field(max_length=255)
    corrected_at: datetime = _ts(default_factory=utcnow)


# --- replies ---


class ReplyTemplate(SQLModel, table=True):
    """One saved version of a reply template (e.g. "ja/order_status.j2"), edited by an admin in the dashboard.

    Every save is a new row with the next version; the packaged file is version 0 and is never stored. The
    composer uses the newest version of each name (`responder.template_versions`).
    """

    __table_args__ = (UniqueConstraint("name", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, index=True)
    version: int
    body: str
    saved_by: str
    note: str | None = None
    saved_at: datetime = _ts(default_factory=utcnow)


# --- faq ---


class FaqDraftNotice(SQLModel, table=True):
    """What an accepted FAQ answer did to a member's open draft: re-drafted it (nobody had touched it), or
    flagged it "answer changed" (a person had edited or approved it, so its text was left alone)."""

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="replydraft.id", index=True)
    cluster_id: int = Field(foreign_key="faqcluster.id", index=True)
    language: str = Field(max_length=8)
    outcome: str = Field(max_length=16)  # redrafted | answer_changed
    decided_by: str  # the lead whose answer it was
    at: datetime = _ts(default_factory=utcnow)


# --- scale ---

# the analyses that need a reply and that drafting has not settled: a pass reads these, not every needs-reply post
sa.Index("ix_analysis_needs_reply_draft_checked", Analysis.needs_reply, Analysis.draft_checked)
# the few deleted posts; an index of every post's NULL led SQLite to walk all visible posts for `deleted_at IS NULL`
sa.Index(
    "ix_post_deleted_at_set",
    Post.deleted_at,
    sqlite_where=sa.text("deleted_at IS NOT NULL"),
    postgresql_where=sa.text("deleted_at IS NOT NULL"),
)
# a platform's posts in a period, in time order (the spikes' example posts, the per-platform slices)
sa.Index("ix_post_platform_created_at", Post.platform, Post.created_at)


# --- service-level summaries ---


# a view's drafts counted from the index alone (the queue's total)
sa.Index("ix_replydraft_state_post_id", ReplyDraft.state, ReplyDraft.post_id)


class ResponseFact(SQLModel, table=True):
    """One post of our own brands that needed a reply, with its answers looked up once (`responder.sla_facts`).

    The service-level figures read these rows for the posts created before the summary's `through` time instead
    of looking up every post's replies and drafts again on every page load. Database triggers (migration 0015)
    mark a post dirty whenever it, its analysis, its drafts, its query links or a brand reply to it change; a
    dirty post is read live until the next pass recomputes its row.
    """

    post_id: int = Field(primary_key=True)  # no foreign key: the triggers delete a post's row with the post
    platform: str = Field(max_length=16)
    author_id: int
    created_at: datetime = _ts(index=True)
    ingested_at: datetime = _ts()
    deleted_at: datetime | None = _ts(default=None)
    language: str = Field(max_length=8)
    sentiment: str = Field(max_length=16)
    brand: str | None = None
    brand_at: datetime | None = _ts(default=None)  # the first brand reply that is not an automatic one
    brand_n: int = 0
    draft_at: datetime | None = _ts(default=None)  # the first posted or hand-sent draft
    draft_n: int = 0


class ResponseDirty(SQLModel, table=True):
    """A post whose `ResponseFact` may be out of date (written by the triggers, emptied by the next pass)."""

    post_id: int = Field(primary_key=True)


class SummaryState(SQLModel, table=True):
    """How far a summary reaches: rows exist for every post created before `through`, computed with the
    configuration `fingerprint` names (e.g. which brand handles are automatic)."""

    name: str = Field(primary_key=True, max_length=32)
    through: datetime = _ts()
    fingerprint: str = Field(max_length=64)


class HourCount(SQLModel, table=True):
    """Customer posts and negative ones per UTC hour, listening query, platform and language: what spike
    detection counts (`responder.hour_counts`), kept for the hours before the summary's `through`. The triggers
    of migration 0015 mark an hour dirty when one of its posts or their analyses change."""

    id: int | None = Field(default=None, primary_key=True)
    hour_start: datetime = _ts(index=True)
    query_id: int | None = None
    platform: str = Field(max_length=16)
    language: str = Field(max_length=8)
    posts: int
    negative: int


class HourDirty(SQLModel, table=True):
    """An hour whose `HourCount` rows may be out of date: counted live until the next pass recounts it."""

    hour_start: datetime = _ts(primary_key=True)
    hour_end: datetime = _ts()


# --- scale5 ---

# a post's analysis as the trends figures filter and group it, read from the index alone (migration 0016)
sa.Index(
    "ix_analysis_post_id_spam_language_sentiment",
    Analysis.post_id,
    Analysis.is_spam,
    Analysis.language,
    Analysis.sentiment,
)
# the FAQ list's figures per cluster from this index alone, in its GROUP BY order (`responder.faq._counts`)
sa.Index(
    "ix_faqmember_cluster_counts",
    FaqMember.cluster_id,
    FaqMember.post_platform,
    FaqMember.post_language,
    FaqMember.post_created_at,
    FaqMember.post_mood,
    FaqMember.post_deleted_at,
)

# --- pass5 ---

# the posts without an analysis yet: what the analysis stage reads (`nlp_models.stage.pending_posts`)
sa.Index(
    "ix_post_not_analysed",
    Post.id,
    sqlite_where=sa.text("analysed = 0"),
    postgresql_where=sa.text("analysed = false"),
)
# the questions the FAQ step has not seen: what a pass places (`responder.faq._place`)
sa.Index(
    "ix_analysis_faq_unchecked",
    Analysis.faq_checked,  # the where clause's columns: SQLite (without statistics) prefers it to is_question's
    Analysis.is_question,
    Analysis.is_spam,
    sqlite_where=sa.text("is_question = 1 AND is_spam = 0 AND faq_checked = 0"),
    postgresql_where=sa.text("is_question AND NOT is_spam AND NOT faq_checked"),
)
# the needs-reply analyses drafting has not settled, in the queue's order: PostgreSQL counts needs_reply and
# draft_checked apart, guessed a fifth of all analyses and walked the priority index over every one instead
sa.Index(
    "ix_analysis_draft_unchecked",
    Analysis.priority,
    sqlite_where=sa.text("needs_reply = 1 AND draft_checked = 0"),
    postgresql_where=sa.text("needs_reply AND NOT draft_checked"),
)

# --- sla hours ---


class ResponseHour(SQLModel, table=True):
    """The posts of our brands that needed a reply in one UTC hour, platform, language and promptness (first
    collected within `sla_window_minutes` of being posted), how many were answered and every first-response time:
    what the service-levels page's daily medians, per-platform table and staffing hours and the jump check read
    (`responder.sla_hours`), kept for the hours before the summary's `through`. `minutes` holds every FRT exactly
    (little-endian doubles; NULL when none was answered), so a median over hours is the one computed post by post."""

    id: int | None = Field(default=None, primary_key=True)
    hour_start: datetime = _ts(index=True)
    platform: str = Field(max_length=16)
    language: str | None = Field(default=None, max_length=8)
    prompt: bool
    posts: int
    answered: int
    minutes: bytes | None = Field(default=None, sa_column=sa.Column(sa.LargeBinary, nullable=True))


class ResponseHourDirty(SQLModel, table=True):
    """An hour whose `ResponseHour` rows may be out of date: read live until the next pass recomputes it. Marked by
    a pass for the posts the triggers marked dirty (`responsedirty`) and by migration 0018's triggers for the
    hours a post leaves (deleted, or its time changed)."""

    hour_start: datetime = _ts(primary_key=True)


# --- pass6 ---

# the posts still waiting for their first answer: what the alerts' unanswered read walks (`sla.unanswered`), a
# few thousand rows where the period holds tens of thousands of posts that needed a reply
sa.Index(
    "ix_responsefact_unanswered",
    ResponseFact.created_at,
    sqlite_where=sa.text("brand_at IS NULL AND draft_at IS NULL AND deleted_at IS NULL"),
    postgresql_where=sa.text("brand_at IS NULL AND draft_at IS NULL AND deleted_at IS NULL"),
)
# the posts no reply can go to (not replyable via the API, or deleted): the dry run's count of approved drafts
# leaves these out from this small index instead of looking up every approved draft's post (`responder.posting`)
sa.Index(
    "ix_post_unanswerable",
    Post.id,
    sqlite_where=sa.text("replyable = 0 OR deleted_at IS NOT NULL"),
    postgresql_where=sa.text("NOT replyable OR deleted_at IS NOT NULL"),
)
