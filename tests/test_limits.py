"""Platform limits: a reply is counted as its platform counts it, and one over the limit cannot be approved."""

import pytest
from sqlmodel import select

from kikimimi.errors import IllegalTransition
from kikimimi.models import DraftState, Post, ReplyDraft
from listener.store import upsert_posts
from responder.limits import reply_length, x_weighted_length
from responder.workflow import transition
from tests.conftest import make_post


@pytest.mark.parametrize(
    ("text", "weighted"),
    [
        ("hello", 5),
        ("ご注文ありがとうございます", 26),  # CJK counts double on X
        ("café", 4),  # NFC: é is one character
        ("😍", 2),
        ("👍🏽", 2),  # an emoji with its skin-tone modifier is one emoji
        ("👨‍👩‍👧", 2),  # a family joined by zero-width joiners too
        ("details: https://komorebi.example/help/shipping/international?lang=en thanks", 9 + 23 + 7),
    ],
)
def test_x_counts_weighted_characters(text, weighted):
    assert x_weighted_length(text) == weighted


def test_each_platform_counts_its_own_way():
    family = "👨‍👩‍👧"
    assert reply_length("bluesky", family * 300).used == 300 and not reply_length("bluesky", family * 300).over
    assert reply_length("bluesky", family * 301).over
    mention = "@aki@mastodon.social thanks! https://komorebi.example/" + "a" * 200
    assert reply_length("mastodon", mention).used == len("@aki thanks! ") + 23
    assert reply_length("reddit", "a" * 10_000).limit == 10_000 and not reply_length("reddit", "a" * 10_000).over
    assert reply_length("mastodon", "a" * 501).describe() == "501 of 500 characters"


def _draft(session, platform: str, text: str) -> ReplyDraft:
    upsert_posts(session, [make_post("9", platform=platform)])
    post = session.exec(select(Post).where(Post.platform == platform)).one()
    draft = ReplyDraft(post_id=post.id, text=text)
    session.add(draft)
    session.commit()
    return draft


def test_a_japanese_reply_over_x_limit_cannot_be_approved_until_shortened(session, users):
    long_reply = "山田様、ご連絡ありがとうございます。" * 8  # 144 CJK characters: 288 weighted
    draft = _draft(session, "x", long_reply)
    with pytest.raises(IllegalTransition, match=r"too long for x: 288 of 280 weighted characters"):
        transition(session, draft, "approve", users["approver"])
    session.rollback()
    assert session.get(ReplyDraft, draft.id).state == DraftState.drafted
    transition(session, draft, "edit", users["responder"], text="山田様、ご連絡ありがとうございます。" * 7)
    transition(session, draft, "approve", users["approver"])
    assert draft.state == DraftState.approved


def test_the_same_reply_fits_on_mastodon(session, users):
    draft = _draft(session, "mastodon", "山田様、ご連絡ありがとうございます。" * 8)
    transition(session, draft, "approve", users["approver"])
    assert draft.state == DraftState.approved
