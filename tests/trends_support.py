"""A small, fully known database for the trends and service-level tests: our brand's query and a competitor's,
posts stored through the collector's own store (so the post–query links are the real ones), analyses and
answers of every kind, on SQLite or PostgreSQL alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from kikimimi.models import Analysis, AuthorCreate, DraftState, PostCreate, ReplyDraft
from kikimimi.settings import BrandConfig, QueryConfig
from listener.runner import ensure_target
from listener.store import store_page

BRAND = BrandConfig(
    name="Komorebi Tea",
    handles={"x": ["komorebi_tea"], "reddit": ["KomorebiTeaCo"]},
    automated_handles={"x": ["komorebi_bot"], "reddit": ["komorebi_bot"]},
    queries=[
        QueryConfig(name="brand", keywords=["komorebi"]),
        QueryConfig(name="Rival Tea", keywords=["rival"], competitor=True),
    ],
)


@dataclass
class Seeded:
    ids: dict[str, int]  # our name for a post -> its id
    brand_query: int
    rival_query: int


def _author(handle: str, platform: str) -> AuthorCreate:
    return AuthorCreate(platform=platform, external_id=f"a-{handle}", handle=handle, display_name=handle.title())


def _post(key: str, platform: str, at: datetime, text: str, author: str, **extra) -> PostCreate:
    return PostCreate(
        platform=platform,
        external_id=key,
        text=text,
        created_at=at,
        replyable=True,
        replyable_reason="test",
        author=_author(author, platform),
        **extra,
    )


def seed(session: Session, now: datetime) -> Seeded:
    """Six posts of ours that need a reply (two answered fast, one by hand, one only by a bot, two open), a
    competitor's post, a post both queries matched, a follow-up, brand replies and drafts. See the tests."""
    ours, rival = (ensure_target(session, BRAND, q) for q in BRAND.queries)
    session.commit()
    day = timedelta(days=1)
    customer = [  # key, platform, created, language, sentiment, needs reply, author
        ("p1", "x", now - 3 * day, "ja", "negative", True, "yui"),
        ("p2", "x", now - 3 * day + timedelta(hours=1), "ja", "neutral", True, "eri"),
        ("p3", "reddit", now - 2 * day, "en", "negative", True, "mika"),
        ("p4", "reddit", now - 2 * day + timedelta(hours=2), "en", "neutral", True, "sam"),
        ("p5", "x", now - day, "en", "positive", False, "lee"),
        ("p6", "x", now - timedelta(minutes=30), "ja", "neutral", True, "ken"),
        ("p8", "x", now - timedelta(hours=20), "en", "negative", True, "ann"),
        ("p9", "reddit", now - 2 * day + timedelta(hours=31), "en", "neutral", False, "mika"),
    ]
    posts = {key: _post(key, p, at, f"komorebi {key}", who) for key, p, at, _, _, _, who in customer}
    competitor_only = _post("p7", "x", now - day, "rival tea is late again", "zoe")
    both = posts.pop("p8").model_copy(update={"text": "komorebi or rival?"})
    replies = [
        _post("r1", "x", now - 3 * day + timedelta(minutes=10), "sorry!", "komorebi_tea", parent_external_id="p1"),
        _post(
            "r4",
            "reddit",
            now - 2 * day + timedelta(hours=2, minutes=1),
            "auto",
            "komorebi_bot",
            parent_external_id="p4",
        ),
    ]
    replies = [r.model_copy(update={"is_brand_reply": True}) for r in replies]
    store_page(session, [competitor_only, both], brand_id=rival.brand_id, query_id=rival.query_id)
    store_page(session, [*posts.values(), both, *replies], brand_id=ours.brand_id, query_id=ours.query_id)
    session.commit()
    from sqlmodel import select

    from kikimimi.models import Post

    ids = {p.external_id: p.id for p in session.exec(select(Post))}
    facts = {key: (language, sentiment, needs) for key, _, _, language, sentiment, needs, _ in customer}
    facts["p7"] = ("en", "negative", True)
    for key, (language, sentiment, needs) in facts.items():
        session.add(
            Analysis(
                post_id=ids[key],
                language=language,
                sentiment=sentiment,
                intent="complaint" if sentiment == "negative" else "other",
                needs_reply=needs,
            )
        )
    for key in ("r1", "r4"):
        session.add(Analysis(post_id=ids[key], language="en", sentiment="neutral", intent="other"))
    session.add(
        ReplyDraft(post_id=ids["p2"], text="ok", state=DraftState.posted, posted_at=now - 3 * day + timedelta(hours=4))
    )
    session.add(
        ReplyDraft(
            post_id=ids["p3"],
            text="ok",
            state=DraftState.replied_by_hand,
            hand_replied_by="rin",
            hand_replied_at=now - 2 * day + timedelta(hours=30),
        )
    )
    session.commit()
    return Seeded(ids=ids, brand_query=ours.query_id, rival_query=rival.query_id)
