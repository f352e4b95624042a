"""Full-text search through the character-bigram index: Japanese two-character words, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from kikimimi.models import Post
from kikimimi.search import bigrams, index_posts, search_post_ids
from listener.store import upsert_posts
from tests.conftest import make_post
from tests.postgres_server import postgres_session

POSTS = {
    "a": "送料はいくらですか？",
    "b": "料金と送付先を教えて",  # has 送 and 料 but never 送料
    "c": "Do you offer a REFUND on damaged tins?",
    "d": "This is so much fun",
    "e": "ｿｳﾘｮｳ無料になりますか",  # half-width katakana: ソウリョウ after NFKC
    "f": "抹茶 ラテ",
    "g": "Tea, then we ate",  # has the grams te, ea, at of "teat", never the word
}


def stored(session: Session) -> dict[str, int]:
    upsert_posts(session, [make_post(k, text=t) for k, t in POSTS.items()])
    index_posts(session)
    return {p.external_id: p.id for p in session.exec(select(Post))}


def found(session: Session, ids: dict[str, int], query: str) -> list[str]:
    by_id = {v: k for k, v in ids.items()}
    return sorted(by_id[i] for i in search_post_ids(session, query))


def check_search(session: Session) -> None:
    ids = stored(session)
    assert found(session, ids, "送料") == ["a"]  # 料金と送付先 has both characters, not the word
    assert found(session, ids, "refund") == ["c"] and found(session, ids, "Refund tins") == ["c"]
    assert found(session, ids, "fun") == ["c", "d"]  # refund contains it
    assert found(session, ids, "teat") == []  # every gram is there, the word is not
    assert found(session, ids, "ソウリョウ") == ["e"]
    assert found(session, ids, "抹茶 ラテ") == ["f"] and found(session, ids, "抹") == ["f"]
    assert found(session, ids, "配送") == []


def test_bigrams_fold_width_and_case():
    assert bigrams("送料") == {"送料"}
    assert bigrams("ＡＢ c") == {"ab"}
    assert bigrams("ｿｳ") == {"ソウ"}


def test_japanese_two_character_words_are_found_on_sqlite(session):
    check_search(session)


def test_reindexing_follows_edited_text(session):
    ids = stored(session)
    post = session.get(Post, ids["f"])
    post.text = "送料無料の抹茶"
    session.add(post)
    session.commit()
    index_posts(session, [post.id])
    assert found(session, ids, "送料") == ["a", "f"]


@pytest.mark.integration
def test_japanese_two_character_words_are_found_on_postgres():
    with postgres_session() as session:
        check_search(session)
