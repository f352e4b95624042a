"""What every collector provides: raw pages from a platform, and a pure normaliser per item."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from kikimimi.models import PostCreate
from kikimimi.settings import QueryConfig


@dataclass
class Page:
    """One fetched page: raw items as the platform sent them, and the cursor to resume after it."""

    items: list[dict[str, Any]]
    cursor: str | None  # position after this page; saved only once the page is stored
    requests: int = 1  # API requests spent fetching it
    state: dict[str, Any] = field(default_factory=dict)  # extra cursor state (e.g. rate-limit reset)


@dataclass(frozen=True)
class BrandAccounts:
    """The brand's own accounts on each platform (lower-case, no @), used by normalisers."""

    handles: dict[str, frozenset[str]]

    def owns(self, platform: str, handle: str | None) -> bool:
        return bool(handle) and handle.lower().lstrip("@") in self.handles.get(platform, frozenset())

    @classmethod
    def from_mapping(cls, mapping: dict[str, Any]) -> BrandAccounts:
        return cls({p: frozenset(h.lower().lstrip("@") for h in names) for p, names in mapping.items()})


class Collector(Protocol):
    """A source of posts. `name` keys the cursor table; `normalise` is pure and may raise MalformedPayload."""

    name: str

    def pages(self, query: QueryConfig, cursor: str | None, *, backfill: bool = False) -> Iterator[Page]: ...

    def normalise(self, item: dict[str, Any]) -> PostCreate: ...
