"""Cached resources shared by every page: settings and the database engine."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from sqlmodel import Session

from kikimimi.db import get_engine, migrate
from kikimimi.models import User
from kikimimi.settings import Settings, load_settings


def settings() -> Settings:
    """The settings, loaded once per distinct KIKIMIMI_* environment (the cache key; never stale)."""
    return _load(tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("KIKIMIMI_"))))


@st.cache_resource
def _load(environment: tuple[tuple[str, str], ...]) -> Settings:
    loaded = load_settings(fallback_to_example=True)
    migrate(loaded.database_url)
    return loaded


@contextmanager
def session() -> Iterator[Session]:
    with Session(get_engine(settings().database_url), expire_on_commit=False) as s:
        yield s


def display_timezone(user: User | None) -> str:
    """The reader's time zone: their own choice, else the `display_timezone` setting."""
    return (user.time_zone if user else None) or settings().display_timezone
