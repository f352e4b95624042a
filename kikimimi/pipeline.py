"""One pass of the whole pipeline: collect → analyse → draft → post approved replies → raise and deliver alerts.

Each stage reads its work from the database and writes results back, so each can also run alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlmodel import Session

from kikimimi.db import open_session
from kikimimi.erasure import erase_expired
from kikimimi.models import CollectorRun
from kikimimi.search import index_posts
from kikimimi.settings import Settings
from listener.runner import collect_pass
from nlp_models.analyzer import get_analyzer
from nlp_models.stage import analyse_pending
from responder import faq as faq_harvest
from responder import hour_counts, sla, sla_facts
from responder.alerts import raise_alerts
from responder.delivery import deliver_due
from responder.drafting import draft_pending
from responder.generation import suggester
from responder.posters import build_posters
from responder.posting import PostingReport, post_approved

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int | None], None]  # (stage, done, total)


@dataclass
class RunSummary:
    runs: list[CollectorRun] = field(default_factory=list)
    source_errors: dict[str, str] = field(default_factory=dict)
    analysed: int = 0
    faq: faq_harvest.RefreshSummary | None = None
    drafted: int = 0
    erased: int = 0  # posts past their brand's retention_days, erased in this pass
    posting: PostingReport = field(default_factory=PostingReport)
    alerts: AlertsPass | None = None


@dataclass
class AlertsPass:
    raised: int = 0  # new alerts
    delivered: int = 0  # deliveries confirmed in this pass
    failed: int = 0  # deliveries given up in this pass
    pending: int = 0  # deliveries tried and to be tried again after their back-off


def check_alerts(session: Session, settings: Settings) -> AlertsPass:
    """Bring the summaries up to date, raise what the detectors find (each alert once) and deliver every delivery
    that is due."""
    sla_facts.refresh(session, settings)
    sla.refresh_hours(session, settings)
    hour_counts.refresh(session)
    raised = raise_alerts(session, settings)
    sent = deliver_due(session, settings)
    return AlertsPass(raised=len(raised.raised), **sent)


def run_once(settings: Settings, progress: Progress | None = None) -> RunSummary:
    """Collect from every configured source, analyse new posts, draft replies, post approved ones, alert."""
    summary = RunSummary()
    report = progress or (lambda stage, done, total: None)
    with open_session(settings) as session:
        collected = collect_pass(
            session,
            settings,
            list(settings.sources),
            on_progress=lambda label, run, _: report(label, run.items_seen, None),
        )
        summary.runs, summary.source_errors = collected.runs, collected.skipped
        for run in summary.runs:  # the report reads them after the session: a later rollback must not expire them
            session.expunge(run)
        summary.erased = sum(r.counts["posts"] for r in erase_expired(session, settings, actor="retention"))
        index_posts(session)  # full-text search (Japanese too) over what was just collected
        analyzer = get_analyzer(settings.analysis_backend, **backend_options(settings))
        summary.analysed = analyse_pending(session, analyzer, on_batch=lambda d, t: report("analyse", d, t))
        # new questions join their clusters (a full re-grouping when due); accepted answers reach the drafts below
        summary.faq = faq_harvest.update(session, refresh_hours=settings.faq_refresh_hours)
        report("faq", summary.faq.questions, summary.faq.questions)
        summary.drafted = draft_pending(
            session, brands=settings.brands, templates_dir=settings.templates_dir, suggest=suggester(settings)
        )
        report("draft", summary.drafted, summary.drafted)
        summary.posting = post_approved(session, build_posters(settings), live=settings.live_posting)
        summary.alerts = check_alerts(session, settings)  # after analysis: spikes, service levels, deliveries
        report("alerts", summary.alerts.raised, summary.alerts.raised)
    return summary


def backend_options(settings: Settings) -> dict[str, str]:
    """Keyword options for `get_analyzer` from the settings (the transformers backend's model)."""
    return {"model": settings.transformers_model} if settings.transformers_model else {}
