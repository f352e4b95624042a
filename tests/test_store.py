from sqlmodel import func, select

from kikimimi.models import Author, AuthorCreate, Post
from listener.store import upsert_posts
from tests.conftest import make_post


def test_upsert_twice_stores_each_post_once(session):
    posts = [make_post(str(i)) for i in range(5)]
    first = upsert_posts(session, posts)
    session.commit()
    second = upsert_posts(session, posts)
    session.commit()
    assert (first.new, first.duplicates) == (5, 0)
    assert (second.new, second.duplicates) == (0, 5)
    assert session.exec(select(func.count()).select_from(Post)).one() == 5


def test_duplicates_inside_one_batch_are_counted(session):
    result = upsert_posts(session, [make_post("1"), make_post("1"), make_post("2")])
    assert (result.new, result.duplicates) == (2, 1)


def test_same_external_id_on_two_platforms_are_two_posts(session):
    result = upsert_posts(session, [make_post("7", platform="x"), make_post("7", platform="mastodon")])
    assert result.new == 2


def test_author_details_are_refreshed_not_duplicated(session):
    author = AuthorCreate(platform="x", external_id="u1", handle="old", followers_count=5)
    upsert_posts(session, [make_post("1", author=author)])
    renamed = author.model_copy(update={"handle": "new", "followers_count": 900})
    upsert_posts(session, [make_post("2", author=renamed)])
    session.commit()
    authors = session.exec(select(Author)).all()
    assert len(authors) == 1 and (authors[0].handle, authors[0].followers_count) == ("new", 900)
    assert {p.author_id for p in session.exec(select(Post))} == {authors[0].id}


def test_large_batches_are_chunked(session):
    result = upsert_posts(session, [make_post(str(i)) for i in range(1500)])
    assert result.new == 1500
