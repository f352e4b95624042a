"""A GPU analysis worker is the analysis task with the transformers backend: nothing else differs (here on the
CPU, with the tiny local BERT of tests/test_nlp_transformers.py)."""

from __future__ import annotations

from pathlib import Path

from dramatiq.brokers.stub import StubBroker
from sqlmodel import Session, select

from kikimimi.models import Analysis
from kikimimi.settings import Settings
from kikimimi.workers import tasks
from tests.test_nlp_transformers import tiny_model  # noqa: F401 - the fixture (skips this file without torch)
from tests.test_workers import seed_posts


def test_the_analysis_task_with_the_transformers_backend(
    session: Session,
    settings: Settings,
    tiny_model: Path,  # noqa: F811 - the imported fixture, by name
) -> None:
    ids = seed_posts(session, 4)
    broker = StubBroker()
    tasks.declare(broker)
    gpu = settings.model_copy(update={"analysis_backend": "transformers", "transformers_model": str(tiny_model)})
    tasks.configure(tasks.WorkerContext(gpu))  # what `kikimimi worker --queues analyse --backend transformers` runs
    try:
        assert tasks.analyse(ids) == len(ids)
    finally:
        tasks.configure(None)
        broker.close()
    rows = session.exec(select(Analysis.post_id, Analysis.backend, Analysis.model_versions)).all()
    assert sorted(pid for pid, _, _ in rows) == sorted(ids)
    assert {backend for _, backend, _ in rows} == {"transformers"}
    assert all(v["sentiment"] == f"transformers:{tiny_model}" for _, _, v in rows)
    assert broker.queues["faq"].qsize() == 1  # on to FAQ placement, then drafting
