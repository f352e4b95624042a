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
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Row, false
from sqlalchemy import update as sql_update
from sqlmodel import Session, col, delete, func, select

from kikimimi import audit, lease
from kikimimi.db import insert_for
from kikimimi.errors import KikimimiError, PermissionDenied
from kikimimi.models import (
    Analysis,
    Author,
    Brand,
    DraftState,
    FaqCluster,
    FaqDraftNotice,
    FaqEmbedding,
    FaqMember,
    FaqStatus,
    ListeningQuery,
    Post,
    ReplyDraft,
    ReviewEvent,
    Role,
    User,
    visible,
)
from kikimimi.timeutil import utcnow
from nlp_models.faq import assign, centroids_of, embed, group, key_phrases, match_clusters, model_version
from nlp_models.faq.clustering import default_threshold, split_labels
from nlp_models.faq.embedding import normalise
from nlp_models.faq.entities import STRICT_KINDS, about, dominant, name_counts
from nlp_models.faq.summary import canonical_questions, language_of
from nlp_models.faq.text import clean_question
from responder.workflow import SYSTEM, transition

log = logging.getLogger(__name__)

EMBED_BATCH = 256
CHUNK = 500  # ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits
LEASE_NAME = "faq_refresh"
LEASE_SECONDS = 3600.0  # longer than any re-grouping; a crashed holder blocks the FAQ step no longer than this
EXAMPLES_SHOWN = 5
DETAIL_EXAMPLES = 60  # members the detail pane lists (to pick a split from)
WEEK = timedelta(days=7)


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
    post_id: int
    text: str
    url: str | None
    platform: str
    language: str
    created_at: datetime


@dataclass
class FaqCandidate:
    """Everything a lead sees about one cluster (counts from SQL; only the shown examples are loaded)."""

    id: int
    label: str
    status: str
    titles: dict[str, str]  # language -> a short canonical question
    key_phrases: list[str]
    size: int
    this_week: int  # questions asked in the 7 days up to `now`
    last_week: int  # ... in the 7 days before that
    first_seen: datetime | None
    last_seen: datetime | None
    platforms: dict[str, int]
    languages: dict[str, int]
    average_sentiment: float | None  # mean of P(positive) - P(negative) over members
    answers: dict[str, str]  # language -> the lead's answer
    decided: dict[str, tuple[str, datetime]]  # decision -> (who, when), for the decisions that stand
    examples: list[FaqExample] = field(default_factory=list)

    @property
    def growth(self) -> int:
        """Questions this week minus last week."""
        return self.this_week - self.last_week

    @property
    def is_new(self) -> bool:
        """First asked within the week before `now` (set by `candidates`)."""
        return self._new

    _new: bool = False

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("_new")
        d["growth"], d["new_this_week"] = self.growth, self.is_new
        for key in ("first_seen", "last_seen"):
            d[key] = d[key].isoformat() if d[key] else None
        d["decided"] = {k: {"by": who, "at": at.isoformat()} for k, (who, at) in self.decided.items()}
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
        pinned_names = [dominant(_name_counts(session, clusters[cid])) for cid in pinned]
        for lab in range(grouping.n_clusters):
            names = dominant(name_counts([free[j].text for j in np.flatnonzero(labels == lab)]))
            best = assign(
                grouping.centroids[lab], pinned_centroids, grouping.threshold, names=names, cluster_names=pinned_names
            )
            if best >= 0:
                for j in np.flatnonzero(labels == lab):
                    placed[free[j].id] = pinned[best]  # type: ignore[index]
                    summary.joined_decided += 1
                labels[labels == lab] = -1
        own = np.full(len(free), -np.inf, dtype=np.float32)
        if grouping.n_clusters:
            own = np.einsum("ij,ij->i", x[free_rows], grouping.centroids[np.maximum(grouping.labels, 0)])
        for j in range(len(free)):
            if free[j].id in placed:
                continue
            names = about(free[j].text)
            target = assign(
                x[free_rows[j]], pinned_centroids, grouping.threshold, names=names, cluster_names=pinned_names
            )
            # noise, or a question nearer the decided cluster than the one it was grouped into
            if target >= 0 and (grouping.labels[j] < 0 or pinned_centroids[target] @ x[free_rows[j]] > own[j]):
                placed[free[j].id] = pinned[target]  # type: ignore[index]
                labels[j] = -1
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
            cluster.name_counts = {}
            continue
        cluster.embedding_sum = x[rows].sum(axis=0, dtype=np.float32).tobytes()
        cluster.name_counts = name_counts([posts[r].text for r in rows])
        centroid = centroids_of(x[rows], np.zeros(len(rows), dtype=np.int64), 1)[0]
        titles = canonical_questions(cleaned, x, rows, centroid)  # tidied, whole sentences, one per language
        if cluster.renamed:  # the lead's own titles stand; a language they have not titled yet gets one
            titles = {**titles, **dict(cluster.representatives)}
        cluster.representatives = titles
        cluster.representative_question = titles.get("en") or next(iter(titles.values()))
        cluster.key_phrases = phrases.get(cluster.id, [])  # type: ignore[arg-type]
        cluster.first_seen = min(posts[r].created_at for r in rows)
        cluster.last_seen = max(posts[r].created_at for r in rows)
        if not cluster.renamed:
            cluster.label = cluster.representative_question
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
    _settle_seen(session, version)
    waiting = session.exec(
        _questions()
        .outerjoin(
            FaqEmbedding, (col(FaqEmbedding.post_id) == col(Post.id)) & (col(FaqEmbedding.model_version) == version)
        )
        .outerjoin(FaqMember, col(FaqMember.post_id) == col(Post.id))
        # `faq_checked` narrows the search to the partial index of unseen questions; the joins decide
        .where(col(Analysis.faq_checked) == false())
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
    counts = [_name_counts(session, c) for c in active]
    threshold = default_threshold()
    rows = []
    for post, vec in zip(waiting, wx, strict=True):
        centroids = normalise(sums)
        names = about(post.text)
        k = assign(vec, centroids, threshold, names=names, cluster_names=[dominant(c) for c in counts])
        if k < 0:
            continue
        cluster = active[k]
        rows.append({"post_id": post.id, "cluster_id": cluster.id, "similarity": float(vec @ centroids[k])})
        sums[k] += vec
        for kind, name in names.items():
            if kind in STRICT_KINDS:
                counts[k].setdefault(kind, {})[name] = counts[k].get(kind, {}).get(name, 0) + 1
        cluster.size += 1
        cluster.last_seen = max(cluster.last_seen or post.created_at, post.created_at)
        cluster.first_seen = min(cluster.first_seen or post.created_at, post.created_at)
    for k, cluster in enumerate(active):
        cluster.embedding_sum = sums[k].astype(np.float32).tobytes()
        cluster.name_counts = counts[k]
        session.add(cluster)
    if rows:
        session.execute(insert_for(session, FaqMember).on_conflict_do_nothing(), rows)
    session.commit()
    placement.joined = len(rows)
    return placement


def _settle_seen(session: Session, version: str) -> None:
    """Keep `Analysis.faq_checked` a safe hint: questions embedded by another model are unseen again (placement
    embeds them anew, as before); unseen ones that have a current embedding or a cluster, or that are brand
    replies or deleted (never placed), leave the index. Each statement reads the index's few rows, not the table."""
    stale = select(FaqEmbedding.post_id).where(
        (col(FaqEmbedding.model_version) < version) | (col(FaqEmbedding.model_version) > version)
    )
    if session.exec(stale.limit(1)).first() is not None:  # after a model change, until the next re-grouping
        session.execute(
            sql_update(Analysis)
            .where(col(Analysis.faq_checked), col(Analysis.post_id).in_(stale))
            .values(faq_checked=False)
            .execution_options(synchronize_session=False)
        )
    current = select(FaqEmbedding.post_id).where(
        col(FaqEmbedding.post_id) == col(Analysis.post_id), FaqEmbedding.model_version == version
    )
    member = select(FaqMember.post_id).where(col(FaqMember.post_id) == col(Analysis.post_id))
    never = select(Post.id).where(
        col(Post.id) == col(Analysis.post_id), col(Post.is_brand_reply) | col(Post.deleted_at).is_not(None)
    )
    session.execute(
        sql_update(Analysis)
        .where(col(Analysis.is_question), ~col(Analysis.is_spam), col(Analysis.faq_checked) == false())
        .where(current.exists() | member.exists() | never.exists())
        .values(faq_checked=True)
        .execution_options(synchronize_session=False)
    )


def _member_texts(session: Session, cluster_id: int):  # noqa: ANN202 - rows of (id, text)
    return session.exec(
        select(Post.id, Post.text)
        .join(FaqMember, col(FaqMember.post_id) == col(Post.id))
        .where(FaqMember.cluster_id == cluster_id)
    ).all()


def _embedding_sum(session: Session, cluster: FaqCluster, dim: int) -> np.ndarray:
    """The cluster's stored sum of member embeddings; computed from its members once when missing."""
    if cluster.embedding_sum is not None:
        vec = np.frombuffer(cluster.embedding_sum, dtype=np.float32)
        if len(vec) == dim:
            return vec.copy()
    members = _member_texts(session, cluster.id)  # type: ignore[arg-type]
    mx, _ = stored_embeddings(session, members)
    return mx.sum(axis=0, dtype=np.float32) if len(members) else np.zeros(dim, np.float32)


def _name_counts(session: Session, cluster: FaqCluster) -> dict[str, dict[str, int]]:
    """A fresh copy of the cluster's stored name counts; counted from its members once when missing."""
    if cluster.name_counts is not None:
        return {kind: dict(names) for kind, names in cluster.name_counts.items()}
    return name_counts([text for _, text in _member_texts(session, cluster.id)])  # type: ignore[arg-type]


# ---------------------------------------------------------------- reading
# Counts, growth and sentiment are aggregated in SQL; only the examples a page shows are loaded (LIMIT per
# cluster), never a member's raw payload. Every statement's parameters are fixed: clusters are selected by a
# subquery, not by a list of ids.


def _open_clusters(statuses: Sequence[FaqStatus] | None, cluster_id: int | None = None):  # noqa: ANN202 - a Select
    stmt = select(FaqCluster.id).where(col(FaqCluster.merged_into_id).is_(None), FaqCluster.size > 0)
    if statuses:
        stmt = stmt.where(col(FaqCluster.status).in_([s.value for s in statuses]))
    if cluster_id is not None:
        stmt = stmt.where(FaqCluster.id == cluster_id)
    return stmt


def _members_in(scope):  # noqa: ANN001, ANN202 - a Select of cluster ids -> a Select of member rows
    return (
        select(
            FaqMember.cluster_id, Post.id, Post.platform, Post.created_at, Analysis.language, Analysis.sentiment_scores
        )
        .join(Post, col(Post.id) == col(FaqMember.post_id))
        .join(Analysis, col(Analysis.post_id) == col(Post.id))
        .where(col(FaqMember.cluster_id).in_(scope), visible())  # a deleted post is never counted or shown
    )


def _counts(session: Session, scope, now: datetime) -> dict[int, dict]:  # noqa: ANN001
    """Size, this week and last week, average sentiment, first and last asked, platforms and languages per cluster
    in scope: one grouped pass over the members' own copies of their post's and analysis's figures (kept by the
    database, migration 0016: one index, no post or analysis looked up per member), per cluster, platform and
    language, combined here. A member without an analysis, or whose post is deleted or gone, is not counted."""
    from sqlalchemy import case, func

    week_ago, two_weeks_ago = now - WEEK, now - 2 * WEEK
    at = col(FaqMember.post_created_at)
    rows = session.exec(
        select(
            FaqMember.cluster_id,
            FaqMember.post_platform,
            FaqMember.post_language,
            func.count(),
            func.sum(case((at > week_ago, 1), else_=0)),
            func.sum(case(((at > two_weeks_ago) & (at <= week_ago), 1), else_=0)),
            func.sum(FaqMember.post_mood),
            func.count(FaqMember.post_mood),
            func.min(at),
            func.max(at),
        )
        .where(col(FaqMember.cluster_id).in_(scope), col(FaqMember.post_deleted_at).is_(None))
        .where(col(FaqMember.post_language).is_not(None), at <= now)
        .group_by(col(FaqMember.cluster_id), FaqMember.post_platform, FaqMember.post_language)
    ).all()
    out: dict[int, dict] = {}
    moods: dict[int, list[float]] = {}
    for cid, platform, language, n, this_week, last_week, mood_sum, moods_n, first, last in rows:
        c = out.setdefault(
            cid,
            {"size": 0, "this_week": 0, "last_week": 0, "first": first, "last": last, "platforms": {}, "languages": {}},
        )
        c["size"] += int(n)
        c["this_week"] += int(this_week or 0)
        c["last_week"] += int(last_week or 0)
        c["first"], c["last"] = min(c["first"], first), max(c["last"], last)
        for key, value in (("platforms", platform), ("languages", language)):
            c[key][value] = c[key].get(value, 0) + int(n)
        total = moods.setdefault(cid, [0.0, 0])
        total[0] += float(mood_sum or 0.0)
        total[1] += int(moods_n or 0)
    for cid, (mood_sum, moods_n) in moods.items():
        out[cid]["average_sentiment"] = round(mood_sum / moods_n, 3) if moods_n else None
    return out


def _examples(session: Session, scope, limit: int, now: datetime) -> dict[int, list[FaqExample]]:  # noqa: ANN001
    """The newest `limit` members of each cluster in scope (one windowed query)."""
    from sqlalchemy import func

    rank = func.row_number().over(
        partition_by=col(FaqMember.cluster_id), order_by=(col(Post.created_at).desc(), col(Post.id).desc())
    )
    inner = (
        select(
            col(FaqMember.cluster_id).label("cid"),
            col(Post.id).label("pid"),
            col(Post.text).label("text"),
            col(Post.url).label("url"),
            col(Post.platform).label("platform"),
            col(Analysis.language).label("language"),
            col(Post.created_at).label("created_at"),
            rank.label("rank"),
        )
        .join(Post, col(Post.id) == col(FaqMember.post_id))
        .join(Analysis, col(Analysis.post_id) == col(Post.id))
        .where(col(FaqMember.cluster_id).in_(scope), visible(), col(Post.created_at) <= now)
        .subquery()
    )
    out: dict[int, list[FaqExample]] = {}
    rows = session.execute(select(inner).where(inner.c.rank <= limit).order_by(inner.c.cid, inner.c.rank)).all()
    for r in rows:
        created = r.created_at if r.created_at.tzinfo else r.created_at.replace(tzinfo=now.tzinfo)
        out.setdefault(r.cid, []).append(FaqExample(r.pid, r.text, r.url, r.platform, r.language, created))
    return out


def _decided(cluster: FaqCluster) -> dict[str, tuple[str, datetime]]:
    out = {}
    for key, name in (
        ("status", str(cluster.status)),
        ("renamed", "renamed"),
        ("answer_en", "answer_en"),
        ("answer_ja", "answer_ja"),
        ("merged", "merged"),
        ("split", "split"),
    ):
        who, at = getattr(cluster, f"{key}_by"), getattr(cluster, f"{key}_at")
        if who and at:
            out[name] = (who, at)
    return out


def answers_of(cluster: FaqCluster) -> dict[str, str]:
    """Language -> answer, for the languages the lead has answered in."""
    return {lang: text for lang, text in (("en", cluster.answer_en), ("ja", cluster.answer_ja)) if text}


def candidates(
    session: Session,
    *,
    statuses: Sequence[FaqStatus] | None = None,
    now: datetime | None = None,
    examples: int = EXAMPLES_SHOWN,
    cluster_id: int | None = None,
) -> list[FaqCandidate]:
    """Clusters (not merged away) with everything a lead needs to judge them, largest first.

    `now` fixes "this week" (questions in the 7 days up to it) and "last week" (the 7 before); posts after
    `now` are not counted. `examples` is how many of the newest members each carries.
    """
    now = now or utcnow()
    scope = _open_clusters(statuses, cluster_id)
    counts = _counts(session, scope, now)
    shown = _examples(session, scope, examples, now) if examples else {}
    clusters = session.exec(select(FaqCluster).where(col(FaqCluster.id).in_(scope))).all()
    out = []
    for cluster in clusters:
        c = counts.get(cluster.id)  # type: ignore[arg-type]
        if c is None:
            continue  # every member deleted (or not yet asked at `now`)
        cand = FaqCandidate(
            id=cluster.id,  # type: ignore[arg-type]
            label=cluster.label,
            status=str(cluster.status),
            titles=dict(cluster.representatives),
            key_phrases=list(cluster.key_phrases),
            size=c["size"],
            this_week=c["this_week"],
            last_week=c["last_week"],
            first_seen=c["first"] if c["first"] is None or c["first"].tzinfo else c["first"].replace(tzinfo=now.tzinfo),
            last_seen=c["last"] if c["last"] is None or c["last"].tzinfo else c["last"].replace(tzinfo=now.tzinfo),
            platforms=dict(Counter(c["platforms"]).most_common()),
            languages=dict(Counter(c["languages"]).most_common()),
            average_sentiment=c["average_sentiment"],
            answers=answers_of(cluster),
            decided=_decided(cluster),
            examples=shown.get(cluster.id, []),  # type: ignore[arg-type]
        )
        cand._new = cand.first_seen is not None and cand.first_seen > now - WEEK
        out.append(cand)
    out.sort(key=lambda c: (-c.size, c.id))
    return out


def candidate(session: Session, cluster_id: int, *, now: datetime | None = None) -> FaqCandidate | None:
    """One cluster for the detail pane, with up to ``DETAIL_EXAMPLES`` of its newest members."""
    found = candidates(session, now=now, examples=DETAIL_EXAMPLES, cluster_id=cluster_id)
    return found[0] if found else None


def decisions(session: Session, cluster_id: int, limit: int = 50) -> list:
    """Who did (or tried) what to this FAQ entry and when, newest first (the audit table)."""
    from kikimimi.models import AuditEvent

    stmt = (
        select(AuditEvent)
        .where(AuditEvent.target_kind == "faq", AuditEvent.target_id == str(cluster_id))
        .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        .limit(limit)
    )
    return list(session.exec(stmt))


# ---------------------------------------------------------------- the lead's decisions
# Approvers and admins decide FAQ entries; every decision, allowed or refused, is in the audit table, and the
# cluster keeps who took the decision that stands and when (`<decision>_by`, `<decision>_at`).

DECIDERS = frozenset({Role.approver, Role.admin})
LANGUAGES = ("en", "ja")


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


def _stamp(cluster: FaqCluster, decision: str, actor: User, now: datetime) -> None:
    setattr(cluster, f"{decision}_by", actor.name)
    setattr(cluster, f"{decision}_at", now)


def _decide(
    session: Session, cluster: FaqCluster, actor: User | None = None, action: str = "", reason: str | None = None
) -> FaqCluster:
    cluster.pinned = True
    cluster.updated_at = utcnow()
    session.add(cluster)
    if actor is not None:
        audit.record(session, actor, f"faq_{action}", "faq", cluster.id, reason=reason)
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


def _set_answer(cluster: FaqCluster, language: str, answer: str | None, actor: User, now: datetime) -> bool:
    """Store one language's answer; True when it changed."""
    if language not in LANGUAGES:
        raise FaqError(f"answers are in {' or '.join(LANGUAGES)}, not {language!r}")
    text = (answer or "").strip() or None
    if getattr(cluster, f"answer_{language}") == text:
        return False
    setattr(cluster, f"answer_{language}", text)
    _stamp(cluster, f"answer_{language}", actor, now)
    return True


def accept(
    session: Session,
    cluster_id: int,
    *,
    actor: User,
    answer: str | None = None,
    answer_en: str | None = None,
    answer_ja: str | None = None,
    templates_dir: Path | None = None,
) -> FaqCluster:
    """Make a candidate an FAQ entry, optionally with its answers; they reach the members' open drafts.

    `answer` (one text) goes to the language it is written in; `answer_en`/`answer_ja` name it.
    """
    cluster = _get(session, cluster_id, actor, "accept")
    now = utcnow()
    given = {"en": answer_en, "ja": answer_ja}
    if answer is not None:
        given[language_of(answer)] = answer
    changed = [
        lang for lang, text in given.items() if text is not None and _set_answer(cluster, lang, text, actor, now)
    ]
    newly = cluster.status != FaqStatus.accepted
    cluster.status = FaqStatus.accepted
    _stamp(cluster, "status", actor, now)
    _decide(session, cluster, actor, "accept")
    reach_drafts(session, cluster, actor, languages=LANGUAGES if newly else changed, templates_dir=templates_dir)
    return cluster


def dismiss(session: Session, cluster_id: int, *, actor: User) -> FaqCluster:
    """Not an FAQ: it stays dismissed, and similar new questions join it instead of re-forming."""
    cluster = _get(session, cluster_id, actor, "dismiss")
    cluster.status = FaqStatus.dismissed
    _stamp(cluster, "status", actor, utcnow())
    return _decide(session, cluster, actor, "dismiss")


def rename(session: Session, cluster_id: int, label: str, *, actor: User, language: str | None = None) -> FaqCluster:
    """Give the entry the lead's own title (in one language, or the list label); re-grouping keeps it."""
    cluster = _get(session, cluster_id, actor, "rename")
    if not label.strip():
        raise _refuse(session, actor, "rename", cluster_id, FaqError("a title cannot be empty"))
    if language is not None and language not in LANGUAGES:
        raise _refuse(session, actor, "rename", cluster_id, FaqError(f"titles are in {' or '.join(LANGUAGES)}"))
    if language is None or language == "en" or "en" not in cluster.representatives:
        cluster.label = label.strip()
    if language is not None:
        cluster.representatives = {**cluster.representatives, language: label.strip()}
    cluster.renamed = True
    _stamp(cluster, "renamed", actor, utcnow())
    return _decide(session, cluster, actor, "rename", reason=language)


def attach_answer(
    session: Session,
    cluster_id: int,
    answer: str,
    *,
    actor: User,
    language: str | None = None,
    templates_dir: Path | None = None,
) -> FaqCluster:
    """The help-centre answer in one language (by default the one it is written in).

    Once the entry is accepted, a changed answer reaches the members' open drafts in that language.
    """
    cluster = _get(session, cluster_id, actor, "answer")
    lang = language or language_of(answer)
    try:
        changed = _set_answer(cluster, lang, answer, actor, utcnow())
    except FaqError as err:
        raise _refuse(session, actor, "answer", cluster_id, err) from None
    _decide(session, cluster, actor, "answer", reason=lang)
    if changed and cluster.status == FaqStatus.accepted:
        reach_drafts(session, cluster, actor, languages=[lang], templates_dir=templates_dir)
    return cluster


@dataclass
class MergePreview:
    """What a merge would leave: the kept entry's size, languages and titles, and whose answers survive."""

    target: int
    sources: list[int]
    size: int
    languages: dict[str, int]
    titles: dict[str, str]
    answers: dict[str, str]
    statuses: dict[int, str]


def merge_preview(session: Session, target_id: int, source_ids: Sequence[int]) -> MergePreview:
    """The result of ``merge(target_id, source_ids)`` before anyone commits to it (nothing is changed)."""
    ids = [target_id, *[s for s in source_ids if s != target_id]]
    found = {c.id: c for c in candidates(session, examples=0) if c.id in ids}
    if target_id not in found:
        raise FaqError(f"no FAQ cluster {target_id}")
    parts = [found[i] for i in ids if i in found]
    languages: Counter[str] = Counter()
    answers: dict[str, str] = {}
    titles: dict[str, str] = {}
    for part in parts:
        languages.update(part.languages)
        for lang, text in part.answers.items():
            answers.setdefault(lang, text)
        for lang, text in part.titles.items():
            titles.setdefault(lang, text)
    return MergePreview(
        target=target_id,
        sources=[p.id for p in parts[1:]],
        size=sum(p.size for p in parts),
        languages=dict(languages.most_common()),
        titles=titles,
        answers=answers,
        statuses={p.id: p.status for p in parts},
    )


def merge(session: Session, target_id: int, source_ids: Sequence[int], *, actor: User) -> FaqCluster:
    """Fold other clusters into ``target_id``; the sources point at it and disappear from lists.

    The target keeps its titles and answers; a language it lacks takes the first source's.
    """
    target = _get(session, target_id, actor, "merge")
    sources = [_get(session, sid, actor, "merge") for sid in source_ids if sid != target_id]
    if not sources:
        raise _refuse(session, actor, "merge", target_id, FaqError("merge needs at least one other cluster"))
    now = utcnow()
    for source in sources:
        session.exec(  # type: ignore[call-overload]
            sql_update(FaqMember).where(col(FaqMember.cluster_id) == source.id).values(cluster_id=target_id)
        )
        source.merged_into_id = target_id
        source.pinned = True
        source.size = 0
        _stamp(source, "merged", actor, now)
        for lang in LANGUAGES:
            if not getattr(target, f"answer_{lang}") and getattr(source, f"answer_{lang}"):
                setattr(target, f"answer_{lang}", getattr(source, f"answer_{lang}"))
                setattr(target, f"answer_{lang}_by", getattr(source, f"answer_{lang}_by"))
                setattr(target, f"answer_{lang}_at", getattr(source, f"answer_{lang}_at"))
        session.add(source)
        audit.record(session, actor, "faq_merged_into", "faq", source.id, reason=f"into {target_id}")
    session.flush()
    target.size = len(session.exec(select(FaqMember.post_id).where(FaqMember.cluster_id == target_id)).all())
    _stamp(target, "merged", actor, now)
    _refresh_details(session, [target])
    return _decide(session, target, actor, "merge", reason=", ".join(str(s.id) for s in sources))


def split(session: Session, cluster_id: int, *, actor: User, post_ids: Sequence[int] | None = None) -> list[FaqCluster]:
    """Split a cluster: the picked member posts become a new candidate (or, with none picked, the top division
    of the grouping tree). The rest keep the id and the decisions."""
    cluster = _get(session, cluster_id, actor, "split")
    rows = session.exec(
        select(Post).join(FaqMember, col(FaqMember.post_id) == col(Post.id)).where(FaqMember.cluster_id == cluster_id)
    ).all()
    if len(rows) < 2:
        raise _refuse(session, actor, "split", cluster_id, FaqError("a cluster needs at least two questions to split"))
    if post_ids is not None:
        picked = set(post_ids)
        if not picked or not picked <= {p.id for p in rows} or len(picked) == len(rows):
            error = FaqError("pick some, but not all, of this cluster's questions to split off")
            raise _refuse(session, actor, "split", cluster_id, error)
        labels = np.array([1 if p.id in picked else 0 for p in rows], dtype=np.int64)
    else:
        x, _ = stored_embeddings(session, rows)
        labels = split_labels(x)
    now = utcnow()
    parts = [cluster]
    for lab in range(1, int(labels.max()) + 1):
        part = FaqCluster(label="", status=FaqStatus.candidate, pinned=True)
        _stamp(part, "split", actor, now)
        session.add(part)
        session.flush()
        parts.append(part)
        for post, lab_j in zip(rows, labels.tolist(), strict=True):
            if lab_j == lab:
                member = session.get(FaqMember, post.id)
                member.cluster_id = part.id  # type: ignore[union-attr,assignment]
                session.add(member)
    _stamp(cluster, "split", actor, now)
    session.flush()
    _refresh_details(session, parts)
    for k, part in enumerate(parts):
        _decide(session, part, actor if k == 0 else None, "split", reason=None if k else f"{len(parts) - 1} new")
    return parts


def _refresh_details(session: Session, clusters: list[FaqCluster]) -> None:
    """Titles, phrases and dates of these clusters from their own members (a merge or split changed them)."""
    ids = [c.id for c in clusters]
    posts = list(
        session.exec(
            select(Post)
            .join(FaqMember, col(FaqMember.post_id) == col(Post.id))
            .where(col(FaqMember.cluster_id).in_(ids))
            .order_by(col(Post.created_at), col(Post.id))
        )
    )
    x, _ = stored_embeddings(session, posts)
    _update_details(session, clusters, posts, x, {p.id: i for i, p in enumerate(posts)})  # type: ignore[misc]


# ---------------------------------------------------------------- accepted answers reach drafts

OPEN_STATES = frozenset({DraftState.drafted, DraftState.approved, DraftState.failed, DraftState.not_posted})


@dataclass
class DraftsReached:
    redrafted: int = 0  # open drafts nobody had touched, rewritten with the answer (a system edit)
    flagged: int = 0  # edited or approved drafts, left as they were and flagged "answer changed"


def _touched_by_a_person(session: Session, draft: ReplyDraft) -> bool:
    """Edited, approved or otherwise acted on by someone: its text is theirs now."""
    if draft.created_by != SYSTEM or DraftState(draft.state) != DraftState.drafted:
        return True
    events = session.exec(select(ReviewEvent.actor).where(ReviewEvent.draft_id == draft.id)).all()
    return any(a != SYSTEM for a in events)


def reach_drafts(
    session: Session,
    cluster: FaqCluster,
    actor: User,
    *,
    languages: Sequence[str] = LANGUAGES,
    templates_dir: Path | None = None,
) -> DraftsReached:
    """Give the members' still-open drafts the accepted answer in their own language.

    A draft nobody has touched is re-drafted (the `faq_redraft` move of the state machine, recorded in its
    history); an edited or approved one keeps its text and is flagged "answer changed" (`FaqDraftNotice`).
    """
    from responder.drafting import compose

    done = DraftsReached()
    if cluster.status != FaqStatus.accepted:
        return done
    rows = session.exec(
        select(ReplyDraft, Post, Analysis, Author)
        .join(FaqMember, col(FaqMember.post_id) == col(ReplyDraft.post_id))
        .join(Post, col(Post.id) == col(ReplyDraft.post_id))
        .join(Analysis, col(Analysis.post_id) == col(Post.id))
        .join(Author, col(Author.id) == col(Post.author_id))
        .where(FaqMember.cluster_id == cluster.id, col(ReplyDraft.state).in_([s.value for s in OPEN_STATES]))
        .where(visible())
        .order_by(col(ReplyDraft.id))
    ).all()
    now = utcnow()
    for draft, post, analysis, author in rows:
        lang = "ja" if analysis.language == "ja" else "en"
        if lang not in languages or not getattr(cluster, f"answer_{lang}"):
            continue
        if _touched_by_a_person(session, draft):
            outcome = "answer_changed"
            done.flagged += 1
        else:
            composed = compose(session, post, analysis, author, templates_dir=templates_dir)
            text, template = composed.text, composed.template
            if text == draft.text:
                continue
            transition(
                session,
                draft,
                "faq_redraft",
                SYSTEM,
                text=text,
                note=f"FAQ #{cluster.id} answer ({lang}) by {actor.name}",
            )
            draft.template = template
            session.add(draft)
            outcome = "redrafted"
            done.redrafted += 1
        session.add(
            FaqDraftNotice(
                draft_id=draft.id, cluster_id=cluster.id, language=lang, outcome=outcome, decided_by=actor.name, at=now
            )  # type: ignore[arg-type]
        )
    session.commit()
    log.info("FAQ #%s answer reached drafts: %s", cluster.id, done)
    return done


def answer_changed(session: Session, draft_id: int) -> FaqDraftNotice | None:
    """The latest "answer changed" flag on a draft a person had edited or approved (for the reply queue)."""
    return session.exec(
        select(FaqDraftNotice)
        .where(FaqDraftNotice.draft_id == draft_id, FaqDraftNotice.outcome == "answer_changed")
        .order_by(col(FaqDraftNotice.at).desc(), col(FaqDraftNotice.id).desc())
    ).first()


# ---------------------------------------------------------------- export


EXPORT_FORMATS = ("md", "csv", "json")


def exportable(session: Session, listed: Sequence[FaqCandidate] | None = None) -> list[FaqCandidate]:
    """Accepted entries with an answer in at least one language: what a help centre can publish. `listed`: the
    candidates a page already read with every accepted entry among them (not read again)."""
    found = candidates(session, statuses=[FaqStatus.accepted], examples=0) if listed is None else listed
    return sorted(
        (c for c in found if c.status == FaqStatus.accepted.value and c.answers), key=lambda c: (-c.size, c.id)
    )


def _entry(e: FaqCandidate) -> dict:
    accepted = e.decided.get("accepted")
    return {
        "id": e.id,
        "title": e.label,
        "titles": {lang: e.titles.get(lang) for lang in LANGUAGES},
        "answers": {lang: e.answers.get(lang) for lang in LANGUAGES},
        "key_phrases": e.key_phrases,
        "asked": e.size,
        "accepted_by": accepted[0] if accepted else None,
        "accepted_at": accepted[1].isoformat() if accepted else None,
    }


def export(session: Session, fmt: str, entries: Sequence[FaqCandidate] | None = None) -> str:
    """Accepted entries with answers as Markdown, CSV or JSON, each with its titles and answers in EN and JA."""
    if fmt not in EXPORT_FORMATS:
        raise FaqError(f"unknown export format {fmt!r}: use one of {', '.join(EXPORT_FORMATS)}")
    rows = [_entry(e) for e in (exportable(session) if entries is None else entries)]
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["id", "title_en", "title_ja", "answer_en", "answer_ja", "key_phrases", "asked", "accepted_by"])
        for r in rows:
            writer.writerow(
                [
                    r["id"],
                    r["titles"]["en"] or "",
                    r["titles"]["ja"] or "",
                    r["answers"]["en"] or "",
                    r["answers"]["ja"] or "",
                    "; ".join(r["key_phrases"]),
                    r["asked"],
                    r["accepted_by"] or "",
                ]
            )
        return buf.getvalue()
    lines = ["# Frequently asked questions / よくある質問", ""]
    for r in rows:
        lines += [f"## {r['title']}", ""]
        for lang, heading in (("en", "English"), ("ja", "日本語")):
            answer = r["answers"][lang]
            if not answer:
                continue
            title = r["titles"][lang] or r["title"]
            lines += [f"### {title}" if title != r["title"] else f"### {heading}", "", answer, ""]
    return "\n".join(lines)


def reply_templates(session: Session) -> dict[int, dict[str, str]]:
    """Cluster id -> {language: answer} for accepted entries: what drafting uses for later posts."""
    return {e.id: e.answers for e in exportable(session)}
