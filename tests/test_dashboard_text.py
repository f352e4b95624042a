"""Post text shown as text: crafted posts (image beacons, disguised links, headings, HTML, breakouts from a link)
render on the queue page as the characters they are; the only link is ours, to the stored http(s) URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from dashboard.auth import sign_in_for_test
from dashboard.safe import md_link, md_text
from kikimimi.db import open_session
from kikimimi.models import Analysis, ReplyDraft, User
from listener.store import upsert_posts
from tests.conftest import make_post

PAGES = Path(__file__).parent.parent / "dashboard" / "views"
CRAFTED = [
    "![beacon](https://tracker.example/pixel.png?u=manager)",
    "[your refund](javascript:alert(document.cookie))",
    "# Official notice from the brand\n---",
    '<img src="https://tracker.example/p.png" onerror="alert(1)"><script>alert(1)</script>',
    "<https://phish.example/login>",
    "**URGENT** _approve_ now :red[hacked] $\\LaTeX$",
    "[![x](https://tracker.example/i.png)](https://phish.example)",
]
markdown = MarkdownIt("commonmark").enable("table")


def rendered(source: str) -> str:
    return markdown.render(source)


@pytest.mark.parametrize("text", CRAFTED)
def test_escaped_text_renders_as_its_own_characters(text):
    html = rendered(md_text(text))
    assert "<img" not in html and "<a " not in html and "<h1" not in html and "<script" not in html
    assert "<strong>" not in html and "<hr" not in html


@pytest.mark.parametrize(
    "url,kept",
    [
        ("https://x.com/mika/status/1", True),
        ("javascript:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("https://x.com/a) [evil](https://phish.example", True),
        ("not a url", False),
    ],
)
def test_links_are_ours_and_cannot_be_broken_out_of(url, kept):
    html = rendered(md_link("open", url))
    assert (html.count("<a ") == 1) is kept
    if kept:
        assert html.count("href=") == 1 and 'href="https://x.com/' in html and ">open</a>" in html


def test_the_queue_page_shows_crafted_posts_as_text(settings, monkeypatch):
    with open_session(settings) as s:
        posts = [
            make_post(
                str(i),
                platform="mastodon",
                text=text,
                url="https://mastodon.example/@a/1) ![x](https://tracker.example/q.png" if i == 0 else None,
            )
            for i, text in enumerate(CRAFTED)
        ]
        ids = upsert_posts(s, posts).new_post_ids
        for post_id in ids:
            s.add(Analysis(post_id=post_id, language="en", sentiment="neutral", intent="other", needs_reply=True))
            s.add(ReplyDraft(post_id=post_id, text="Thanks for writing!"))
        s.commit()
    monkeypatch.setenv("KIKIMIMI_DATABASE_URL", settings.database_url)
    at = AppTest.from_file(str(PAGES / "queue.py"), default_timeout=60)
    with open_session(settings) as s:
        sign_in_for_test(at, s.exec(select(User.id).where(User.name == "admin")).one())  # the first admin
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    html = "\n".join(rendered(m.value) for m in at.markdown)
    assert "<img" not in html and "<script" not in html and "<h1" not in html and 'href="javascript' not in html
    assert html.count("<a ") == 1 and 'href="https://mastodon.example/@a/1%29%20!%5Bx%5D' in html
    assert "tracker.example/pixel.png" in html  # the beacon's address is shown as text, never fetched
