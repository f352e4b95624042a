"""`kikimimi bench scale`: p50/p95 of every dashboard page, every query a page runs, and every pipeline stage,
at N posts and at N/10, so how each grows shows as a ratio in one run.

Pages are rendered by Streamlit's AppTest, signed in, with the data caches cleared before every run (a cached
page measures nothing). Queries are the SELECTs the pages sent, run again at the driver with every row fetched.
A pipeline pass is `kikimimi run --once` without collectors: 100 new posts are stored as a collector stores
them, then indexed, analysed, placed in the FAQ, drafted for, (dry run) posted and checked for alerts, each stage timed.
"""

from __future__ import annotations

import json
import os
import re
import resource
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from kikimimi.redact import redact_url

console = Console(stderr=True)
PAGES = ("queue", "trends", "faq", "service_level")
VIEWS = Path(__file__).resolve().parents[2] / "dashboard" / "views"
NEW_POSTS = 100
NO_REGROUP_HOURS = 24 * 365.0  # a pass between scheduled regroups: none falls due while the passes are timed


def _ms(samples: list[float]) -> dict[str, float]:
    values = np.array(samples) * 1000
    return {"p50_ms": round(float(np.percentile(values, 50)), 1), "p95_ms": round(float(np.percentile(values, 95)), 1)}


def size_url(base: str | None, posts: int, data_dir: Path) -> str:
    """The database for one size: a SQLite file per size, or a PostgreSQL database per size on the given server."""
    if base is None:
        return f"sqlite:///{data_dir / f'bench-scale-{posts}.sqlite3'}"
    url = make_url(base)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "bench.sqlite3")
        return str(url.set(database=str(path.with_name(f"{path.stem}-{posts}{path.suffix or '.sqlite3'}"))))
    name = f"kikimimi_bench_{posts}"
    from sqlalchemy import create_engine

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@contextmanager
def _statements(engine: Any, into: dict[str, tuple[str, Any]], page: str) -> Iterator[None]:
    """Record every SELECT a page sends through `engine` (its text and first parameters), keyed by page and text."""

    def seen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]  # noqa: ANN001
        if not executemany and statement.split(None, 1)[0].upper() in ("SELECT", "WITH"):
            into.setdefault(f"{page}: {' '.join(statement.split())}", (statement, parameters))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def _replay(engine: Any, statements: dict[str, tuple[str, Any]], repeat: int) -> dict[str, list[float]]:
    """Each recorded statement run again `repeat` times at the driver, its rows fetched: the query's own time."""
    out: dict[str, list[float]] = {}
    raw = engine.raw_connection()
    try:
        for key, (statement, parameters) in statements.items():
            samples = []
            for _ in range(repeat):
                cursor = raw.cursor()
                started = time.perf_counter()
                cursor.execute(statement, parameters)
                cursor.fetchall()
                samples.append(time.perf_counter() - started)
                cursor.close()
            out[key] = samples
        raw.rollback()
    finally:
        raw.close()
    return out


def _label(statement: str) -> str:
    """A short name for a statement: its verb and the tables it reads."""
    flat = " ".join(statement.split())
    verb = flat.split(" ", 1)[0].upper()
    tables = list(dict.fromkeys(re.findall(r"(?:FROM|JOIN|INTO|UPDATE)\s+\"?(\w+)", flat, flags=re.IGNORECASE)))
    return f"{verb} {', '.join(tables[:6])}" + (f" (+{len(tables) - 6})" if len(tables) > 6 else "")


def measure_pages(url: str, repeat: int) -> tuple[dict, dict, float]:
    """p50/p95 per page and per SELECT a page sent (run again with its rows fetched), and the memory afterwards."""
    import streamlit as st
    from sqlmodel import Session, select
    from streamlit.testing.v1 import AppTest

    from dashboard.auth import sign_in_for_test
    from kikimimi.db import get_engine
    from kikimimi.models import User

    from .scale_data import ADMIN

    os.environ["KIKIMIMI_DATABASE_URL"] = url
    engine = get_engine(url)
    with Session(engine) as s:
        admin_id = s.exec(select(User.id).where(User.name == ADMIN)).one()
    pages: dict[str, list[float]] = defaultdict(list)
    statements: dict[str, tuple[str, Any]] = {}
    components = _components()
    for run in range(repeat + 1):  # the first round warms up (imports, first renders, as a running server has)
        for name in PAGES:
            st.cache_data.clear()
            at = AppTest.from_file(str(VIEWS / f"{name}.py"), default_timeout=1800)
            if components is not None:
                at._bidi_component_manager = components
            sign_in_for_test(at, admin_id)
            if not run:
                at.run()
            else:
                with _statements(engine, statements, name):
                    started = time.perf_counter()
                    at.run()
                    pages[name].append(time.perf_counter() - started)
            if at.exception:
                raise RuntimeError(f"page {name} failed: {[e.value for e in at.exception]}")
    per_query: dict[str, dict] = {}
    for key, samples in _replay(engine, statements, max(repeat, 5)).items():
        page, statement = key.split(": ", 1)
        base = label = f"{page}: {_label(statement)}"
        n = 2
        while label in per_query:  # two statements on the same tables: number them
            label = f"{base} #{n}"
            n += 1
        per_query[label] = _ms(samples) | {"sql": statement[:300]}
    return {name: _ms(v) for name, v in pages.items()}, per_query, _rss_mb()


def _components() -> Any:
    """Streamlit's registry of installed components, scanned once as a dashboard server does at start-up (a fresh
    AppTest scans every installed package's metadata before its first run: 0.5-1.7 s here that no page costs)."""
    try:
        from streamlit.components.v2.component_manager import BidiComponentManager
    except ImportError:  # a Streamlit without them
        return None
    components = BidiComponentManager()
    components.discover_and_register_components(start_file_watching=False)
    return components


def measure_pass(url: str, repeat: int, tag: str) -> dict:
    """p50/p95 per stage of a pass that collects `NEW_POSTS` new posts (stored as a collector stores them)."""
    from kikimimi.db import open_session
    from kikimimi.pipeline import check_alerts
    from kikimimi.search import index_posts
    from kikimimi.settings import load_settings
    from listener.store import store_page
    from nlp_models.analyzer import get_analyzer
    from nlp_models.faq import embed
    from nlp_models.stage import analyse_pending
    from responder import faq
    from responder.drafting import draft_pending
    from responder.posting import post_approved

    from .scale_data import new_posts

    os.environ["KIKIMIMI_DATABASE_URL"] = url
    settings = load_settings(fallback_to_example=True)
    analyzer = get_analyzer(settings.analysis_backend)
    analyzer.analyse(["warm up the models"], addresses_brand=[True])
    embed(["warm up the FAQ encoder?"])  # loading models is start-up, not a pass
    place: Callable[[Any], object]
    if hasattr(faq, "update"):
        # A pass between two scheduled regroups: the full regroup is its own job (`kikimimi faq refresh`, or the
        # pass that finds one due). Without this, a benchmark database built more than `faq_refresh_hours` ago
        # would time a regroup of every question inside its first pass.

        def place(session: Any) -> object:
            return faq.update(session, refresh_hours=NO_REGROUP_HOURS)
    else:  # the code before this benchmark existed: a full re-grouping every pass
        place = faq.refresh
    stages: dict[str, list[float]] = defaultdict(list)
    for k in range(repeat):
        batch = new_posts(NEW_POSTS, tag=f"{tag}-{k}-{time.time_ns()}", seed=k)
        with open_session(settings) as session:
            steps: list[tuple[str, Callable[[], object]]] = [
                ("collect (store 100 posts)", lambda batch=batch: (store_page(session, batch), session.commit())),
                ("search index", lambda: index_posts(session)),
                ("analyse", lambda: analyse_pending(session, analyzer)),
                ("faq", lambda: place(session)),
                ("draft", lambda: draft_pending(session, brands=settings.brands, templates_dir=settings.templates_dir)),
                ("post (dry run)", lambda: post_approved(session, {}, live=False)),
                ("alerts", lambda: check_alerts(session, settings)),
            ]
            total = 0.0
            for name, step in steps:
                started = time.perf_counter()
                step()
                elapsed = time.perf_counter() - started
                stages[name].append(elapsed)
                total += elapsed
            stages["whole pass"].append(total)
    return {name: _ms(v) for name, v in stages.items()}


def _summarise(url: str) -> float:
    """Bring the summaries up to date, as the pipeline pass does (a first build covers every post)."""
    from sqlmodel import Session

    from kikimimi.db import get_engine
    from kikimimi.settings import load_settings
    from responder import hour_counts, sla, sla_facts

    os.environ["KIKIMIMI_DATABASE_URL"] = url
    started = time.perf_counter()
    with Session(get_engine(url)) as session:
        settings = load_settings(fallback_to_example=True)
        sla_facts.refresh(session, settings)
        sla.refresh_hours(session, settings)
        hour_counts.refresh(session)
    return round(time.perf_counter() - started, 1)


def _rss_mb() -> float:
    """Resident memory now (MB): what the pages left behind, not the peak of everything before them."""
    with open("/proc/self/statm") as fh:
        return round(int(fh.read().split()[1]) * resource.getpagesize() / 2**20, 1)


def bench_scale(
    posts: Annotated[int, typer.Option("--posts", help="Posts in the larger database (the smaller holds a tenth).")],
    database_url: Annotated[
        str | None,
        typer.Option(help="A PostgreSQL server (one database per size is created on it) or a SQLite file."),
    ] = None,
    repeat: Annotated[int, typer.Option(help="Runs of each page and passes per size.")] = 3,
    data_dir: Annotated[
        Path | None, typer.Option(help="Where the SQLite databases are kept (reused by size); default: the data dir.")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object for machines.")] = False,
) -> None:
    """Build (or reuse) databases of N and N/10 posts with a brand's real shape; print p50/p95 per page, query and
    pipeline stage at both sizes, and how much each grew."""
    from kikimimi.settings import data_dir as default_data_dir

    from .scale_data import build

    data_dir = data_dir or default_data_dir() / "bench-scale"
    data_dir.mkdir(parents=True, exist_ok=True)
    sizes = sorted({max(posts // 10, 100), posts})
    results: dict[str, Any] = {"posts": sizes, "sizes": {}}
    urls = {size: size_url(database_url, size, data_dir) for size in sizes}
    for size, url in urls.items():
        results["database"] = make_url(url).get_backend_name()
        started = time.perf_counter()
        built = build(url, size, progress=_progress(json_output))
        build_seconds = round(time.perf_counter() - started, 1)
        console.print(
            f"{size} posts at {redact_url(url)}: {'reused' if built.reused else f'built in {build_seconds}s'}"
        )
        summarised = _summarise(url)
        console.print(f"  summaries brought up to date in {summarised}s")
        rss_before = _rss_mb()
        pages, queries, rss = measure_pages(url, repeat)
        results["sizes"][str(size)] = {
            "built_seconds": None if built.reused else build_seconds,
            "rows": built.counts,
            "pages": pages,
            "queries": queries,
            "rss_mb_before_pages": rss_before,
            "rss_mb_after_pages": rss,
        }
    # every size's pages first: a pass loads the analyser and the encoder, which would sit in the pages' memory
    for size, url in urls.items():
        results["sizes"][str(size)]["pipeline"] = measure_pass(url, repeat, tag=f"new{size}")
    results["growth"] = _growth(results["sizes"], sizes)
    if json_output:
        typer.echo(json.dumps(results, ensure_ascii=False, indent=2))
        return
    _print(results, sizes)


def _growth(by_size: dict, sizes: list[int]) -> dict:
    """p95 at N over p95 at N/10, per page, query and stage present at both sizes."""
    if len(sizes) < 2:
        return {}
    small, large = by_size[str(sizes[0])], by_size[str(sizes[-1])]
    out: dict[str, dict[str, float | None]] = {}
    for part in ("pages", "queries", "pipeline"):
        out[part] = {
            name: (
                round(large[part][name]["p95_ms"] / small[part][name]["p95_ms"], 2)
                if small[part][name]["p95_ms"]
                else None
            )
            for name in large[part]
            if name in small[part]
        }
    return out


def _progress(quiet: bool) -> Callable[[str, int, int], None]:
    last: dict[str, float] = {}

    def report(label: str, done: int, total: int) -> None:
        if quiet:
            return
        now = time.monotonic()
        if done >= total or now - last.get(label, 0) > 5:
            last[label] = now
            console.print(f"  building {label}: {done}/{total}")

    return report


def _print(results: dict, sizes: list[int]) -> None:
    out = Console()
    for part in ("pages", "pipeline", "queries"):
        table = Table(title=f"{part} ({results['database']})")
        table.add_column(part[:-1] if part != "pipeline" else "stage")
        for size in sizes:
            table.add_column(f"p50 ms @{size}", justify="right")
            table.add_column(f"p95 ms @{size}", justify="right")
        table.add_column("p95 growth", justify="right")
        large = results["sizes"][str(sizes[-1])][part]
        names = sorted(large, key=lambda n: -large[n]["p95_ms"]) if part == "queries" else list(large)
        for name in names[:25] if part == "queries" else names:
            cells = []
            for size in sizes:
                row = results["sizes"][str(size)][part].get(name)
                cells += [str(row["p50_ms"]), str(row["p95_ms"])] if row else ["-", "-"]
            growth = results["growth"].get(part, {}).get(name)
            table.add_row(name[:90], *cells, "-" if growth is None else f"{growth}x")
        out.print(table)
    for size in sizes:
        figures = results["sizes"][str(size)]
        out.print(
            f"memory before / after the pages @{size}: {figures['rss_mb_before_pages']} / "
            f"{figures['rss_mb_after_pages']} MB"
        )
