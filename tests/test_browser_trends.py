"""The trends and service-level pages in a real browser (the fixtures of tests/test_browser.py: Debian's chromium,
`streamlit run` on 127.0.0.1, the demo database), with a competitor's query added to the demo."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from kikimimi.models import Analysis, Author, AuthorCreate, Post, PostCreate, ReplyDraft
from kikimimi.search import index_posts
from kikimimi.settings import EXAMPLE_CONFIG, QueryConfig, load_settings
from listener.runner import ensure_target
from listener.store import store_page
from responder.drafting import draft_pending
from tests.conftest import TEST_NOW
from tests.test_browser import SHOTS, TIMEOUT_MS, browser, choose, server, settle, sign_in, sync_api  # noqa: F401 - fixtures
from tests.test_browser import pytestmark as browser_marks

pytestmark = browser_marks  # chromium present, and not under libfaketime, as for every browser test
RIVAL = QueryConfig(name="Rival Tea", keywords=["rival tea"], competitor=True)
RIVAL_TEXT = "Rival Tea lost my order again"


@pytest.fixture(scope="module")
def rival(server):  # noqa: F811 - the fixture imported above
    """A competitor's query with a post of its own, and one of the demo's posts that it also matched."""
    with server.session() as s:
        brand = load_settings(EXAMPLE_CONFIG).brands[0]
        target = ensure_target(s, brand.model_copy(update={"queries": [*brand.queries, RIVAL]}), RIVAL)
        shared = s.exec(select(Post).where(~Post.is_brand_reply).order_by(Post.created_at.desc())).first()
        own = PostCreate(
            platform="x",
            external_id="rival-1",
            text=RIVAL_TEXT,
            created_at=TEST_NOW - timedelta(hours=3),
            author=AuthorCreate(platform="x", external_id="rival-fan", handle="rival_fan"),
        )
        writer = s.get(Author, shared.author_id)
        copy = PostCreate(
            platform=shared.platform,
            external_id=shared.external_id,
            text=shared.text,
            created_at=shared.created_at,
            author=AuthorCreate.model_validate(writer.model_dump()),
        )
        store_page(s, [own, copy], brand_id=target.brand_id, query_id=target.query_id)
        s.commit()
        post = s.exec(select(Post).where(Post.external_id == "rival-1")).one()
        s.add(Analysis(post_id=post.id, language="en", sentiment="negative", intent="complaint", needs_reply=True))
        s.commit()
        index_posts(s)  # searchable in the queue, like every collected post
        draft_pending(s, brands=[brand])
        assert s.exec(select(ReplyDraft).where(ReplyDraft.post_id == post.id)).first() is None
        return post.id


def full_shot(tab, name: str) -> None:  # noqa: ANN001
    """The whole page once its charts are drawn (Streamlit scrolls inside the page, so the window grows to fit)."""
    tab.locator("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg").first.wait_for()
    tab.set_viewport_size({"width": 1400, "height": 4200})
    tab.wait_for_timeout(2500)
    tab.screenshot(path=str(SHOTS / f"{name}.png"))
    tab.set_viewport_size({"width": 1400, "height": 1000})
    settle(tab)


@pytest.fixture
def page(browser, server):  # noqa: ANN001, ANN201, F811 - test_browser.py's, with downloads accepted
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US", accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def download(tab, key: str) -> str:  # noqa: ANN001
    """What the download button with widget key `key` hands out, as the browser saved it."""
    with tab.expect_download() as info:
        tab.locator(f".st-key-{key} button").click()
    with open(info.value.path(), encoding="utf-8-sig") as fh:
        return fh.read()


def test_trends_filters_by_language_and_shows_the_competitor_in_share_of_voice(page, server, rival):  # noqa: F811
    sign_in(page, server, "aki")
    page.goto(f"{server.url}/trends")
    page.get_by_role("heading", name="Share of voice").wait_for()
    settle(page)
    full_shot(page, "after-trends")
    voice = list(csv.DictReader(io.StringIO(download(page, "voice-csv"))))
    assert {"brand", "Rival Tea"} <= {row["query"] for row in voice}
    assert any(row["query"] == "Rival Tea" and row["competitor"] == "True" for row in voice)
    everything = list(csv.DictReader(io.StringIO(download(page, "trend-csv"))))
    assert {row["language"] for row in everything} >= {"en", "ja"}
    posts = page.locator("[data-testid='stMetricValue']").first
    shown = posts.inner_text()
    assert shown == str(sum(int(r["posts"]) for r in everything))  # the tile and the export agree
    choose(page, "trend-languages", "ja")
    sync_api.expect(posts).not_to_have_text(shown, timeout=TIMEOUT_MS)  # the page has redrawn with the filter
    settle(page)
    japanese = list(csv.DictReader(io.StringIO(download(page, "trend-csv"))))
    assert japanese and {row["language"] for row in japanese} == {"ja"}
    assert posts.inner_text() == str(sum(int(r["posts"]) for r in japanese))
    voice_ja = list(csv.DictReader(io.StringIO(download(page, "voice-csv"))))
    assert sum(int(r["posts"]) for r in voice_ja) < sum(int(r["posts"]) for r in voice)
    full_shot(page, "after-trends-japanese")


def test_a_competitors_post_is_never_in_the_reply_queue(page, server, rival):  # noqa: F811
    sign_in(page, server, "aki")
    box = page.locator(".st-key-search input")
    box.fill("Rival Tea lost")
    box.press("Enter")
    settle(page)
    sync_api.expect(page.locator("[class*='st-key-card-']")).to_have_count(0)  # once the search has run
    assert page.get_by_text(RIVAL_TEXT).count() == 0


def test_service_levels_ladder_adds_up_and_thin_days_are_not_medians(page, server, rival):  # noqa: F811
    sign_in(page, server, "aki")
    page.goto(f"{server.url}/service_level")
    page.get_by_role("heading", name="Service ladder").wait_for()
    settle(page)
    full_shot(page, "after-service-levels")
    text = page.locator("[data-testid='stMain']").inner_text()
    needing = int(re.search(r"Every one of the (\d+) posts that needed a reply", text).group(1))
    levels = r"Stellar: (\d+) · Above average: (\d+) · Average: (\d+) · Below average: (\d+) · Unacceptable: (\d+)"
    ladder = re.search(levels + r" — (\d+) in all", text)
    assert ladder and sum(int(n) for n in ladder.groups()[:5]) == int(ladder.group(6)) == needing
    assert f"of {needing} posts that needed a reply" in text
    daily = list(csv.DictReader(io.StringIO(download(page, "sla-daily-csv"))))
    thin = [row for row in daily if int(row["answered"]) < 3]
    assert thin and all(row["enough"] == "False" for row in thin)
    assert "Grey ticks: days with fewer than 3 replies, too few for a median." in text
