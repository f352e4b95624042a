"""Spike detection: negativity and volume per listening query, platform and language, against a rolling baseline.

Two windows, both rolling and ending on every hour boundary: the last hour against the 12 before it, and the last
24 hours against the 14 days before them. A window is a spike when it has enough posts and sits `sensitivity`
standard deviations above its baseline: a binomial test on the share of negative posts, a Poisson one on the
number of posts. Consecutive spiking windows of one slice (less than `cooldown_hours` apart) are one spike: known
by its first window (the onset, which names it), told by its strongest one (the peak, whose posts it shows).
The counting happens in SQL (posts per slice and UTC hour); only the posts behind each spike are read back, for
their ids and phrases. Brand replies, spam and deleted posts are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from sqlmodel import Session, col, func, select

from kikimimi.models import AlertKind, Analysis, Post, visible
from kikimimi.settings import AlertSettings
from nlp_models.phrases import top_phrases
from responder import hour_counts

HOUR = timedelta(hours=1)
# basis -> (window length in hours, baseline length in hours, hours of history a baseline needs at least)
BASES = {"hour": (1, 12, 6), "day": (24, 14 * 24, 3 * 24)}
POSTS_SHOWN = 50  # ids kept per spike
BACKGROUND_POSTS = 300  # baseline posts read to tell a spike's phrases from the usual ones


@dataclass
class Spike:
    """One spike of one slice (None: every platform / language): its onset and its peak window so far."""

    kind: str  # AlertKind.negative_spike | AlertKind.volume_spike
    basis: str  # "hour" | "day": which window first showed it
    query_id: int | None
    platform: str | None
    language: str | None
    onset_start: datetime  # the first spiking window (it names the spike: the alert's window key)
    window_start: datetime  # the peak: the spiking window furthest above its baseline
    window_end: datetime
    ongoing_until: datetime  # the end of its last spiking window
    posts: int  # in the peak window
    negative: int
    observed: float  # negative share, or posts per window
    expected: float  # the baseline's share, or posts per window
    score: float  # standard deviations above the baseline
    post_ids: list[int] = field(default_factory=list)  # the posts behind it (the negative ones for negativity)
    phrases: list[str] = field(default_factory=list)

    @property
    def slice_label(self) -> str:
        return " · ".join(p for p in (self.platform, self.language) if p) or "all"


def hourly_counts(session: Session, *, since: datetime, until: datetime) -> pd.DataFrame:
    """Posts and negative posts per (query, platform, language, UTC hour) in [since, until): one SQL aggregate."""
    rows = hour_counts.counts(session, since=since, until=until)  # the summary where it is current
    # plain tuples: pandas probes each result row's attributes otherwise (a third of a trends render at 100k)
    frame = pd.DataFrame(
        [tuple(r) for r in rows], columns=["query_id", "platform", "language", "hour", "posts", "negative"]
    )
    frame["hour"] = pd.to_datetime(frame["hour"].astype(str).str.slice(0, 13) + ":00:00", utc=True)
    return frame


def spikes(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    query_id: int | None = None,
    platform: str | None = None,
    language: str | None = None,
    settings: AlertSettings | None = None,
) -> list[Spike]:
    """Spikes whose first window ends in (since, until], per listening query (or only `query_id`), for one slice:
    `platform` and `language` narrow it, None takes every one. Oldest first."""
    return _detect(session, since, until, settings or AlertSettings(), [(platform, language)], query_id)


def spikes_by_slice(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    settings: AlertSettings | None = None,
    with_posts: bool = True,
) -> list[Spike]:
    """Spikes of every query overall, per platform and per language (what the alert check watches). Without
    `with_posts`, their posts and phrases are left empty (`posts_behind_spike` fills them in for one spike)."""
    cfg = settings or AlertSettings()
    return _detect(session, since, until, cfg, [(None, None)], None, every_slice=True, with_posts=with_posts)


def _detect(
    session: Session,
    since: datetime,
    until: datetime,
    cfg: AlertSettings,
    slices: list[tuple[str | None, str | None]],
    query_id: int | None,
    *,
    every_slice: bool = False,
    with_posts: bool = True,
) -> list[Spike]:
    end = hour_counts.floor_hour(until)
    start = hour_counts.floor_hour(since) - timedelta(hours=max(w + b for w, b, _ in BASES.values()))
    counts = hourly_counts(session, since=start, until=end)
    if query_id is not None:
        counts = counts[counts["query_id"] == query_id]
    if counts.empty:
        return []
    found: list[Spike] = []
    for qid, per_query in counts.groupby("query_id", dropna=False):
        first_hour = per_query["hour"].min()  # no baseline reaches before the query's first post
        wanted = list(slices)
        if every_slice:
            wanted += [(p, None) for p in sorted(per_query["platform"].unique())]
            wanted += [(None, lang) for lang in sorted(per_query["language"].unique())]
        for plat, lang in wanted:
            part = per_query
            if plat is not None:
                part = part[part["platform"] == plat]
            if lang is not None:
                part = part[part["language"] == lang]
            windows = _spiking_windows(part, first_hour, end, since, cfg)
            for kind, hits in windows.items():
                qid_value = None if pd.isna(qid) else int(qid)
                found += _episodes(hits, kind, qid_value, plat, lang, cfg)
    found.sort(key=lambda s: (s.onset_start, s.kind, s.query_id or 0, s.slice_label))
    for spike in found if with_posts else ():
        posts_behind_spike(session, spike)
    return found


def _spiking_windows(
    part: pd.DataFrame, first_hour: pd.Timestamp, end: datetime, since: datetime, cfg: AlertSettings
) -> dict[str, list[dict]]:
    """Every spiking window of one slice, per kind: its basis, bounds and figures."""
    hours = pd.date_range(first_hour, pd.Timestamp(end) - HOUR, freq="h", tz=UTC)
    out: dict[str, list[dict]] = {AlertKind.negative_spike.value: [], AlertKind.volume_spike.value: []}
    if len(hours) == 0 or part.empty:
        return out
    per_hour = part.groupby("hour")[["posts", "negative"]].sum().reindex(hours, fill_value=0)
    # Python numbers: the loop below reads them one at a time, which numpy's scalars make several times slower
    n_cum = np.concatenate([[0], per_hour["posts"].to_numpy().cumsum()]).tolist()
    neg_cum = np.concatenate([[0], per_hour["negative"].to_numpy().cumsum()]).tolist()
    first_end = max(1, int((pd.Timestamp(since) - hours[0]) / HOUR) + 1)
    starts = list(hours.to_pydatetime())  # plain datetimes: indexing the pandas range cost 15k lookups a pass at 1M

    def window(basis: str, s: int, e: int) -> dict:
        return {"basis": basis, "start": starts[s], "end": starts[e - 1] + HOUR}

    for basis, (width, base_len, base_min) in BASES.items():
        for e in range(max(first_end, width + base_min), len(hours) + 1):
            s = e - width
            b = max(0, s - base_len)
            n, neg = n_cum[e] - n_cum[s], neg_cum[e] - neg_cum[s]
            if n < cfg.min_posts:
                continue
            base_n, base_neg = n_cum[s] - n_cum[b], neg_cum[s] - neg_cum[b]
            expected = base_n / (s - b) * width
            volume_z = (n - expected) / np.sqrt(max(expected, 1.0))
            if volume_z >= cfg.sensitivity:
                out[AlertKind.volume_spike.value].append(
                    {
                        **window(basis, s, e),
                        "posts": n,
                        "negative": neg,
                        "observed": n,
                        "expected": expected,
                        "score": volume_z,
                    }
                )
            if neg < cfg.min_negative or base_n == 0:
                continue
            p0 = (base_neg + 1) / (base_n + 2)
            share_z = (neg / n - p0) / np.sqrt(p0 * (1 - p0) / n)
            if share_z >= cfg.sensitivity:
                out[AlertKind.negative_spike.value].append(
                    {
                        **window(basis, s, e),
                        "posts": n,
                        "negative": neg,
                        "observed": neg / n,
                        "expected": p0,
                        "score": share_z,
                    }
                )
    return out


def _episodes(
    hits: list[dict], kind: str, query_id: int | None, platform: str | None, language: str | None, cfg: AlertSettings
) -> list[Spike]:
    """Spiking windows less than the cooldown apart are one spike, told by its first window."""
    cooldown = timedelta(hours=cfg.cooldown_hours)
    spikes_found: list[Spike] = []
    for hit in sorted(hits, key=lambda h: (h["end"], h["basis"])):
        last = spikes_found[-1] if spikes_found else None
        if last is not None and hit["end"] - last.ongoing_until <= cooldown:
            last.ongoing_until = max(last.ongoing_until, hit["end"])
            if hit["score"] > last.score:
                _peak(last, hit)
            continue
        spike = Spike(
            kind=kind,
            basis=hit["basis"],
            query_id=query_id,
            platform=platform,
            language=language,
            onset_start=hit["start"],
            window_start=hit["start"],
            window_end=hit["end"],
            ongoing_until=hit["end"],
            posts=0,
            negative=0,
            observed=0.0,
            expected=0.0,
            score=0.0,
        )
        _peak(spike, hit)
        spikes_found.append(spike)
    return spikes_found


def _peak(spike: Spike, hit: dict) -> None:
    spike.basis, spike.window_start, spike.window_end = hit["basis"], hit["start"], hit["end"]
    spike.posts, spike.negative = int(hit["posts"]), int(hit["negative"])
    spike.observed, spike.expected = round(float(hit["observed"]), 4), round(float(hit["expected"]), 4)
    spike.score = round(float(hit["score"]), 2)


def posts_behind_spike(session: Session, spike: Spike) -> None:
    """Fill in the posts behind a spike and the phrases that set them apart from the baseline's posts."""
    width, base_len, _ = BASES[spike.basis]

    def posts(
        since: datetime, until: datetime, limit: int, negative_only: bool, latest: bool = False
    ) -> list[tuple[int, str]]:
        stmt = (
            select(Post.id, Post.text)
            .join(Analysis, col(Analysis.post_id) == col(Post.id))
            .where(~col(Post.is_brand_reply), ~col(Analysis.is_spam), visible())
            .where(col(Post.created_at) >= since, col(Post.created_at) < until)
        )
        if spike.query_id is not None:
            stmt = stmt.where(col(Post.query_id) == spike.query_id)
        if spike.platform is not None:
            stmt = stmt.where(col(Post.platform) == spike.platform)
        if spike.language is not None:
            stmt = stmt.where(col(Analysis.language) == spike.language)
        if negative_only:  # inside an expression: SQLite walked every negative post by the sentiment index instead
            # of the window by time (1 s at a million posts; 5 ms by time)
            stmt = stmt.where(func.coalesce(col(Analysis.sentiment), "") == "negative")
        # one direction for both keys, so an index in time order serves it without sorting the period
        order = (col(Post.created_at).desc(), col(Post.id).desc()) if latest else (col(Post.created_at), col(Post.id))
        return [(i, t) for i, t in session.exec(stmt.order_by(*order).limit(limit)) if i is not None]

    negative_only = spike.kind == AlertKind.negative_spike
    behind = posts(spike.window_start, spike.window_end, POSTS_SHOWN, negative_only)
    background = posts(
        spike.window_start - timedelta(hours=base_len), spike.window_start, BACKGROUND_POSTS, False, True
    )
    spike.post_ids = [i for i, _ in behind]
    spike.phrases = top_phrases([t for _, t in behind], [t for _, t in background])
