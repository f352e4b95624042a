"""Names a question is about (payment services, carriers, sizes, model numbers), so look-alikes never merge.

Sentence embeddings put "Can I pay with PayPal?" and 「PayPayで払えますか」 almost on top of each other: the
grouping asks this module which named thing each question is about and keeps different ones apart.
Each mention is (kind, canonical name). Kind ``service`` is strict (one cluster never holds two); ``size``
and ``model`` split a cluster only when each name is asked about by a group of its own.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

STRICT_KINDS = frozenset({"service"})

# canonical name -> spellings (matched case-insensitively on NFKC text, at word edges for Latin script)
SERVICES: dict[str, tuple[str, ...]] = {
    "paypal": ("paypal", "pay pal", "ペイパル"),
    "paypay": ("paypay", "pay pay", "ペイペイ"),
    "apple pay": ("apple pay", "applepay", "アップルペイ"),
    "google pay": ("google pay", "gpay", "グーグルペイ"),
    "amazon pay": ("amazon pay", "アマゾンペイ"),
    "line pay": ("line pay", "linepay", "ラインペイ"),
    "rakuten pay": ("rakuten pay", "楽天ペイ"),
    "merpay": ("merpay", "メルペイ"),
    "d barai": ("d払い", "d barai"),
    "au pay": ("au pay", "aupay"),
    "klarna": ("klarna", "クラーナ"),
    "afterpay": ("afterpay", "clearpay"),
    "affirm": ("affirm",),
    "alipay": ("alipay", "アリペイ"),
    "wechat pay": ("wechat pay", "ウィーチャットペイ"),
    "venmo": ("venmo",),
    "cash app": ("cash app", "cashapp"),
    "stripe": ("stripe",),
    "shop pay": ("shop pay", "shoppay"),
    "suica": ("suica", "スイカ"),
    "paidy": ("paidy", "ペイディ"),
    "konbini": ("konbini", "コンビニ払い", "コンビニ決済"),
    "cash on delivery": ("cash on delivery", "代引き", "代金引換"),
    "bank transfer": ("bank transfer", "銀行振込", "銀行振り込み"),
    "visa": ("visa",),
    "mastercard": ("mastercard", "master card"),
    "amex": ("amex", "american express"),
    "jcb": ("jcb",),
    "dhl": ("dhl",),
    "fedex": ("fedex",),
    "ups": ("ups",),
    "usps": ("usps",),
    "royal mail": ("royal mail",),
    "yamato": ("yamato", "ヤマト", "クロネコ"),
    "sagawa": ("sagawa", "佐川"),
    "japan post": ("japan post", "日本郵便", "ゆうパック"),
}

_LATIN = re.compile(r"[a-z]")
_SIZE = re.compile(
    r"(?<![\w])(xxs|xs|s|m|l|xl|xxl|xxxl|[2-5]xl)(?![\w])(?=\s*(?:size|サイズ|$|[\s,.?!？、。]))"
    r"|(?:size|サイズ)\s*([0-9]{1,2}(?:\.5)?|xxs|xs|s|m|l|xl|xxl)(?![\w])"
    r"|(?<![\w.])([0-9]{2}(?:\.5)?)\s*(cm|センチ)(?![\w])",
    re.IGNORECASE,
)
_MODEL = re.compile(r"(?<![\w-])([a-z]{1,4}-?[0-9]{2,5}[a-z0-9]{0,4})(?![\w-])", re.IGNORECASE)


def _pattern(spelling: str) -> re.Pattern[str]:
    body = re.escape(spelling).replace(r"\ ", r"\s*")
    if _LATIN.search(spelling):
        return re.compile(rf"(?<![a-z]){body}(?![a-z])", re.IGNORECASE)
    return re.compile(body)


_SERVICE_PATTERNS = [(name, _pattern(s)) for name, spellings in SERVICES.items() for s in spellings]


def mentions(text: str) -> list[tuple[int, str, str]]:
    """Every (position, kind, canonical name) the text mentions, in order of appearance."""
    norm = unicodedata.normalize("NFKC", text)
    found: list[tuple[int, str, str]] = []
    taken: list[tuple[int, int]] = []
    for name, pat in sorted(_SERVICE_PATTERNS, key=lambda np_: -len(np_[1].pattern)):
        for m in pat.finditer(norm):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue  # "pay pal" inside a longer spelling already found
            taken.append((m.start(), m.end()))
            found.append((m.start(), "service", name))
    for m in _SIZE.finditer(norm):
        value = next(g for g in m.groups() if g)
        found.append((m.start(), "size", value.lower()))
    for m in _MODEL.finditer(norm):
        if not any(a <= m.start() < b for a, b in taken):
            found.append((m.start(), "model", m.group(1).lower().replace("-", "")))
    return sorted(found)


def about(text: str) -> dict[str, str]:
    """Kind -> the first name of that kind the question mentions (what it is about)."""
    out: dict[str, str] = {}
    for _, kind, name in mentions(text):
        out.setdefault(kind, name)
    return out


def conflicts(a: dict[str, str], b: dict[str, str], kinds: Sequence[str] = tuple(STRICT_KINDS)) -> bool:
    """True when two questions name different things of a strict kind (PayPal vs PayPay)."""
    return any(k in a and k in b and a[k] != b[k] for k in kinds)


def name_counts(texts: Sequence[str], kinds: Sequence[str] = tuple(STRICT_KINDS)) -> dict[str, dict[str, int]]:
    """Kind -> name -> how many of ``texts`` are about it (what a cluster stores to place new questions by)."""
    out: dict[str, dict[str, int]] = {}
    for text in texts:
        for kind, name in about(text).items():
            if kind in kinds:
                out.setdefault(kind, {})
                out[kind][name] = out[kind].get(name, 0) + 1
    return out


def dominant(counts: dict[str, dict[str, int]]) -> dict[str, str]:
    """Kind -> the most-asked name in ``counts`` (ties to the later name, as ``split_by_names`` breaks them)."""
    return {kind: max(names, key=lambda n: (names[n], n)) for kind, names in counts.items() if names}
