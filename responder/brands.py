"""Which brand a post belongs to, and that brand's configuration (its voice).

A post belongs to the brand whose listening query matched it: one of our own (non-competitor) queries linked to it
(`PostQuery`), the first linked; a post first stored by a competitor's query but also matched by ours is ours.
Posts stored before queries were linked fall back to the query that stored them, then the brand stored on the
post, then the first brand.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from kikimimi.models import Brand, ListeningQuery, Post, PostQuery
from kikimimi.settings import BrandConfig

__all__ = ["brand_for", "brand_config"]


def brand_for(session: Session, post: Post) -> Brand | None:
    """The brand whose own listening query matched `post` (else the post's stored brand, else the first brand)."""
    linked = session.exec(
        select(Brand)
        .join(ListeningQuery, col(ListeningQuery.brand_id) == col(Brand.id))
        .join(PostQuery, col(PostQuery.query_id) == col(ListeningQuery.id))
        .where(col(PostQuery.post_id) == post.id, ~col(ListeningQuery.competitor))
        .order_by(col(ListeningQuery.id))
    ).first()
    if linked is not None:
        return linked
    if post.query_id is not None:
        query = session.get(ListeningQuery, post.query_id)
        if query is not None:
            brand = session.get(Brand, query.brand_id)
            if brand is not None:
                return brand
    if post.brand_id is not None:
        brand = session.get(Brand, post.brand_id)
        if brand is not None:
            return brand
    return session.exec(select(Brand).order_by(col(Brand.id))).first()


def brand_config(brands: Sequence[BrandConfig], brand: Brand | str | None) -> BrandConfig | None:
    """The configured brand of that name (None when it is not configured, e.g. removed from kikimimi.toml)."""
    name = brand.name if isinstance(brand, Brand) else brand
    if name is None:
        return brands[0] if brands else None
    return next((b for b in brands if b.name == name), None)
