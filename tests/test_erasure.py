"""Erasure: `kikimimi erase --author PLATFORM:HANDLE` removes an author's posts with everything derived from
them and writes an audit row without the content; retention per brand erases old posts (command and pipeline)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlmodel import func, select
from typer.testing import CliRunner

from kikimimi import cli
from kikimimi.erasure import ErasureError, erase_author, erase_expired, parse_author
from kikimimi.models import (
    Analysis,
    AnalysisCorrection,
    Author,
    AuthorCreate,
    Brand,
    DraftState,
    ErasureEvent,
    FaqCluster,
    FaqEmbedding,
    FaqMember,
    Post,
    PostGram,
    PostNote,
    Quarantine,
    ReplyDraft,
    ReviewEvent,
)
from kikimimi.pipeline import open_session
from kikimimi.search import bigrams, index_posts
from kikimimi.settings import load_settings
from listener.store import upsert_posts
from tests.conftest import make_post

FAN = AuthorCreate(platform="x", external_id="42", handle="Komorebi_Fan", display_name="Mika Tanaka")
OTHER = AuthorCreate(platform="x", external_id="43", handle="someone_else", display_name="Ken")


def count(session, model) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


def seed(session, *, brand_id: int | None = None) -> dict[str, Post]:
    old, new = datetime(2025, 1, 10, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC)
    upsert_posts(
        session,
        [
            make_post("1", author=FAN, text="Does it ship to Osaka?", created_at=old),
            make_post("2", author=FAN, text="Still waiting for my order", created_at=new),
            make_post("3", author=OTHER, text="Does it ship to Kyoto?", created_at=old),
        ],
        brand_id=brand_id,
    )
    session.commit()
    posts = {p.external_id: p for p in session.exec(select(Post))}
    cluster = FaqCluster(label="shipping", size=2, name_counts={"place": {"osaka": 1, "kyoto": 1}})
    session.add(cluster)
    session.flush()
    for p in posts.values():
        session.add(Analysis(post_id=p.id, language="en", sentiment="neutral", intent="shipping", is_question=True))
        session.add(FaqEmbedding(post_id=p.id, model_version="m", vector=b"\0" * 8))
    session.add_all(
        [
            FaqMember(post_id=posts["1"].id, cluster_id=cluster.id),
            FaqMember(post_id=posts["3"].id, cluster_id=cluster.id),
        ]
    )
    draft = ReplyDraft(post_id=posts["2"].id, text="Sorry, Mika!", state=DraftState.drafted)
    session.add(draft)
    session.flush()
    session.add(ReviewEvent(draft_id=draft.id, actor="rin", action="edit", to_state="drafted", version=1))
    session.add(Quarantine(platform="x", external_id="2", raw='{"text": "Still waiting"}', error="test"))
    session.add(PostNote(post_id=posts["2"].id, author="rin", text="asked the warehouse"))
    session.add(
        AnalysisCorrection(
            post_id=posts["1"].id, field="intent", old_value="shipping", new_value="order_status", corrected_by="rin"
        )
    )
    session.commit()
    index_posts(session)  # what every pipeline pass does: the search index holds their text's bigrams
    return posts


def test_an_author_is_erased_with_everything_derived_and_audited_without_content(session):
    seed(session)
    report = erase_author(session, "x", "@komorebi_fan", actor="privacy-officer")
    assert report.counts == {
        "posts": 2,
        "analyses": 2,
        "drafts": 1,
        "review_events": 1,
        "faq_memberships": 1,
        "faq_embeddings": 2,
        "quarantined": 1,
        "team_records": 2,
        "search_index": len(bigrams("Does it ship to Osaka?")) + len(bigrams("Still waiting for my order")),
        "authors": 1,
    }
    session.expire_all()
    assert count(session, PostGram) == len(bigrams("Does it ship to Kyoto?"))  # nothing left to find them by
    assert [p.external_id for p in session.exec(select(Post))] == ["3"]  # the other author keeps theirs
    assert [a.handle for a in session.exec(select(Author))] == ["someone_else"]
    cluster = session.exec(select(FaqCluster)).one()
    assert cluster.size == 1 and cluster.name_counts is None  # counted again from the members left
    event = session.get(ErasureEvent, report.event_id)
    assert (event.kind, event.scope, event.actor, event.counts["posts"]) == (
        "author",
        "x:komorebi_fan",
        "privacy-officer",
        2,
    )
    assert "Osaka" not in json.dumps(event.model_dump(mode="json")) and "Mika" not in event.scope


def test_every_table_that_refers_to_a_post_or_a_draft_is_erased_with_it():
    """A table added later with a foreign key to `post` or `replydraft` must be erased with them too."""
    from sqlmodel import SQLModel

    from kikimimi.erasure import _dependents

    referring = {
        (table.name, fk.column.table.name)
        for table in SQLModel.metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table.name in ("post", "replydraft") and table.name != fk.column.table.name
    }
    of_drafts, of_posts = _dependents()
    handled = {(m.__tablename__, "replydraft") for m in of_drafts} | {(m.__tablename__, "post") for m in of_posts}
    assert referring == handled


def test_a_dry_run_counts_and_changes_nothing(session):
    seed(session)
    report = erase_author(session, "x", "42", actor="a", dry_run=True)  # by the platform's own id too
    assert report.counts["posts"] == 2 and report.event_id is None
    assert count(session, Post) == 3 and count(session, ErasureEvent) == 0


@pytest.mark.parametrize("spec", ["komorebi_fan", "myspace:fan", "x:", ""])
def test_a_malformed_request_is_refused_by_name(spec):
    with pytest.raises(ErasureError, match="PLATFORM:HANDLE"):
        parse_author(spec)


def test_an_unknown_author_is_an_error_and_erases_nothing(session):
    seed(session)
    with pytest.raises(ErasureError, match="no x author"):
        erase_author(session, "x", "nobody", actor="a")
    assert count(session, Post) == 3


def test_retention_erases_only_old_posts_of_brands_with_a_limit(session, settings):
    brand = Brand(name=settings.brands[0].name)
    session.add(brand)
    session.commit()
    seed(session, brand_id=brand.id)
    kept = erase_expired(session, settings, actor="retention")
    assert kept == [] and count(session, Post) == 3  # no retention_days: nothing goes
    limited = settings.model_copy(update={"brands": [settings.brands[0].model_copy(update={"retention_days": 365})]})
    (report,) = erase_expired(session, limited, actor="retention")
    assert report.counts["posts"] == 2 and report.counts["authors"] == 1  # someone_else had only the old post
    session.expire_all()
    assert [p.external_id for p in session.exec(select(Post))] == ["2"]
    assert session.get(ErasureEvent, report.event_id).kind == "expired"
    (again,) = erase_expired(session, limited, actor="retention")
    assert again.counts["posts"] == 0 and again.event_id is None  # nothing to erase: no audit row each pass


def _config(tmp_path, retention: str = "") -> str:
    from kikimimi.settings import EXAMPLE_CONFIG

    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    if retention:
        text = text.replace("# retention_days = 365", f"retention_days = {retention}")
    path = tmp_path / "kikimimi.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_erase_command_asks_first_then_erases_and_prints_counts(tmp_path):
    config = _config(tmp_path)
    with open_session(load_settings(config)) as s:
        seed(s)
    runner = CliRunner()
    declined = runner.invoke(cli.app, ["erase", "--author", "x:komorebi_fan", "-c", config], input="n\n")
    assert declined.exit_code == 1 and "would erase" in declined.output and "x:komorebi_fan" in declined.output
    done = runner.invoke(
        cli.app, ["erase", "--author", "x:komorebi_fan", "--yes", "--as", "dpo", "-c", config, "--json"]
    )
    assert done.exit_code == 0, done.output
    (erasure,) = json.loads(done.stdout)["erasures"]
    assert erasure["counts"]["posts"] == 2 and erasure["event_id"] == 1
    with open_session(load_settings(config)) as s:
        assert s.get(ErasureEvent, 1).actor == "dpo"
    again = runner.invoke(cli.app, ["erase", "--author", "x:komorebi_fan", "--yes", "-c", config])
    assert isinstance(again.exception, ErasureError)  # `kikimimi` prints it as one line and exits 2


def test_erase_expired_command_and_every_pipeline_pass_apply_retention(tmp_path, monkeypatch):
    config = _config(tmp_path, retention="30")
    settings = load_settings(config)
    with open_session(settings) as s:
        brand = Brand(name=settings.brands[0].name)
        s.add(brand)
        s.commit()
        seed(s, brand_id=brand.id)
    result = CliRunner().invoke(cli.app, ["erase", "--expired", "-c", config])
    assert result.exit_code == 0, result.output
    assert "erased" in result.output and "older than 30 days" in result.output
    with open_session(settings) as s:
        assert [p.external_id for p in s.exec(select(Post))] == ["2"]

    from kikimimi import pipeline
    from listener.runner import CollectSummary

    with open_session(settings) as s:  # a post past retention is stored again: the next pass erases it
        upsert_posts(s, [make_post("9", created_at=datetime(2025, 6, 1, tzinfo=UTC))], brand_id=1)
        s.commit()

    class Stop(Exception):
        pass

    def stop_before_analysis(*args, **kwargs):
        raise Stop

    monkeypatch.setattr(pipeline, "collect_pass", lambda *a, **k: CollectSummary())
    monkeypatch.setattr(pipeline, "get_analyzer", stop_before_analysis)  # retention runs right after collecting
    with pytest.raises(Stop):
        pipeline.run_once(settings)
    with open_session(settings) as s:
        assert [p.external_id for p in s.exec(select(Post))] == ["2"]
        assert [e.actor for e in s.exec(select(ErasureEvent))][-1] == "retention"
