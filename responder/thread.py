"""What a draft knows of the thread it answers: the parent, the posts before it, the brand's earlier replies.

So a reply does not ask for an order number the customer already gave (in this post or earlier in the thread),
and does not repeat what the brand already said there.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from kikimimi.models import Post

__all__ = ["Thread", "thread_of", "order_reference", "sentences", "drop_repeated"]

_MAX_HOPS = 20  # how far up a reply chain the parent walk goes (a long support exchange, not a whole forum)
# "order #KT-20418", "order number is 123456", "注文番号：KT-55555", "#KT-20418": an id with at least 4 digits
_ORDER = re.compile(
    r"(?:\border\b|注文)\s*(?:number|no\.?|num|id|番号)?\s*(?:is|was|は|:|：)?\s*[#＃]?\s*"
    r"(?P<a>[A-Z]{0,4}-?[0-9０-９]{4,}[A-Z0-9-]*)"
    r"|[#＃](?P<b>[A-Z]{1,4}-?[0-9]{4,})",
    re.IGNORECASE,
)
_GREETING = re.compile(r"^(?:(?:hi|hello|dear)\b[^,.!?]{0,40},\s*|[^、。]{1,16}(?:さん|様)、)", re.IGNORECASE)
_SENTENCE = re.compile(r"[^。！？!?.]+[。！？!?.]*")


@dataclass
class Thread:
    """The post's parent, the thread's earlier posts (oldest first), and the brand's replies among them."""

    parent: Post | None = None
    earlier: list[Post] = field(default_factory=list)

    @property
    def brand_replies(self) -> list[Post]:
        return [p for p in self.earlier if p.is_brand_reply]


def thread_of(session: Session, post: Post) -> Thread:
    """The thread around `post` as stored: its reply chain upwards, and the thread's posts written before it."""
    seen: dict[int, Post] = {}
    parent = None
    current = post
    for _ in range(_MAX_HOPS):
        if not current.parent_external_id:
            break
        up = session.exec(
            select(Post).where(Post.platform == post.platform, Post.external_id == current.parent_external_id)
        ).first()
        if up is None or up.id in seen:
            break
        parent = parent or up
        seen[up.id] = up  # type: ignore[index]
        current = up
    if post.thread_id:
        # the thread's posts and its root, each by its own index (an OR of the two would read every post); the
        # time is checked here, so no (platform, created_at) index can tempt SQLite into reading the platform's posts
        for same in (col(Post.thread_id) == post.thread_id, col(Post.external_id) == post.thread_id):
            same_thread = session.exec(select(Post).where(Post.platform == post.platform, same)).all()
            seen.update({p.id: p for p in same_thread if p.id != post.id and p.created_at <= post.created_at})  # type: ignore[misc]
    earlier = sorted((p for p in seen.values() if p.deleted_at is None), key=lambda p: (p.created_at, p.id or 0))
    return Thread(parent=parent, earlier=earlier)


def order_reference(post: Post, thread: Thread) -> str | None:
    """The order number the customer already gave, in this post or in their earlier posts of the thread."""
    theirs = [post] + [p for p in reversed(thread.earlier) if p.author_id == post.author_id and not p.is_brand_reply]
    for item in theirs:
        match = _ORDER.search(item.text or "")
        if match:
            return unicodedata.normalize("NFKC", match.group("a") or match.group("b")).upper()
    return None


def sentences(text: str) -> list[str]:
    """`text` cut into sentences (English and Japanese punctuation), each with its end mark."""
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def _key(sentence: str) -> str:
    sentence = _GREETING.sub("", re.sub(r"^(?:@\S+\s*)+", "", sentence))
    return re.sub(r"\W+", "", unicodedata.normalize("NFKC", sentence).lower())


def drop_repeated(text: str, thread: Thread) -> str:
    """`text` without the sentences the brand already wrote in this thread (greetings aside); the greeting stays.

    Returns "" when nothing but the greeting would be left: the caller writes a follow-up instead.
    """
    said = {_key(s) for reply in thread.brand_replies for s in sentences(reply.text)}
    said.discard("")
    parts = sentences(text)
    if not said or not parts:
        return text
    greeting = _GREETING.match(parts[0])
    kept = [s for s in parts if _key(s) not in said]
    if len(kept) == len(parts):
        return text
    if not kept:
        return ""
    if greeting and not kept[0].startswith(greeting.group(0)):
        kept[0] = greeting.group(0) + kept[0]
    joiner = "" if re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", text) else " "
    return joiner.join(kept)
