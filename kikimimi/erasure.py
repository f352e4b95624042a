"""Erasure: an author's posts on request (APPI / GDPR), and every brand's posts past its retention limit.

Erasing a post removes it with everything derived from it — its analysis, FAQ membership and embedding, reply
drafts and their review events, quarantined copies — and an author with no posts left goes too. Each erasure
writes one `ErasureEvent`: what kind, whose, who ran it, when, and how many rows of each table went; never the
content. The brand's own replies stay (they are the brand's, not the author's).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from kikimimi.errors import KikimimiError
from kikimimi.models import (
    Analysis,
    AnalysisCorrection,
    Assignment,
    Author,
    Brand,
    EditLock,
    ErasureEvent,
    FaqCluster,
    FaqDraftNotice,
    FaqEmbedding,
    FaqMember,
    Post,
    PostGram,
    PostNote,
    PostQuery,
    Quarantine,
    ReplyDraft,
    ReviewEvent,
)
from kikimimi.settings import PLATFORMS, Settings
from kikimimi.timeutil import utcnow

log = logging.getLogger(__name__)
_CHUNK = 500  # ids per IN (…) clause
TABLES = (
    "posts",
    "analyses",
    "drafts",
    "review_events",
    "faq_memberships",
    "faq_embeddings",
    "quarantined",
    "team_records",  # the team's notes, corrections, assignments, edit locks and answer notices on those posts
    "search_index",  # the bigrams their text was found by
    "authors",
)


class ErasureError(KikimimiError):
    """An erasure request that names nothing we can find or is malformed."""


@dataclass
class ErasureReport:
    kind: str
    scope: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    event_id: int | None = None  # the audit row (None for a dry run, or when nothing was erased by retention)
    dry_run: bool = False

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "scope": self.scope,
            "counts": self.counts,
            "event_id": self.event_id,
            "dry_run": self.dry_run,
        }

    def add(self, other: dict[str, int]) -> None:
        for key, value in other.items():
            self.counts[key] = self.counts.get(key, 0) + value


def parse_author(spec: str) -> tuple[str, str]:
    """ "x:komorebi_fan" → ("x", "komorebi_fan"); the handle may carry an @ and, on Mastodon, an instance."""
    platform, sep, handle = spec.partition(":")
    platform, handle = platform.strip().lower(), handle.strip().lstrip("@")
    if not sep or platform not in PLATFORMS or not handle:
        raise ErasureError(f"name the author as PLATFORM:HANDLE, PLATFORM one of {', '.join(PLATFORMS)} (got {spec!r})")
    return platform, handle


def find_authors(session: Session, platform: str, handle: str) -> list[Author]:
    """The stored accounts `handle` names on `platform`: by handle (any case, with or without the instance on
    Mastodon) or by the platform's own id (a DID, an X user id)."""
    wanted = handle.lower().lstrip("@")
    local = wanted.split("@", 1)[0]
    rows = session.exec(select(Author).where(Author.platform == platform)).all()
    return [
        a
        for a in rows
        if a.handle.lower().lstrip("@") == wanted
        or a.external_id == handle
        or (platform == "mastodon" and "@" not in a.handle and a.handle.lower() == local and "@" in wanted)
    ]


def erase_author(
    session: Session, platform: str, handle: str, *, actor: str, dry_run: bool = False, now: datetime | None = None
) -> ErasureReport:
    """Erase every post of the author `platform:handle` and everything derived from them, and the author.
    With `dry_run` only count; otherwise commit and write the audit row. ErasureError if nobody matches."""
    authors = find_authors(session, platform, handle)
    if not authors:
        raise ErasureError(f"no {platform} author {handle!r} is stored")
    report = ErasureReport(kind="author", scope=f"{platform}:{handle.lstrip('@')}", dry_run=dry_run)
    author_ids = [a.id for a in authors if a.id is not None]
    post_ids = list(session.exec(select(Post.id).where(col(Post.author_id).in_(author_ids))))
    report.add(_erase_posts(session, post_ids))  # type: ignore[arg-type]
    report.add(_erase_authors(session, author_ids, only_orphans=False))
    return _settle(session, report, actor, now)


def erase_expired(
    session: Session, settings: Settings, *, actor: str, dry_run: bool = False, now: datetime | None = None
) -> list[ErasureReport]:
    """Erase each brand's posts older than its `retention_days` (authors left with no posts go too); one audit
    row per brand that lost anything. Brands without a retention limit keep everything."""
    now = now or utcnow()
    reports = []
    for brand_config in settings.brands:
        if brand_config.retention_days is None:
            continue
        brand = session.exec(select(Brand).where(Brand.name == brand_config.name)).first()
        if brand is None:
            continue
        cutoff = now - timedelta(days=brand_config.retention_days)
        report = ErasureReport(
            kind="expired",
            scope=f"brand {brand_config.name}: posts older than {brand_config.retention_days} days",
            dry_run=dry_run,
        )
        post_rows = session.exec(
            select(Post.id, Post.author_id).where(Post.brand_id == brand.id, col(Post.created_at) < cutoff)
        ).all()
        report.add(_erase_posts(session, [pid for pid, _ in post_rows]))  # type: ignore[misc]
        report.add(_erase_authors(session, sorted({aid for _, aid in post_rows}), only_orphans=True))
        if report.counts["posts"] or dry_run:
            _settle(session, report, actor, now)
        reports.append(report)
    return reports


def _settle(session: Session, report: ErasureReport, actor: str, now: datetime | None) -> ErasureReport:
    if report.dry_run:
        session.rollback()
        return report
    event = ErasureEvent(
        kind=report.kind, scope=report.scope, actor=actor, counts=dict(report.counts), at=now or utcnow()
    )
    session.add(event)
    session.commit()
    report.event_id = event.id
    log.info("erased (%s) %s: %s", report.kind, report.scope, report.counts)
    return report


def _dependents() -> tuple[dict[type, str], dict[type, str]]:
    """What hangs off a reply draft and off a post, children first, with the count each adds to: every table with
    a foreign key to `replydraft` or `post` (tests/test_erasure.py checks none is missing)."""
    of_drafts = {ReviewEvent: "review_events", EditLock: "team_records", FaqDraftNotice: "team_records"}
    of_posts = {
        PostNote: "team_records",
        AnalysisCorrection: "team_records",
        Assignment: "team_records",
        ReplyDraft: "drafts",
        FaqMember: "faq_memberships",
        FaqEmbedding: "faq_embeddings",
        Analysis: "analyses",
        PostQuery: "query_links",
        PostGram: "search_index",
    }
    return of_drafts, of_posts


def _erase_posts(session: Session, post_ids: Sequence[int]) -> dict[str, int]:
    """Delete posts and what hangs off them, children first (foreign keys); FAQ clusters they left are resized."""
    counts: Counter[str] = Counter()
    touched_clusters: set[int] = set()
    of_drafts, of_posts = _dependents()
    for chunk in _chunks(post_ids):
        drafts = list(session.exec(select(ReplyDraft.id).where(col(ReplyDraft.post_id).in_(chunk))))
        for draft_chunk in _chunks(drafts):  # type: ignore[arg-type]
            for model, key in of_drafts.items():
                counts[key] += _delete(session, model, col(model.draft_id).in_(draft_chunk))
        touched_clusters.update(session.exec(select(FaqMember.cluster_id).where(col(FaqMember.post_id).in_(chunk))))
        for model, key in of_posts.items():
            counts[key] += _delete(session, model, col(model.post_id).in_(chunk))
        keys = session.exec(select(Post.platform, Post.external_id).where(col(Post.id).in_(chunk))).all()
        for platform, external_id in keys:
            counts["quarantined"] += _delete(
                session, Quarantine, Quarantine.platform == platform, Quarantine.external_id == external_id
            )
        counts["posts"] += _delete(session, Post, col(Post.id).in_(chunk))
    for cluster in session.exec(select(FaqCluster).where(col(FaqCluster.id).in_(sorted(touched_clusters)))):
        cluster.size = int(
            session.exec(select(func.count()).select_from(FaqMember).where(FaqMember.cluster_id == cluster.id)).one()
        )
        cluster.name_counts = None  # the services its members name are counted again from those left
        cluster.updated_at = utcnow()
        session.add(cluster)
    return {key: n for key, n in counts.items() if n}  # the report starts every table of TABLES at 0


def _erase_authors(session: Session, author_ids: Sequence[int], *, only_orphans: bool) -> dict[str, int]:
    removed = 0
    for chunk in _chunks(author_ids):
        ids = chunk
        if only_orphans:
            kept = set(session.exec(select(Post.author_id).where(col(Post.author_id).in_(chunk))))
            ids = [a for a in chunk if a not in kept]
        if ids:
            removed += _delete(session, Author, col(Author.id).in_(ids))
    return {"authors": removed}


def _delete(session: Session, model: type, *where: object) -> int:
    session.flush()
    result = session.execute(delete(model).where(*where).execution_options(synchronize_session=False))  # type: ignore[arg-type]
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _chunks(items: Iterable[int]) -> list[list[int]]:
    values = list(items)
    return [values[i : i + _CHUNK] for i in range(0, len(values), _CHUNK)]


def erasure_log(session: Session, limit: int = 50) -> list[ErasureEvent]:
    """The newest erasures first: what the audit shows."""
    return list(session.exec(select(ErasureEvent).order_by(col(ErasureEvent.at).desc()).limit(limit)))
