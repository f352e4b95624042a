"""Platform sessions kept in the database between processes (`PlatformSession`), for `bluesky.sign_in`."""

from __future__ import annotations

from sqlmodel import Session

from kikimimi.db import get_engine
from kikimimi.models import PlatformSession
from kikimimi.timeutil import utcnow


class DatabaseSessionStore:
    """One account's session string in the database. Each read and write is its own short transaction on its
    own connection, so saving a refreshed session never waits for (or rolls back with) a collector's page."""

    def __init__(self, database_url: str, platform: str, account: str) -> None:
        self.database_url = database_url
        self.platform = platform
        self.account = account.lower().lstrip("@")

    def load(self) -> str | None:
        with Session(get_engine(self.database_url)) as db:
            row = db.get(PlatformSession, (self.platform, self.account))
            return row.session if row else None

    def save(self, session_string: str) -> None:
        with Session(get_engine(self.database_url)) as db:
            row = db.get(PlatformSession, (self.platform, self.account)) or PlatformSession(
                platform=self.platform, account=self.account, session=session_string
            )
            row.session, row.updated_at = session_string, utcnow()
            db.add(row)
            db.commit()
