"""FAQ harvest in the database: refresh candidates from analysed questions, the lead's decisions, exports.

Re-grouping keeps cluster ids stable where membership is largely the same (``match_clusters``) and
never undoes a lead's decision: a cluster the lead acted on is *pinned*; its members stay, new
questions close to it join it, and only unpinned candidates are re-formed.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Row
from sqlmodel import Session, col, delete, func, select

from kikimimi import audit, lease
from kikimimi.db import insert_for
from kikimimi.errors import KikimimiError, PermissionDenied
from kikimimi.models import (
    Analysis,
    Brand,
    FaqCluster,
    FaqEmbedding,
    FaqMember,
    FaqStatus,
    ListeningQuery,
    Post,
    Role,
    User,
    visible,
)
from kikimimi.timeutil import utcnow
from nlp_models.faq import assign, centroids_of, embed, group, key_phrases, match_clusters, model_version
from nlp_models.faq.clustering import default_threshold, join_radius, split_labels
from nlp_models.faq.embedding import normalise
from nlp_models.faq.summary import language_of, representatives
from nlp_models.faq.text import clean_question

log = logging.getLogger(__name__)

EMBED_BATCH = 256
CHUNK = 500  # ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits
LEASE_NAME = "faq_refresh"
LEASE_SECONDS = 3600.0  # longer than any re-grouping; a crashed holder blocks the FAQ step no longer than this
EXAMPLES_SHOWN = 5
LABEL_CHARS = 80


class FaqError(KikimimiError):
    """A lead's FAQ action that cannot be carried out (unknown cluster, bad merge)."""


class FaqBusy(FaqError):
    """Another process is re-grouping the FAQ right now (it holds the `faq_refresh` lease)."""


@dataclass
class RefreshSummary:
    """What one refresh did, for the CLI and logs."""

    questions: int = 0
    embedded: int = 0
    candidates: int = 0
    kept_ids: int = 0
    created: int = 0
    removed: int = 0
    joined_decided: int = 0
    placed: int = 0  # new questions that joined a cluster between full re-groupings
    busy: bool = False  # another process held the FAQ lease: nothing was done in this pass


@dataclass
class FaqExample:
    text: str
    url: str | None
    platform: str
    language: str
    created_at: datetime


@dataclass
class FaqCandidate:
    """Everything a lead sees about one cluster."""

    id: int
    label: str
    status: str
    titles: dict[str, str]
    key_phrases: list[str]
    size: int
    this_week: int
    last_week: int
    first_seen: datetime | None
    last_seen: datetime | None
    platforms: dict[str, int]
    languages: dict[str, int]
    average_sentiment: float | None  # mean of P(positive) - P(negative) over members
    answer: str | None
    examples: list[FaqExample] = field(default_factory=list)

    @property
    def growth(self) -> int:
        """Questions this week minus last week."""
        return self.this_week - self.last_week

    def to_dict(self) -> dict:
        d = asdict(self)
        d["growth"] = self.growth
        for key in ("first_seen", "last_seen"):
            d[key] = d[key].isoformat() if d[key] else None
        for ex in d["examples"]:
            ex["created_at"] = ex["created_at"].isoformat()
        return d


# ---------------------------------------------------------------- embeddings


def _questions():  # noqa: ANN202 - a select
    """Posts the question detector marked, excluding the brand's own replies and spam: id, text, time only."""
    return (
        select(Post.id, Post.text, Post.created_at)
        .join(Analysis, col(Analysis.post_id) == col(Post.id))
        .where(Analysis.is_question, ~col(Post.is_brand_reply), ~col(Analysis.is_spam), visible())
    )


def _question_posts(session: Session) -> list[Row]:
    """Every question post (id, text, created_at), oldest first."""
    return list(session.exec(_questions().order_by(col(Post.created_at), col(Post.id))).all())


def stored_embeddings(session: Session, posts: Sequence[Any]) -> tuple[np.ndarray, int]:
    """Embeddings for ``posts`` (anything with .id and .text) in order, computing and storing only the missing
    ones; returns (matrix, new). Read and written in chunks: no statement grows with the number of questions."""
    version = model_version()
    ids = [p.id for p in posts]
    have: dict[int, np.ndarray] = {}
    for start in range(0, len(ids), CHUNK):
        rows = session.exec(
            select(FaqEmbedding.post_id, FaqEmbedding.vector).where(
                col(FaqEmbedding.post_id).in_(ids[start : start + CHUNK]), FaqEmbedding.model_version == version
            )
        )
        have.update((pid, np.frombuffer(vector, dtype=np.float32)) for pid, vector in rows)
    missing = [p for p in posts if p.id not in have]
    terms = brand_terms(session) if missing else []
    for i in range(0, len(missing), EMBED_BATCH):
        batch = missing[i : i + EMBED_BATCH]
        vectors = embed([clean_question(p.text, terms) for p in batch])
        for post, vec in zip(batch, vectors, strict=True):
            have[post.id] = vec
        stmt = insert_for(session, FaqEmbedding)
        stmt = stmt.on_conflict_do_update(
            index_elements=["post_id"],
            set_={"model_version": stmt.excluded.model_version, "vector": stmt.excluded.vector},
        )
        session.execute(
            stmt,
            [
                {"post_id": p.id, "model_version": version, "vector": v.tobytes()}
                for p, v in zip(batch, vectors, strict=True)
            ],
        )
    if not posts:
        return np.zeros((0, 1), np.float32), 0
    return np.vstack([have[i] for i in ids]).astype(np.float32), len(missing)


def brand_terms(session: Session) -> list[str]:
    """Brand names, handles and query keywords/hashtags: how a post was found, not what it asks."""
    terms: list[str] = []
    for brand in session.exec(select(Brand)):
        terms.append(brand.name)
        for handles in (brand.handles or {}).values():
            terms.extend(handles)
    for query in session.exec(select(ListeningQuery)):
        d = query.definition or {}
        for key in ("keywords", "phrases", "hashtags"):
            terms.extend(str(t) for t in d.get(key, []) or [])
    return terms


# ---------------------------------------------------------------- refresh


def _memberships(session: Session) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    for cluster_id, post_id in session.exec(select(FaqMember.cluster_id, FaqMember.post_id)):  # rows, never stale
        out.setdefault(cluster_id, set()).add(post_id)
    return out


def refresh(session: Session) -> RefreshSummary:
    """Re-group every analysed question; keep ids where membership is largely the same; honour decisions.

    One process at a time (the `faq_refresh` lease): while another runs it, this raises FaqBusy."""
    with lease.held(session, LEASE_NAME, seconds=LEASE_SECONDS) as hold:
        if hold is None:
            raise FaqBusy("another process is re-grouping the FAQ candidates right now: try again in a minute")
        summary = _regroup(session)
        hold.finished = True
    return summary


def update(session: Session, *, refresh_hours: float) -> RefreshSummary:
    """The pipeline's FAQ step: new questions join the closest cluster; the full re-grouping runs when none has
    run for `refresh_hours` (0: every pass). Skipped (`busy`) while another process holds the lease."""
    with lease.held(session, LEASE_NAME, seconds=LEASE_SECONDS) as hold:
        if hold is None:
            return RefreshSummary(busy=True)
        last = lease.last_finished(session, LEASE_NAME)
        if last is None or utcnow() - last >= timedelta(hours=refresh_hours):
            summary = _regroup(session)
            hold.finished = True
            return summary
        placed = _place(session)
        candidates = session.exec(
            select(func.count())
            .select_from(FaqCluster)
            .where(
                FaqCluster.status == FaqStatus.candidate,
                ~col(FaqCluster.pinned),
                col(FaqCluster.merged_into_id).is_(None),
            )
        ).one()
        return RefreshSummary(
            questions=placed.considered, embedded=placed.considered, placed=placed.joined, candidates=candidates
        )


def _regroup(session: Session) -> RefreshSummary:
    posts = _question_posts(session)
    x, new = stored_embeddings(session, posts)
    summary = RefreshSummary(questions=len(posts), embedded=new)
    index = {p.id: i for i, p in enumerate(posts)}
    clusters = {c.id: c for c in session.exec(select(FaqCluster))}
    members = _memberships(session)
    pinned = [cid for cid, c in clusters.items() if c.pinned and c.merged_into_id is None]
    placed: dict[int, int] = {}  # post id -> pinned cluster id
    for cid in pinned:
        for pid in members.get(cid, set()):
            if pid in index:
                placed[pid] = cid
    free = [p for p in posts if p.id not in placed]
    free_rows = np.array([index[p.id] for p in free], dtype=np.int64)
    grouping = group([p.text for p in free], embeddings=x[free_rows] if len(free) else None)
    labels = grouping.labels.copy()

    # new questions close to a decided cluster join it (a dismissed need does not come back as a candidate)
    if pinned and len(free):
        pinned_centroids = _centroids_for(pinned, placed, index, x)
        radius = join_radius(grouping.threshold)
        for lab in range(grouping.n_clusters):
            sims = pinned_centroids @ grouping.centroids[lab]
            best = int(np.argmax(sims))
            if 1.0 - float(sims[best]) <= radius:
                for j in np.flatnonzero(labels == lab):
                    placed[free[j].id] = pinned[best]  # type: ignore[index]
                    summary.joined_decided += 1
                labels[labels == lab] = -1
        for j in np.flatnonzero(grouping.labels < 0):
            target = assign(x[free_rows[j]], pinned_centroids, grouping.threshold)
            if target >= 0:
                placed[free[j].id] = pinned[target]  # type: ignore[index]
                summary.joined_decided += 1

    new_members: dict[int, set[int]] = {}
    for j, lab in enumerate(labels.tolist()):
        if lab >= 0:
            new_members.setdefault(lab, set()).add(free[j].id)  # type: ignore[arg-type]
    old_candidates = {cid: members.get(cid, set()) for cid, c in clusters.items() if not c.pinned}
    mapping = match_clusters(old_candidates, new_members)

    unpinned = select(FaqCluster.id).where(~col(FaqCluster.pinned))
    session.exec(delete(FaqMember).where(col(FaqMember.cluster_id).in_(unpinned)))  # type: ignore[call-overload]
    for cid in set(old_candidates) - set(mapping.values()):
        session.delete(clusters.pop(cid))
        summary.removed += 1
    rows: list[dict] = []
    for lab, post_ids in new_members.items():
        if lab in mapping:
            cluster = clusters[mapping[lab]]
            summary.kept_ids += 1
        else:
            cluster = FaqCluster(label="")
            session.add(cluster)
            session.flush()
            clusters[cluster.id] = cluster  # type: ignore[index]
            summary.created += 1
        rows.extend({"post_id": pid, "cluster_id": cluster.id, "similarity": 0.0} for pid in post_ids)
    rows.extend({"post_id": pid, "cluster_id": cid, "similarity": 0.0} for pid, cid in placed.items())
    session.flush()
    for start in range(0, len(rows), CHUNK * 10):  # bulk; a pinned cluster's kept members are already there
        session.execute(insert_for(session, FaqMember).on_conflict_do_nothing(), rows[start : start + CHUNK * 10])
    _update_details(session, [c for c in clusters.values() if c.merged_into_id is None], posts, x, index)
    session.commit()
    summary.candidates = sum(1 for c in clusters.values() if c.status == FaqStatus.candidate and not c.pinned)
    log.info("FAQ refresh: %s", summary)
    return summary


def _centroids_for(cluster_ids: list[int], placed: dict[int, int], index: dict, x: np.ndarray) -> np.ndarray:
    pos = {cid: k for k, cid in enumerate(cluster_ids)}
    rows = np.array([index[pid] for pid in placed], dtype=np.int64)
    labels = np.array([pos[cid] for cid in placed.values()], dtype=np.int64)
    if len(rows) == 0:
        return np.zeros((len(cluster_ids), x.shape[1]), np.float32)
    return centroids_of(x[rows], labels, len(cluster_ids))


def _update_details(
    session: Session, clusters: list[FaqCluster], posts: list[Post], x: np.ndarray, index: dict[int, int]
) -> None:
    """Size, first/last seen, titles per language, key phrases and (unless renamed) the label."""
    members = _memberships(session)
    by_cluster = {c.id: [index[p] for p in members.get(c.id, set()) if p in index] for c in clusters}  # type: ignore[index]
    terms = brand_terms(session)
    cleaned = [clean_question(p.text, terms) for p in posts]
    phrases = key_phrases(cleaned, {cid: rows for cid, rows in by_cluster.items() if rows})
    now = utcnow()
    for cluster in clusters:
        rows = sorted(by_cluster.get(cluster.id, []))  # type: ignore[arg-type]
        cluster.size = len(rows)
        cluster.updated_at = now
        if not rows:
            cluster.embedding_sum = None
            continue
        cluster.embedding_sum = x[rows].sum(axis=0, dtype=np.float32).tobytes()
        centroid = centroids_of(x[rows], np.zeros(len(rows), dtype=np.int64), 1)[0]
        titles = representatives(cleaned, x, rows, centroid)  # titles without handles, tags, brand names
        cluster.representatives = titles
        cluster.representative_question = titles.get("en") or next(iter(titles.values()))
        cluster.key_phrases = phrases.get(cluster.id, [])  # type: ignore[arg-type]
        cluster.first_seen = min(posts[r].created_at for r in rows)
        cluster.last_seen = max(posts[r].created_at for r in rows)
        if not cluster.renamed:
            cluster.label = cluster.representative_question[:LABEL_CHARS]
        session.add(cluster)


@dataclass
class Placement:
    considered: int = 0  # questions new since the last pass (no FAQ embedding yet)
    joined: int = 0  # ... of which joined a cluster


def place_new_questions(session: Session) -> int:
    """Incremental step between refreshes: new questions join the closest cluster, if close; returns how many.

    Runs before drafting so a post asking an accepted FAQ gets its answer without waiting for a refresh.
    A no-op while another process holds the FAQ lease (the next pass places them)."""
    with lease.held(session, LEASE_NAME, seconds=LEASE_SECONDS) as hold:
        return 0 if hold is None else _place(session).joined


def _place(session: Session) -> Placement:
    """Questions without an embedding of the current model have never been considered: embed those, and place
    each by the clusters' stored embedding sums. The cost is the new questions', never the table's."""
    version = model_version()
    waiting = session.exec(
        _questions()
        .outerjoin(
            FaqEmbedding, (col(FaqEmbedding.post_id) == col(Post.id)) & (col(FaqEmbedding.model_version) == version)
        )
        .outerjoin(FaqMember, col(FaqMember.post_id) == col(Post.id))
        .where(col(FaqEmbedding.post_id).is_(None), col(FaqMember.post_id).is_(None))
        .order_by(col(Post.created_at), col(Post.id))
    ).all()
    if not waiting:
        return Placement()
    active = list(session.exec(select(FaqCluster).where(col(FaqCluster.merged_into_id).is_(None), FaqCluster.size > 0)))
    wx, _ = stored_embeddings(session, waiting)  # stored even when nothing is close: considered once, not every pass
    placement = Placement(considered=len(waiting))
    if not active:
        session.commit()
        return placement
    sums = np.vstack([_embedding_sum(session, c, wx.shape[1]) for c in active])
    threshold = default_threshold()
    rows = []
    for post, vec in zip(waiting, wx, strict=True):
        centroids = normalise(sums)
        k = assign(vec, centroids, threshold)
        if k < 0:
            continue
        cluster = active[k]
        rows.append({"post_id": post.id, "cluster_id": cluster.id, "similarity": float(vec @ centroids[k])})
        sums[k] += vec
        cluster.size += 1
        cluster.last_seen = max(cluster.last_seen or post.created_at, post.created_at)
        cluster.first_seen = min(cluster.first_seen or post.created_at, post.created_at)
    for k, cluster in enumerate(active):
        cluster.embedding_sum = sums[k].astype(np.float32).tobytes()
        session.add(cluster)
    if rows:
        session.execute(insert_for(session, FaqMember).on_conflict_do_nothing(), rows)
    session.commit()
    placement.joined = len(rows)
    return placement


def _embedding_sum(session: Session, cluster: FaqCluster, dim: int) -> np.ndarray:
    """The cluster's stored sum of member embeddings; computed from its members once when missing."""
    if cluster.embedding_sum is not None:
        vec = np.frombuffer(cluster.embedding_sum, dtype=np.float32)
        if len(vec) == dim:
            return vec.copy()
    members = session.exec(
        select(Post.id, Post.text)
        .join(FaqMember, col(FaqMember.post_id) == col(Post.id))
        .where(FaqMember.cluster_id == cluster.id)
    ).all()
    mx, _ = stored_embeddings(session, members)
    return mx.sum(axis=0, dtype=np.float32) if len(members) else np.zeros(dim, np.float32)


# ---------------------------------------------------------------- reading


def candidates(
    session: Session, *, statuses: Sequence[FaqStatus] | None = None, now: datetime | None = None
) -> list[FaqCandidate]:
    """Clusters (not merged away) with everything a lead needs to judge them, largest first."""
    now = now or utcnow()
    stmt = select(FaqCluster).where(col(FaqCluster.merged_into_id).is_(None), FaqCluster.size > 0)
    if statuses:
        stmt = stmt.where(col(FaqCluster.status).in_([s.value for s in statuses]))
    out = []
    for cluster in session.exec(stmt.order_by(col(FaqCluster.size).desc(), col(FaqCluster.id))):
        rows = session.exec(
            select(Post, Analysis)
            .join(FaqMember, col(FaqMember.post_id) == col(Post.id))
            .join(Analysis, col(Analysis.post_id) == col(Post.id))
            .where(FaqMember.cluster_id == cluster.id, visible())  # a deleted post is never an example
            .order_by(col(Post.created_at).desc())
        ).all()
        week_ago, two_weeks_ago = now - timedelta(days=7), now - timedelta(days=14)
        sentiments = [
            a.sentiment_scores.get("positive", 0.0) - a.sentiment_scores.get("negative", 0.0)
            for _, a in rows
            if a.sentiment_scores
        ]
        out.append(
            FaqCandidate(
                id=cluster.id,  # type: ignore[arg-type]
                label=cluster.label,
                status=str(cluster.status),
                titles=dict(cluster.representatives),
                key_phrases=list(cluster.key_phrases),
                size=len(rows),
                this_week=sum(1 for p, _ in rows if p.created_at > week_ago),
                last_week=sum(1 for p, _ in rows if two_weeks_ago < p.created_at <= week_ago),
                first_seen=cluster.first_seen,
                last_seen=cluster.last_seen,
                platforms=dict(Counter(p.platform for p, _ in rows).most_common()),
                languages=dict(Counter(a.language or language_of(p.text) for p, a in rows).most_common()),
                average_sentiment=round(float(np.mean(sentiments)), 3) if sentiments else None,
                answer=cluster.answer,
                examples=[
                    FaqExample(p.text, p.url, p.platform, a.language, p.created_at) for p, a in rows[:EXAMPLES_SHOWN]
                ],
            )
        )
    return out


# ---------------------------------------------------------------- the lead's decisions
# Approvers and admins decide FAQ entries; every decision, allowed or refused, is in the audit table.

DECIDERS = frozenset({Role.approver, Role.admin})


def _refuse(session: Session, actor: User, action: str, target: object, error: Exception) -> Exception:
    return audit.refused(session, actor, f"faq_{action}", "faq", target, error)


def _get(session: Session, cluster_id: int, actor: User, action: str) -> FaqCluster:
    """The cluster a decision is about, once `actor` may decide; otherwise refused (and audited)."""
    if actor.role not in DECIDERS or not actor.active:
        raise _refuse(
            session,
            actor,
            action,
            cluster_id,
            PermissionDenied(f"{actor.name} ({actor.role}) may not {action} FAQ entries"),
        )
    cluster = session.get(FaqCluster, cluster_id)
    if cluster is None or cluster.merged_into_id is not None:
        raise _refuse(session, actor, action, cluster_id, FaqError(f"no FAQ cluster {cluster_id}"))
    return cluster


def _decide(session: Session, cluster: FaqCluster, actor: User | None = None, action: str = "") -> FaqCluster:
    cluster.pinned = True
    cluster.updated_at = utcnow()
    session.add(cluster)
    if actor is not None:
        audit.record(session, actor, f"faq_{action}", "faq", cluster.id)
    session.commit()
    session.refresh(cluster)
    return cluster


def refresh_as(session: Session, actor: User) -> RefreshSummary:
    """A person's "refresh candidates" (approvers and admins): the same re-grouping the pipeline runs, audited."""
    if actor.role not in DECIDERS or not actor.active:
        error = PermissionDenied(f"{actor.name} ({actor.role}) may not refresh FAQ candidates")
        raise _refuse(session, actor, "refresh", None, error)
    summary = refresh(session)
    audit.record(session, actor, "faq_refresh", "faq", None, reason=f"{summary.candidates} candidates")
    session.commit()
    return summary


def accept(session: Session, cluster_id: int, *, actor: User, answer: str | None = None) -> FaqCluster:
    """Make a candidate an FAQ entry (optionally with its answer)."""
    cluster = _get(session, cluster_id, actor, "accept")
    cluster.status = FaqStatus.accepted
    if answer is not None:
        cluster.answer = answer.strip() or None
    return _decide(session, cluster, actor, "accept")


def dismiss(session: Session, cluster_id: int, *, actor: User) -> FaqCluster:
    """Not an FAQ: it stays dismissed, and similar new questions join it instead of re-forming."""
    cluster = _get(session, cluster_id, actor, "dismiss")
    cluster.status = FaqStatus.dismissed
    return _decide(session, cluster, actor, "dismiss")


def rename(session: Session, cluster_id: int, label: str, *, actor: User) -> FaqCluster:
    """Give the entry the lead's own title; re-grouping will not overwrite it."""
    cluster = _get(session, cluster_id, actor, "rename")
    if not label.strip():
        raise _refuse(session, actor, "rename", cluster_id, FaqError("a label cannot be empty"))
    cluster.label = label.strip()
    cluster.renamed = True
    return _decide(session, cluster, actor, "rename")


def attach_answer(session: Session, cluster_id: int, answer: str, *, actor: User) -> FaqCluster:
    """The help-centre answer; once accepted it also fills replies to later posts in the cluster."""
    cluster = _get(session, cluster_id, actor, "answer")
    cluster.answer = answer.strip() or None
    return _decide(session, cluster, actor, "answer")


def merge(session: Session, target_id: int, source_ids: Sequence[int], *, actor: User) -> FaqCluster:
    """Fold other clusters into ``target_id``; the sources point at it and disappear from lists."""
    target = _get(session, target_id, actor, "merge")
    sources = [_get(session, sid, actor, "merge") for sid in source_ids if sid != target_id]
    if not sources:
        raise _refuse(session, actor, "merge", target_id, FaqError("merge needs at least one other cluster"))
    for source in sources:
        for m in session.exec(select(FaqMember).where(FaqMember.cluster_id == source.id)):
            m.cluster_id = target_id
            session.add(m)
        source.merged_into_id = target_id
        source.pinned = True
        source.size = 0
        if not target.answer and source.answer:
            target.answer = source.answer
        session.add(source)
    session.flush()
    target.size = len(session.exec(select(FaqMember).where(FaqMember.cluster_id == target_id)).all())
    _refresh_details(session, [target])
    return _decide(session, target, actor, "merge")


def split(session: Session, cluster_id: int, *, actor: User) -> list[FaqCluster]:
    """Split a cluster that mixes needs in two or more; the largest part keeps the id and decisions."""
    cluster = _get(session, cluster_id, actor, "split")
    rows = session.exec(
        select(Post).join(FaqMember, col(FaqMember.post_id) == col(Post.id)).where(FaqMember.cluster_id == cluster_id)
    ).all()
    if len(rows) < 2:
        raise _refuse(session, actor, "split", cluster_id, FaqError("a cluster needs at least two questions to split"))
    x, _ = stored_embeddings(session, rows)
    labels = split_labels(x)
    parts = [cluster]
    for lab in range(1, int(labels.max()) + 1):
        part = FaqCluster(label="", status=FaqStatus.candidate, pinned=True)
        session.add(part)
        session.flush()
        parts.append(part)
        for post, lab_j in zip(rows, labels.tolist(), strict=True):
            if lab_j == lab:
                member = session.get(FaqMember, post.id)
                member.cluster_id = part.id  # type: ignore[union-attr,assignment]
                session.add(member)
    session.flush()
    _refresh_details(session, parts)
    for k, part in enumerate(parts):
        _decide(session, part, actor if k == 0 else None, "split")
    return parts


def _refresh_details(session: Session, clusters: list[FaqCluster]) -> None:
    posts = _question_posts(session)
    x, _ = stored_embeddings(session, posts)
    _update_details(session, clusters, posts, x, {p.id: i for i, p in enumerate(posts)})  # type: ignore[misc]


# ---------------------------------------------------------------- export


EXPORT_FORMATS = ("md", "csv", "json")


def exportable(session: Session) -> list[FaqCandidate]:
    """Accepted entries that have an answer: what a help centre can publish."""
    return [c for c in candidates(session, statuses=[FaqStatus.accepted]) if c.answer]


def export(session: Session, fmt: str) -> str:
    """Accepted entries with answers as Markdown, CSV or JSON (questions in each language present)."""
    entries = exportable(session)
    if fmt == "json":
        return json.dumps(
            [
                {
                    "id": e.id,
                    "title": e.label,
                    "questions": e.titles,
                    "answer": e.answer,
                    "key_phrases": e.key_phrases,
                    "asked": e.size,
                }
                for e in entries
            ],
            ensure_ascii=False,
            indent=2,
        )
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["id", "title", "question_en", "question_ja", "answer", "key_phrases", "asked"])
        for e in entries:
            writer.writerow(
                [
                    e.id,
                    e.label,
                    e.titles.get("en", ""),
                    e.titles.get("ja", ""),
                    e.answer,
                    "; ".join(e.key_phrases),
                    e.size,
                ]
            )
        return buf.getvalue()
    if fmt == "md":
        lines = ["# Frequently asked questions", ""]
        for e in entries:
            lines.append(f"## {e.label}")
            lines.append("")
            for lang in sorted(e.titles):
                if e.titles[lang] != e.label:
                    lines.append(f"> {e.titles[lang]}")
                    lines.append("")
            lines.append(str(e.answer))
            lines.append("")
        return "\n".join(lines)
    raise FaqError(f"unknown export format {fmt!r}: use one of {', '.join(EXPORT_FORMATS)}")


def reply_templates(session: Session) -> dict[int, str]:
    """Cluster id -> answer for accepted entries: what drafting uses for later posts in that cluster."""
    return {e.id: e.answer for e in exportable(session)}  # type: ignore[misc]
