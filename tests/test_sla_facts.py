"""The service-level summary (`responder.sla_facts`): every figure is the same read from it as computed live,
whatever changed since the last refresh (the database triggers mark it), erasure included."""

from dataclasses import asdict
from datetime import timedelta

import pytest
from sqlmodel import select, update

from kikimimi.erasure import erase_author
from kikimimi.models import Analysis, DraftState, Post, ReplyDraft, ResponseDirty, ResponseFact
from listener.store import store_page
from responder import sla, sla_facts
from tests.conftest import TEST_NOW
from tests.trends_support import BRAND, _post, seed

NOW = TEST_NOW
SCOPE = sla.Scope(since=NOW - timedelta(days=7), until=NOW + timedelta(hours=1))
SETTINGS = sla.Settings(brands=[BRAND])


def figures(session) -> dict:
    """Everything the service-level page shows for the scope, as plain values."""
    return {
        "kpis": asdict(sla.kpis(session, SCOPE, SETTINGS, NOW)),
        "platforms": sla.per_platform(session, SCOPE, SETTINGS, NOW).to_dict("records"),
        "daily": sla.daily_frt(session, SCOPE, SETTINGS, "Asia/Tokyo", now=NOW).to_dict("records"),
        "hours": sorted(sla.volume_by_hour(session, SCOPE, SETTINGS, "Asia/Tokyo").astype(int).itertuples(index=False)),
        "recovery": asdict(sla.sentiment_recovery(session, SCOPE, SETTINGS, NOW)),
        "open": [p.id for p in sla.unanswered(session, SETTINGS, since=SCOPE.since, now=NOW)],
    }


def live(session) -> dict:
    """The figures with no summary at all (then the summary is rebuilt, as a pass would)."""
    sla_facts.clear(session)
    out = figures(session)
    sla_facts.refresh(session, SETTINGS, now=NOW)
    return out


@pytest.fixture
def seeded(session):
    return seed(session, NOW)


def test_the_summary_gives_the_live_figures_and_is_what_the_page_reads(session, seeded):
    before = figures(session)
    assert before["kpis"]["needing_reply"] == 6
    assert sla_facts.refresh(session, SETTINGS, now=NOW) == 6  # p7 is only the competitor's
    assert session.exec(select(ResponseDirty)).all() == []
    assert figures(session) == before
    assert sla_facts.refresh(session, SETTINGS, now=NOW) == 0  # nothing changed: nothing recomputed
    # the rows are what the figures read: a row changed behind the triggers' back shows
    session.exec(update(ResponseFact).where(ResponseFact.post_id == seeded.ids["p1"]).values(brand_at=None))
    session.commit()
    assert figures(session)["kpis"]["answered"] == before["kpis"]["answered"] - 1


def test_every_change_after_a_refresh_is_read_live_until_the_next(session, seeded):
    changes_are_read_live(session, seeded)


def changes_are_read_live(session, seeded) -> None:
    sla_facts.refresh(session, SETTINGS, now=NOW)
    ids = seeded.ids
    reply = _post("r6", "x", NOW - timedelta(minutes=5), "on it!", "komorebi_tea", parent_external_id="p6")
    reply = reply.model_copy(update={"is_brand_reply": True})
    store_page(session, [reply], query_id=seeded.brand_query)
    again = store_page(session, [reply], query_id=seeded.brand_query)  # collected twice: upserts of marked rows
    assert again.refused == {} and again.duplicates == 1
    backfilled = _post("p10", "reddit", NOW - timedelta(days=4), "komorebi where is it", "rio")
    store_page(session, [backfilled], query_id=seeded.brand_query)
    session.commit()
    new_id = session.exec(select(Post.id).where(Post.external_id == "p10")).one()
    session.add(Analysis(post_id=new_id, language="en", sentiment="negative", intent="complaint", needs_reply=True))
    session.exec(update(Post).where(Post.id == ids["p8"]).values(deleted_at=NOW - timedelta(hours=1)))  # bulk
    session.exec(update(Analysis).where(Analysis.post_id == ids["p5"]).values(needs_reply=True))
    session.add(ReplyDraft(post_id=ids["p4"], text="ok", state=DraftState.posted, posted_at=NOW - timedelta(days=1)))
    session.commit()
    dirty = set(session.exec(select(ResponseDirty.post_id)))
    assert {ids["p4"], ids["p5"], ids["p6"], ids["p8"], new_id} <= dirty
    changed = figures(session)
    assert changed["kpis"]["needing_reply"] == 7  # p5 and p10 came in, p8 went unanswered
    assert changed == live(session)
    assert figures(session) == changed and session.exec(select(ResponseDirty)).all() == []


def test_erasing_an_author_takes_their_posts_out_of_the_summary(session, seeded):
    erasure_leaves_the_summary_right(session, seeded)


def erasure_leaves_the_summary_right(session, seeded) -> None:
    sla_facts.refresh(session, SETTINGS, now=NOW)
    needing = figures(session)["kpis"]["needing_reply"]
    erase_author(session, "x", "yui", actor="test", now=NOW)  # p1's author
    assert session.get(ResponseFact, seeded.ids["p1"]) is None
    erased = figures(session)
    assert erased["kpis"]["needing_reply"] == needing - 1
    assert erased == live(session)


def test_other_automatic_handles_read_live_and_a_refresh_starts_over(session, seeded):
    sla_facts.refresh(session, SETTINGS, now=NOW)
    unlisted = sla.Settings(brands=[BRAND.model_copy(update={"automated_handles": {}})])
    assert sla.kpis(session, SCOPE, unlisted, NOW).answered == 4  # p4's bot reply counts for this reader
    assert sla_facts.refresh(session, unlisted, now=NOW) == 6
    assert sla.kpis(session, SCOPE, unlisted, NOW).answered == 4
    assert sla.kpis(session, SCOPE, SETTINGS, NOW).answered == 3  # the other configuration reads live


@pytest.mark.integration
def test_the_triggers_and_the_summary_on_postgresql(session):
    from tests.postgres_server import postgres_session

    with postgres_session() as pg:
        seeded = seed(pg, NOW)
        expected = figures(pg)
        assert sla_facts.refresh(pg, SETTINGS, now=NOW) == 6 and figures(pg) == expected
        changes_are_read_live(pg, seeded)
        erasure_leaves_the_summary_right(pg, seeded)
