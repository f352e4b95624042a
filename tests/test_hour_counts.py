"""The spike counts' summary (`responder.hour_counts`): the same rows from the summary as counted live, whatever
changed since the last refresh (the database triggers mark the hours), erasure included."""

from datetime import timedelta

from sqlmodel import select, update

from kikimimi.erasure import erase_author
from kikimimi.models import Analysis, HourCount, HourDirty, Post
from listener.store import store_page
from responder import hour_counts, spikes
from tests.conftest import TEST_NOW
from tests.trends_support import _post, seed

NOW = TEST_NOW
SINCE, UNTIL = NOW - timedelta(days=5, minutes=20), NOW + timedelta(minutes=10)  # part-hours at both ends


def rows(session) -> list:
    return sorted(tuple(r) for r in hour_counts.counts(session, since=SINCE, until=UNTIL))


def live(session) -> list:
    hour_counts.clear(session)
    out = rows(session)
    hour_counts.refresh(session, now=NOW)
    return out


def test_the_summary_gives_the_live_counts_whatever_changed_since(session):
    seeded = seed(session, NOW)
    before = rows(session)
    assert sum(r[4] for r in before) == 9  # p1-p9 (the competitor's p7 too), not the brand replies
    assert hour_counts.refresh(session, now=NOW) > 0 and session.exec(select(HourDirty)).all() == []
    assert rows(session) == before
    frame = spikes.hourly_counts(session, since=SINCE, until=UNTIL)  # what spike detection reads
    assert int(frame["posts"].sum()) == 9 and int(frame["negative"].sum()) == 4
    # the rows are what it reads: a count changed behind the triggers' back shows
    session.exec(update(HourCount).values(posts=HourCount.posts + 1))
    session.commit()
    assert sum(r[4] for r in rows(session)) > 9
    assert live(session) == before
    ids = seeded.ids
    late = _post("p11", "x", NOW - timedelta(days=3, minutes=5), "komorebi cold tea", "uma")  # into a past hour
    store_page(session, [late], query_id=seeded.brand_query)
    session.commit()
    late_id = session.exec(select(Post.id).where(Post.external_id == "p11")).one()
    session.add(Analysis(post_id=late_id, language="en", sentiment="negative", intent="complaint"))
    session.exec(update(Analysis).where(Analysis.post_id == ids["p5"]).values(is_spam=True))  # a bulk statement
    session.exec(update(Post).where(Post.id == ids["p3"]).values(deleted_at=NOW))
    session.commit()
    assert len(session.exec(select(HourDirty)).all()) == 3
    changed = rows(session)
    assert sum(r[4] for r in changed) == 8  # p11 came in; p5 is spam now and p3 is gone
    assert changed == live(session) and rows(session) == changed
    erase_author(session, "x", "yui", actor="test", now=NOW)  # p1
    erased = rows(session)
    assert sum(r[4] for r in erased) == 7 and erased == live(session)


def test_the_summary_on_postgresql(session):
    from tests.postgres_server import postgres_session

    with postgres_session() as pg:
        seeded = seed(pg, NOW)
        before = rows(pg)
        assert hour_counts.refresh(pg, now=NOW) > 0 and rows(pg) == before
        pg.exec(update(Analysis).where(Analysis.post_id == seeded.ids["p5"]).values(sentiment="negative"))
        pg.commit()
        assert len(pg.exec(select(HourDirty)).all()) == 1
        assert rows(pg) == live(pg) != before
