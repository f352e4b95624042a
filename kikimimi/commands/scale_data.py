"""A brand's real volume, built fast: a database of N posts with the shape `kikimimi bench scale` measures.

The shape (issue 15): 4 platforms (X 40 %, Reddit, Bluesky and Mastodon 20 % each), English and Japanese evenly,
90 days, one author for every six posts with a skew (a few authors post a lot) and 10 % of display names shared
across platforms, about 30 % of posts brand replies, every post analysed, about 30 % of customer posts questions
and 2 % spam, one draft for every post that needs a reply with the drafts spread over every state, and 35 FAQ
clusters holding most questions (with their embeddings, so a pass only embeds what is new). Rows go in through
the project's own tables in one transaction, in bulk (`scale_bulk`: COPY on PostgreSQL, the tables' triggers and
secondary indexes set aside while they load and their work done afterwards in set-based statements), so a million
posts take minutes; `bulk=False` loads them row by row through the triggers, the reference the bulk path is
tested against. A database already built with the same size and shape is reused: a `Flag` row records the key.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Engine, insert, select, text, update
from sqlmodel import Session, col

from kikimimi.db import get_engine, migrate
from kikimimi.models import (
    Analysis,
    Author,
    Brand,
    DraftState,
    FaqCluster,
    FaqEmbedding,
    FaqMember,
    FaqStatus,
    Flag,
    Post,
    PostGram,
    ReplyDraft,
    Role,
    User,
)
from kikimimi.search import bigrams
from kikimimi.timeutil import utcnow

from . import scale_bulk

log = logging.getLogger(__name__)
SHAPE = "v2"  # bump when the shape below changes: a database built with another shape is rebuilt
PLATFORMS = (("x", 0.4), ("reddit", 0.2), ("bluesky", 0.2), ("mastodon", 0.2))
DAYS = 90
POSTS_PER_AUTHOR = 6
BRAND_REPLY_SHARE = 0.30
QUESTION_SHARE = 0.30  # of customer posts
SPAM_SHARE = 0.02
SHARED_NAME_SHARE = 0.10
IN_CLUSTER_SHARE = 0.85  # of questions: the rest are one-off questions no cluster holds
BRAND = "Komorebi Tea"
ADMIN = "bench-admin"
CHUNK = 5000  # rows per executemany batch
# the tables the builder fills in bulk: their own triggers and secondary indexes wait until the rows are in
BULK_TABLES = ("author", "post", "analysis", "replydraft", "faqembedding", "faqcluster", "faqmember", "postgram")
Progress = Callable[[str, int, int], None]
# Where drafts stand after months of work: most settled, a few waiting, very few in flight or unknown.
DRAFT_STATES = {
    DraftState.drafted: 0.20,
    DraftState.approved: 0.06,
    DraftState.posting: 0.002,
    DraftState.posted: 0.45,
    DraftState.unknown: 0.003,
    DraftState.not_posted: 0.02,
    DraftState.replied_by_hand: 0.10,
    DraftState.rejected: 0.12,
    DraftState.failed: 0.045,
}

# 35 recurring questions, in English and Japanese, each with a few ways to ask it.
TOPICS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "order_status",
        ("Where is my order?", "My order hasn't arrived yet, where is it?"),
        ("注文した商品はいつ届きますか？", "まだ届かないんですが、どうなってますか？"),
    ),
    (
        "order_status",
        ("Can I get a tracking number?", "How do I track my parcel?"),
        ("追跡番号を教えてもらえますか？", "荷物の追跡はどうすればいいですか？"),
    ),
    (
        "order_status",
        ("Do you ship to Canada?", "Can you ship to Canada?"),
        ("カナダに発送できますか？", "カナダへの配送はありますか？"),
    ),
    (
        "order_status",
        ("How long does delivery take?", "How many days until it ships?"),
        ("配送には何日かかりますか？", "発送まで何日ですか？"),
    ),
    (
        "order_status",
        ("Is shipping free over 5000 yen?", "When is shipping free?"),
        ("5000円以上で送料無料ですか？", "送料無料になる条件は？"),
    ),
    (
        "returns_refunds",
        ("How do I return an item?", "What is your return policy?"),
        ("返品はどうすればいいですか？", "返品ポリシーを教えてください"),
    ),
    (
        "returns_refunds",
        ("When will I get my refund?", "My refund hasn't come through, when?"),
        ("返金はいつになりますか？", "返金がまだなんですがいつですか？"),
    ),
    (
        "returns_refunds",
        ("Can I exchange for another flavour?", "Can I swap my tea for a different one?"),
        ("別の味に交換できますか？", "違うお茶と交換してもらえますか？"),
    ),
    (
        "returns_refunds",
        ("The tin arrived dented, can I get a replacement?", "Box was crushed, can you replace it?"),
        ("缶がへこんで届きました、交換できますか？", "箱がつぶれていました、交換は可能ですか？"),
    ),
    (
        "billing_account",
        ("Do you take PayPal?", "Can I pay with PayPal?"),
        ("PayPalは使えますか？", "PayPalで支払えますか？"),
    ),
    (
        "billing_account",
        ("Can I pay at a konbini?", "Is convenience store payment ok?"),
        ("コンビニ払いはできますか？", "コンビニ決済に対応していますか？"),
    ),
    (
        "billing_account",
        ("Why was I charged twice?", "I got billed two times, why?"),
        ("二重に請求されたのはなぜですか？", "2回引き落とされてるんですが？"),
    ),
    (
        "billing_account",
        ("How do I cancel my subscription?", "How can I stop the monthly box?"),
        ("定期便を解約するには？", "サブスクの解約方法は？"),
    ),
    (
        "billing_account",
        ("How do I reset my password?", "I can't log in, how do I reset?"),
        ("パスワードをリセットするには？", "ログインできません、どうすれば？"),
    ),
    (
        "billing_account",
        ("Can I change my delivery address?", "How do I update my address?"),
        ("届け先の住所を変更できますか？", "住所変更はどうすればいいですか？"),
    ),
    (
        "technical_issue",
        ("The app crashes at checkout, any fix?", "Checkout keeps failing in the app, why?"),
        ("アプリが決済で落ちます、直りますか？", "アプリで購入できないのはなぜ？"),
    ),
    (
        "technical_issue",
        ("Is the website down?", "Why won't your site load?"),
        ("サイトが落ちてますか？", "ホームページが開かないのはなぜ？"),
    ),
    (
        "technical_issue",
        ("My coupon code doesn't work, why?", "Why is the discount code rejected?"),
        ("クーポンコードが使えないのはなぜ？", "割引コードが効かないんですが？"),
    ),
    (
        "product_question",
        ("Is the matcha organic?", "Is your matcha certified organic?"),
        ("抹茶はオーガニックですか？", "有機栽培の抹茶ですか？"),
    ),
    (
        "product_question",
        ("How much caffeine is in hojicha?", "Does hojicha have caffeine?"),
        ("ほうじ茶にカフェインはありますか？", "ほうじ茶のカフェイン量は？"),
    ),
    (
        "product_question",
        ("How should I store loose leaf tea?", "Best way to keep tea fresh?"),
        ("茶葉の保存方法は？", "お茶を新鮮に保つには？"),
    ),
    (
        "product_question",
        ("What water temperature for sencha?", "How hot should the water be for sencha?"),
        ("煎茶のお湯の温度は？", "煎茶は何度で淹れればいいですか？"),
    ),
    (
        "product_question",
        ("Is the gift set available again?", "When is the gift box back in stock?"),
        ("ギフトセットは再入荷しますか？", "ギフトボックスの再販はいつですか？"),
    ),
    (
        "product_question",
        ("Do you have decaf options?", "Any caffeine free teas?"),
        ("カフェインレスはありますか？", "ノンカフェインのお茶はありますか？"),
    ),
    (
        "product_question",
        ("Is the packaging recyclable?", "Can I recycle the tins?"),
        ("パッケージはリサイクルできますか？", "缶はリサイクル可能ですか？"),
    ),
    (
        "product_question",
        ("Can I buy in your Kyoto shop?", "Do you have a store in Kyoto?"),
        ("京都の店舗で買えますか？", "京都にお店はありますか？"),
    ),
    (
        "product_question",
        ("Is there a wholesale price?", "Do you sell wholesale to cafes?"),
        ("卸売価格はありますか？", "カフェ向けの卸はしていますか？"),
    ),
    (
        "product_question",
        ("Does the tea contain allergens?", "Any allergy info for the blends?"),
        ("アレルギー表示はありますか？", "ブレンドにアレルゲンは含まれますか？"),
    ),
    (
        "product_question",
        ("Can I gift wrap my order?", "Do you offer gift wrapping?"),
        ("ギフト包装はできますか？", "ラッピングは頼めますか？"),
    ),
    (
        "product_question",
        ("What is the best before date?", "How long does the tea keep?"),
        ("賞味期限はどれくらいですか？", "お茶の消費期限は？"),
    ),
    (
        "product_question",
        ("Do you have a loyalty program?", "Are there points for buying?"),
        ("ポイント制度はありますか？", "会員特典はありますか？"),
    ),
    (
        "product_question",
        ("Is there a sample pack?", "Can I try small sizes first?"),
        ("お試しセットはありますか？", "少量サイズはありますか？"),
    ),
    (
        "product_question",
        ("Is the new spring blend limited?", "How long will the spring blend be sold?"),
        ("春の新ブレンドは限定ですか？", "春限定ブレンドはいつまで？"),
    ),
    (
        "complaint",
        ("Why is customer support so slow?", "Why does nobody answer my emails?"),
        ("サポートの返信が遅いのはなぜ？", "問い合わせに返事がないのはなぜですか？"),
    ),
    (
        "complaint",
        ("Why did the price go up again?", "Why are prices higher now?"),
        ("また値上げしたのはなぜですか？", "価格が上がった理由は？"),
    ),
)
ONE_OFF = ("Anyone else here tried it with oat milk?", "オーツミルクで試した人いますか？")
STATEMENTS = {
    "positive": ("Loving the new matcha, perfect morning ritual", "新しい抹茶おいしい！毎朝の楽しみ"),
    "negative": ("Still no parcel after two weeks, really disappointed", "2週間たっても届かない、がっかり"),
    "neutral": ("Picked up some sencha at the station shop today", "今日は駅の店で煎茶を買った"),
}
SPAM = ("Follow me for FREE crypto giveaways!!! click the link", "無料で稼げる方法はプロフのリンクから！！")
SUFFIXES = ("", " 🙏", " thanks!", " #tea", " 🍵", " ?!", " (asking for a friend)", " 😅")
JA_SUFFIXES = ("", "🙏", "😭", " #お茶", "🍵", "…", "（教えてください）", "✨")
BRAND_REPLIES = (
    "Thanks for reaching out! We've sent you a DM with the details.",
    "お問い合わせありがとうございます。DMで詳細をお送りしました。",
)


@dataclass
class Built:
    """What `build` made (or found): the database URL and row counts by table."""

    url: str
    reused: bool
    counts: dict[str, int]


def shape_key(posts: int) -> str:
    return f"bench-scale:{SHAPE}:{posts}"


def build(url: str, posts: int, *, seed: int = 15, progress: Progress | None = None, bulk: bool = True) -> Built:
    """Build (or reuse) a database of `posts` posts with the shape above at `url` (`bulk`: see the module)."""
    migrate(url)
    engine = get_engine(url)
    key = shape_key(posts)
    with Session(engine) as session:
        flag = session.get(Flag, key)
        if flag is not None and flag.enabled:
            return Built(url, True, _counts(session))
        if session.exec(select(Post.id).limit(1)).first() is not None:  # type: ignore[call-overload]
            raise ValueError(f"{url}: holds other posts; `bench scale` builds only into an empty database")
    _Builder(engine, posts, random.Random(seed), progress or (lambda *_: None), bulk).run()
    with Session(engine) as session:
        session.add(Flag(name=key, enabled=True, reason=f"built by kikimimi bench scale at {utcnow():%Y-%m-%d %H:%M}"))
        session.commit()
    if bulk and engine.dialect.name == "postgresql":  # statistics and the visibility map, as autovacuum leaves them
        _vacuum(engine)
    with Session(engine) as session:
        return Built(url, False, _counts(session))


def _vacuum(engine: Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in BULK_TABLES:
            conn.exec_driver_sql(f'VACUUM (ANALYZE) "{table}"')


def _counts(session: Session) -> dict[str, int]:
    out = {}
    for model in (Post, Author, Analysis, ReplyDraft, FaqCluster, FaqMember, FaqEmbedding, PostGram):
        out[model.__tablename__] = session.execute(text(f"SELECT COUNT(*) FROM {model.__tablename__}")).scalar_one()  # noqa: S608
    return out


class _Builder:
    def __init__(self, engine: Engine, posts: int, rng: random.Random, progress: Progress, bulk: bool) -> None:
        self.engine, self.n, self.rng, self.progress, self.bulk = engine, posts, rng, progress, bulk
        self.now = utcnow()
        self.columns = {m: set(m.__table__.c.keys()) for m in (Post, FaqCluster, Analysis)}  # type: ignore[attr-defined]

    def run(self) -> None:
        with self.engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA synchronous=OFF")
            brand_id = conn.execute(
                insert(Brand).values(name=BRAND, handles=_handles()).returning(Brand.id)
            ).scalar_one()
            conn.execute(insert(User).values(name=ADMIN, role=Role.admin.value, active=True))
            with scale_bulk.suspended(conn, BULK_TABLES) if self.bulk else nullcontext():
                brand_authors = self._brand_authors(conn)
                authors = self._authors(conn)
                customers, replies = self._posts(conn, brand_id, authors, brand_authors)
                self._analyses(conn, customers, replies)
                self._drafts(conn, customers)
                self._faq(conn, customers)
                self._grams(conn)

    # --- authors ---------------------------------------------------------------------------------------------

    def _brand_authors(self, conn: Any) -> dict[str, int]:
        out = {}
        for platform, _ in PLATFORMS:
            out[platform] = conn.execute(
                insert(Author)
                .values(
                    platform=platform,
                    external_id=f"brand-{platform}",
                    handle="komorebitea",
                    display_name=BRAND,
                    is_brand=True,
                    first_seen=self.now,
                    last_seen=self.now,
                )
                .returning(Author.id)
            ).scalar_one()
        return out

    def _authors(self, conn: Any) -> dict[str, list[int]]:
        """Per platform, its authors' ids; 10 % of display names also appear on another platform."""
        customers = int(self.n * (1 - BRAND_REPLY_SHARE))
        names: list[str] = []
        rows = []
        for platform, share in PLATFORMS:
            for i in range(max(1, int(customers * share / POSTS_PER_AUTHOR))):
                if names and self.rng.random() < SHARED_NAME_SHARE:
                    name = self.rng.choice(names)  # the same person (or name) elsewhere
                else:
                    name = self.rng.choice(("Mika", "Ken", "ゆうき", "Sam", "はるか", "Alex", "Aoi", "Jo")) + f" {i}"
                    names.append(name)
                rows.append(
                    {
                        "platform": platform,
                        "external_id": f"{platform}-a{i}",
                        "handle": f"{platform}_user{i}",
                        "display_name": name,
                        "followers_count": int(self.rng.paretovariate(1.2) * 20),
                        "is_brand": False,
                        "first_seen": self.now,
                        "last_seen": self.now,
                    }
                )
        self._insert(conn, Author, rows, "authors")
        out: dict[str, list[int]] = {}
        for author_id, platform in conn.execute(select(Author.id, Author.platform).where(~Author.is_brand)):  # type: ignore[arg-type]
            out.setdefault(platform, []).append(author_id)
        return out

    # --- posts -----------------------------------------------------------------------------------------------

    def _posts(
        self, conn: Any, brand_id: int, authors: dict[str, list[int]], brand_authors: dict[str, int]
    ) -> tuple[list[dict], list[dict]]:
        n_customers = int(self.n * (1 - BRAND_REPLY_SHARE))
        start = self.now - timedelta(days=DAYS)
        customers: list[dict] = []
        weights = [share for _, share in PLATFORMS]
        for i in range(n_customers):
            platform = self.rng.choices([p for p, _ in PLATFORMS], weights)[0]
            pool = authors[platform]
            language = "ja" if i % 2 else "en"
            kind, topic, text = _text(self.rng, language)
            created = start + timedelta(seconds=self.rng.random() * DAYS * 86400)
            ext = f"p{i}"
            customers.append(
                {
                    "platform": platform,
                    "external_id": ext,
                    "author_id": pool[int(len(pool) * self.rng.random() ** 2.5)],  # a few authors post a lot
                    "text": text,
                    "language": language,
                    "url": f"https://{platform}.example/{ext}",
                    "created_at": created,
                    "thread_id": ext,
                    "is_brand_reply": False,
                    "replyable": platform != "x" or self.rng.random() < 0.6,
                    "raw": {"id": ext, "text": text, "lang": language},
                    "_kind": kind,
                    "_topic": topic,
                }
            )
        customers.sort(key=lambda r: r["created_at"])  # ids in time order, as a collector stores them
        for row in customers:
            row["_sentiment"] = self._sentiment(row["_kind"])
            row["_needs_reply"] = row["_kind"] in ("question", "one_off") or row["_sentiment"] == "negative"
        needing = [r for r in customers if r["_needs_reply"]]
        others = [r for r in customers if not r["_needs_reply"] and r["_kind"] != "spam"]
        n_replies = self.n - n_customers
        answered = self.rng.sample(needing, min(len(needing), int(n_replies * 0.8)))
        thanked = self.rng.sample(others, min(len(others), n_replies - len(answered)))
        replies = []
        for k, parent in enumerate(answered + thanked):
            created = min(self.now, parent["created_at"] + timedelta(minutes=self.rng.expovariate(1 / 90)))
            text = BRAND_REPLIES[parent["language"] == "ja"]
            ext = f"r{k}"
            replies.append(
                {
                    "platform": parent["platform"],
                    "external_id": ext,
                    "author_id": brand_authors[parent["platform"]],
                    "text": text,
                    "language": parent["language"],
                    "url": f"https://{parent['platform']}.example/{ext}",
                    "created_at": created,
                    "thread_id": parent["thread_id"],
                    "parent_external_id": parent["external_id"],
                    "is_brand_reply": True,
                    "replyable": True,
                    "raw": {"id": ext, "text": text, "in_reply_to": parent["external_id"]},
                }
            )
        for row in customers:
            row["_answered"] = False
        for parent in answered:
            parent["_answered"] = True
        extra = {"ingested_at": self.now, "brand_id": brand_id, "visibility": "public", "replyable_reason": "api"}
        for flag in ("grams_indexed", "analysed"):  # every post is indexed and analysed below
            if flag in self.columns[Post]:
                extra[flag] = True
        self._insert(conn, Post, [_public(r) | extra for r in customers], "customer posts")
        ids = dict(conn.execute(select(Post.external_id, Post.id).where(~Post.is_brand_reply)).all())  # type: ignore[arg-type]
        for row in customers:
            row["id"] = ids[row["external_id"]]
        self._insert(conn, Post, [r | extra for r in replies], "brand replies")
        for row, (pid,) in zip(
            replies, conn.execute(select(Post.id).where(Post.is_brand_reply).order_by(Post.id)), strict=True
        ):
            row["id"] = pid
        return customers, replies

    def _sentiment(self, kind: str) -> str:
        if kind in ("positive", "negative", "neutral"):
            return kind
        if kind == "question":
            return self.rng.choices(("neutral", "negative", "positive"), (0.7, 0.2, 0.1))[0]
        return "neutral"

    # --- analyses, drafts ------------------------------------------------------------------------------------

    def _analyses(self, conn: Any, customers: list[dict], replies: list[dict]) -> None:
        rows = []
        for r in customers + replies:
            kind = r.get("_kind", "brand")
            sentiment = r.get("_sentiment", "positive")
            question = kind in ("question", "one_off")
            intent = TOPICS[r["_topic"]][0] if r.get("_topic") is not None else _intent(kind)
            scores = {"negative": 0.1, "neutral": 0.2, "positive": 0.1} | {sentiment: 0.7}
            rows.append(
                {
                    "post_id": r["id"],
                    "language": r["language"],
                    "sentiment": sentiment,
                    "sentiment_scores": scores,
                    "is_question": question,
                    "question_score": 0.9 if question else 0.05,
                    "intent": intent,
                    "intent_score": 0.8,
                    "empathy_cues": [],
                    "is_spam": kind == "spam",
                    "needs_reply": bool(r.get("_needs_reply")),
                    "priority": self.rng.random() if r.get("_needs_reply") else 0.0,
                    "backend": "default",
                    "model_versions": {},
                    "analysed_at": self.now,
                }
            )
        self._insert(conn, Analysis, rows, "analyses")

    def _drafts(self, conn: Any, customers: list[dict]) -> None:
        states, weights = zip(*DRAFT_STATES.items(), strict=True)
        rows = []
        for k, r in enumerate(x for x in customers if x["_needs_reply"]):
            # the first ten posts get one draft in each state, the rest as a brand's queue looks after months
            state = list(DraftState)[k] if k < len(DraftState) else self.rng.choices(states, weights)[0]
            created = r["created_at"] + timedelta(minutes=2)
            row = {
                "post_id": r["id"],
                "text": "Thanks for asking! Here is what we know."
                if r["language"] == "en"
                else "お問い合わせありがとうございます。",
                "template": f"{r['language']}/other.j2",
                "created_by": "system",
                "state": state.value,
                "version": 1,
                "attempts": 0,
                "created_at": created,
                "updated_at": created,
            } | dict.fromkeys(_DRAFT_EXTRAS)  # every row the same keys: one executemany
            if state in (DraftState.approved, DraftState.posting, DraftState.posted, DraftState.unknown):
                row |= {"approved_by": ADMIN, "approved_version": 1}
            if state == DraftState.posted:
                row |= {"posted_external_id": f"bench-{r['id']}", "posted_at": created + timedelta(minutes=30)}
            if state == DraftState.posting:
                row |= {"lease_owner": "bench", "lease_expires_at": self.now + timedelta(days=3650)}
            if state == DraftState.unknown:
                row |= {"unknown_since": self.now + timedelta(days=3650)}  # its lookup waits: never settled here
            if state == DraftState.replied_by_hand:
                row |= {"hand_replied_by": ADMIN, "hand_replied_at": created + timedelta(minutes=20)}
            rows.append(row)
        self._insert(conn, ReplyDraft, rows, "drafts")
        # every post that needs a reply has its draft: settled, as drafting leaves them (else the first pass
        # timed walks every one of them); IN, not a correlated EXISTS: the bulk load has no index on the drafts'
        # post ids yet, and SQLite would scan them all once per analysis
        drafted = col(Analysis.post_id).in_(select(ReplyDraft.post_id))
        conn.execute(update(Analysis).where(col(Analysis.needs_reply), drafted).values(draft_checked=True))

    # --- FAQ -------------------------------------------------------------------------------------------------

    def _faq(self, conn: Any, customers: list[dict]) -> None:
        """One cluster per topic, holding its questions; every question's embedding stored (the one-offs too)."""
        from nlp_models.faq import embed, model_version  # heavy: only when building

        questions = [r for r in customers if r["_kind"] in ("question", "one_off")]
        distinct = sorted({r["text"] for r in questions})
        self.progress("embeddings", 0, len(distinct))
        vectors = dict(zip(distinct, embed(distinct), strict=True))
        self.progress("embeddings", len(distinct), len(distinct))
        version = model_version()
        self._insert(
            conn,
            FaqEmbedding,
            [{"post_id": r["id"], "model_version": version, "vector": vectors[r["text"]].tobytes()} for r in questions],
            "embeddings",
        )
        by_topic: dict[int, list[dict]] = {}
        for r in questions:
            if r["_topic"] is not None:
                by_topic.setdefault(r["_topic"], []).append(r)
        members = []
        for topic, rows in sorted(by_topic.items()):
            en = TOPICS[topic][1][0]
            values: dict[str, Any] = {
                "label": en,
                "representative_question": en,
                "representatives": {"en": en, "ja": TOPICS[topic][2][0]},
                "key_phrases": [],
                "status": (FaqStatus.accepted if topic % 5 == 0 else FaqStatus.candidate).value,
                "answer_en": "See komorebi.example/help." if topic % 5 == 0 else None,
                "answer_ja": "komorebi.example/help をご覧ください。" if topic % 5 == 0 else None,
                "size": len(rows),
                "first_seen": min(r["created_at"] for r in rows),
                "last_seen": max(r["created_at"] for r in rows),
                "pinned": topic % 5 == 0,
                "renamed": False,
                "created_at": self.now,
                "updated_at": self.now,
            }
            if "embedding_sum" in self.columns[FaqCluster]:
                values["embedding_sum"] = np.sum([vectors[r["text"]] for r in rows], axis=0, dtype=np.float32).tobytes()
            cluster_id = conn.execute(insert(FaqCluster).values(**values).returning(FaqCluster.id)).scalar_one()
            members.extend({"post_id": r["id"], "cluster_id": cluster_id, "similarity": 0.9} for r in rows)
        self._insert(conn, FaqMember, members, "FAQ members")
        if "faq_checked" in self.columns[Analysis]:  # the questions seen by the FAQ step, as a pass leaves them
            seen = select(FaqEmbedding.post_id).where(col(FaqEmbedding.post_id) == col(Analysis.post_id)).exists()
            member = select(FaqMember.post_id).where(col(FaqMember.post_id) == col(Analysis.post_id)).exists()
            brand = select(Post.id).where(col(Post.id) == col(Analysis.post_id), col(Post.is_brand_reply)).exists()
            conn.execute(
                update(Analysis).where(col(Analysis.is_question), seen | member | brand).values(faq_checked=True)
            )
        if conn.dialect.has_table(conn, "lease"):  # the last full re-grouping: now, so a pass only places
            from kikimimi.models import Lease

            conn.execute(insert(Lease).values(name="faq_refresh", finished_at=self.now))

    # --- full-text index ---------------------------------------------------------------------------------------

    def _grams(self, conn: Any) -> None:
        """Every post's bigrams, as `kikimimi.search.index_posts` would store them (computed once per text)."""
        cache: dict[str, list[str]] = {}
        total = conn.execute(text("SELECT COUNT(*) FROM post")).scalar_one()
        if self.bulk:  # a few hundred distinct texts: their grams once, joined to the posts in one statement
            self.progress("search index", 0, total)
            conn.exec_driver_sql("CREATE TEMPORARY TABLE bench_gram (text VARCHAR NOT NULL, gram VARCHAR(2) NOT NULL)")
            texts = [body for (body,) in conn.execute(select(Post.text).distinct())]  # type: ignore[call-overload]
            grams = ({"text": body, "gram": gram} for body in texts for gram in sorted(bigrams(body)))
            conn.execute(text("INSERT INTO bench_gram (text, gram) VALUES (:text, :gram)"), list(grams))
            conn.exec_driver_sql(
                "INSERT INTO postgram (post_id, gram) "
                "SELECT p.id, g.gram FROM post p JOIN bench_gram g ON g.text = p.text"
            )
            conn.exec_driver_sql("DROP TABLE bench_gram")
            self.progress("search index", total, total)
            return

        def rows() -> Iterator[dict]:
            for pid, body in conn.execute(select(Post.id, Post.text)).all():
                grams = cache.get(body)
                if grams is None:
                    grams = cache[body] = sorted(bigrams(body))
                for gram in grams:
                    yield {"post_id": pid, "gram": gram}

        self._insert(conn, PostGram, rows(), "search index", total=total)

    def _insert(
        self, conn: Any, model: type, rows: Sequence[dict] | Iterator[dict], label: str, total: int | None = None
    ) -> None:
        table = model.__table__  # type: ignore[attr-defined]
        batch: list[dict] = []
        done = 0
        expected = total if total is not None else len(rows)  # type: ignore[arg-type]
        if self.bulk and conn.dialect.name == "postgresql" and expected:
            rows = list(rows)
            columns = list(rows[0])
            self.progress(label, 0, expected)
            scale_bulk.copy_rows(conn, table, rows, columns)
            self.progress(label, expected, expected)
            return
        for row in rows:
            batch.append(row)
            if len(batch) >= CHUNK:
                conn.execute(insert(table), batch)
                done += len(batch)
                batch = []
                self.progress(label, min(done, expected), expected)
        if batch:
            conn.execute(insert(table), batch)
        self.progress(label, expected, expected)


def _text(rng: random.Random, language: str) -> tuple[str, int | None, str]:
    """(kind, topic, text) of one customer post: spam, a recurring question, a one-off question or a statement."""
    ja = language == "ja"
    suffix = rng.choice(JA_SUFFIXES if ja else SUFFIXES)
    roll = rng.random()
    if roll < SPAM_SHARE:
        return "spam", None, SPAM[ja] + suffix
    if roll < SPAM_SHARE + QUESTION_SHARE:
        if rng.random() > IN_CLUSTER_SHARE:
            return "one_off", None, ONE_OFF[ja] + suffix
        topic = rng.randrange(len(TOPICS))
        return "question", topic, rng.choice(TOPICS[topic][2 if ja else 1]) + suffix
    sentiment = rng.choices(("positive", "negative", "neutral"), (0.35, 0.2, 0.45))[0]
    return sentiment, None, STATEMENTS[sentiment][ja] + suffix


_DRAFT_EXTRAS = (
    "approved_by",
    "approved_version",
    "posted_external_id",
    "posted_at",
    "lease_owner",
    "lease_expires_at",
    "unknown_since",
    "hand_replied_by",
    "hand_replied_at",
)


def _public(row: dict) -> dict:
    return {k: v for k, v in row.items() if not k.startswith("_") and k != "id"}


def _intent(kind: str) -> str:
    return {"negative": "complaint", "positive": "praise", "spam": "other"}.get(kind, "other")


def _handles() -> dict[str, list[str]]:
    return {platform: ["komorebitea"] for platform, _ in PLATFORMS}


def new_posts(count: int, *, tag: str, now: datetime | None = None, seed: int = 0) -> list[Any]:
    """`count` new posts (as a collector would yield them, `PostCreate`) with the same shape, for a pipeline pass."""
    from kikimimi.models import AuthorCreate, PostCreate

    rng = random.Random(seed)
    now = now or utcnow()
    out = []
    for i in range(count):
        platform = rng.choices([p for p, _ in PLATFORMS], [s for _, s in PLATFORMS])[0]
        language = "ja" if i % 2 else "en"
        _, _, body = _text(rng, language)
        ext = f"{tag}-{i}"
        out.append(
            PostCreate(
                platform=platform,
                external_id=ext,
                text=body,
                language=language,
                url=f"https://{platform}.example/{ext}",
                created_at=now - timedelta(minutes=rng.random() * 30),
                thread_id=ext,
                replyable=True,
                replyable_reason="api",
                raw={"id": ext, "text": body},
                author=AuthorCreate(
                    platform=platform, external_id=f"{platform}-a{rng.randrange(50)}", handle=f"{platform}_user"
                ),
            )
        )
    return out
