"""How long a reply may be on each platform, counted the way the platform counts it.

A draft over its platform's limit cannot be approved (`responder.workflow`), so nobody approves a reply
that the platform would refuse or cut. The counts follow each platform's own rules:

- X: 280 *weighted* characters (twitter-text v3): most CJK characters, emoji and symbols count 2, Latin and
  common punctuation 1, every URL 23, after NFC normalisation.
- Bluesky: 300 graphemes (what a person sees as one character, an emoji with modifiers included).
- Mastodon: 500 characters by default (an instance may allow more), every URL 23, a remote mention counted
  by its local part (`@name@example.social` counts as `@name`).
- Reddit: 10,000 characters for a comment.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import regex

__all__ = ["LIMITS", "ReplyLength", "reply_length", "x_weighted_length"]

LIMITS = {"x": 280, "bluesky": 300, "mastodon": 500, "reddit": 10_000}
URL_LENGTH = 23  # X and Mastodon count every link as this long, whatever its real length

# twitter-text v3 configuration: code points in these ranges weigh 1 (100/100), everything else 2.
_X_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_URL = re.compile(r"https?://[^\s<>\"'「」（）]+", re.IGNORECASE)
_MASTODON_REMOTE_MENTION = re.compile(r"(@[A-Za-z0-9_]+)@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_EMOJI = regex.compile(r"\p{Extended_Pictographic}")


@dataclass(frozen=True)
class ReplyLength:
    platform: str
    used: int
    limit: int | None  # None: no known limit for this platform

    @property
    def over(self) -> bool:
        return self.limit is not None and self.used > self.limit

    def describe(self) -> str:
        unit = "weighted characters" if self.platform == "x" else "characters"
        return f"{self.used} of {self.limit} {unit}" if self.limit else f"{self.used} {unit}"


def reply_length(platform: str, text: str, *, limit: int | None = None) -> ReplyLength:
    """The length of `text` as `platform` counts it, against its limit (or `limit`, e.g. an instance's own)."""
    counter = _COUNTERS.get(platform, len)
    return ReplyLength(platform, counter(text), limit or LIMITS.get(platform))


def x_weighted_length(text: str) -> int:
    """X's weighted length: URLs 23, an emoji (with its modifiers and joiners) 2, CJK 2, Latin 1."""
    text = unicodedata.normalize("NFC", text)
    total, rest, last = 0, [], 0
    for match in _URL.finditer(text):
        rest.append(text[last : match.start()])
        total += URL_LENGTH
        last = match.end()
    rest.append(text[last:])
    for part in rest:
        for cluster in regex.findall(r"\X", part):
            if _EMOJI.search(cluster):
                total += 2  # one emoji, however many code points it is made of
                continue
            total += sum(_x_weight(ord(ch)) for ch in cluster)
    return total


def _x_weight(code_point: int) -> int:
    return 1 if any(low <= code_point <= high for low, high in _X_LIGHT_RANGES) else 2


def _graphemes(text: str) -> int:
    return len(regex.findall(r"\X", unicodedata.normalize("NFC", text)))


def _mastodon_length(text: str) -> int:
    text = _MASTODON_REMOTE_MENTION.sub(r"\1", text)
    urls = _URL.findall(text)
    return len(_URL.sub("", text)) + URL_LENGTH * len(urls)


_COUNTERS = {"x": x_weighted_length, "bluesky": _graphemes, "mastodon": _mastodon_length, "reddit": len}
