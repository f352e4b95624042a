"""The monthly read budget per platform: items read per calendar month (UTC, by the one clock), kept in the
database (`ReadUsage`) so every worker on every machine counts against the same figure.

X bills every post read; `[read_budget] x = 10000` in kikimimi.toml stops collecting from X once 10,000 posts
were read this month, and collection resumes on the first of the next month. A platform without a budget is
counted but never stopped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from sqlmodel import Session, select

from kikimimi.models import ReadUsage
from kikimimi.settings import PLATFORMS, Settings
from kikimimi.timeutil import utcnow

NEARLY_SPENT = 0.8  # from this share of a budget on, the dashboard line warns


def period_of(moment: datetime | None = None) -> str:
    """The calendar month (UTC) `moment` falls in, as "YYYY-MM"."""
    return (moment or utcnow()).astimezone(UTC).strftime("%Y-%m")


def next_period_start(moment: datetime | None = None) -> datetime:
    """Midnight UTC on the first of the month after `moment`: when a spent budget is available again."""
    now = (moment or utcnow()).astimezone(UTC)
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


def reads(session: Session, platform: str, period: str | None = None) -> int:
    """Items read from `platform` in `period` (default: this month)."""
    row = session.get(ReadUsage, (platform, period or period_of()))
    return row.items if row else 0


def add_reads(session: Session, platform: str, items: int, *, now: datetime | None = None) -> int:
    """Count `items` read from `platform` this month; not committed (it lands with the page that read them).
    Returns this month's total."""
    period = period_of(now)
    row = session.get(ReadUsage, (platform, period)) or ReadUsage(platform=platform, period=period, items=0)
    row.items += max(0, int(items))
    row.updated_at = now or utcnow()
    session.add(row)
    return row.items


def remaining(session: Session, settings: Settings, platform: str, *, now: datetime | None = None) -> int | None:
    """Items `platform` may still read this month; None when it has no budget."""
    budget = settings.read_budget.get(platform)  # type: ignore[call-overload]
    if budget is None:
        return None
    return max(0, budget - reads(session, platform, period_of(now)))


@dataclass
class BudgetState:
    platform: str
    period: str
    read: int
    budget: int | None
    left: int | None
    spent: bool  # collection from this platform is stopped until `resumes`
    resumes: str  # ISO date of the first of next month

    def as_dict(self) -> dict:
        return asdict(self)


def budget_states(session: Session, settings: Settings, *, now: datetime | None = None) -> list[BudgetState]:
    """This month's reads per platform that has a budget or has read anything."""
    period = period_of(now)
    used = {row.platform: row.items for row in session.exec(select(ReadUsage).where(ReadUsage.period == period))}
    resumes = next_period_start(now).date().isoformat()
    states = []
    for platform in sorted(set(PLATFORMS) | set(used), key=lambda p: (p not in PLATFORMS, p)):
        budget = settings.read_budget.get(platform)  # type: ignore[call-overload]
        if budget is None and platform not in used:
            continue
        read = used.get(platform, 0)
        left = None if budget is None else max(0, budget - read)
        states.append(BudgetState(platform, period, read, budget, left, left == 0, resumes))
    return states


def spent_message(state: BudgetState) -> str:
    """The one line that says a platform's collection stopped at its budget, and when it resumes."""
    return (
        f"{state.platform}: read budget used up for {state.period} ({state.read:,} of {state.budget:,} items read);"
        f" collection resumes on {state.resumes}"
    )


def budget_line(state: BudgetState) -> str:
    """A short line for people: how much of the month's budget a platform has read."""
    if state.budget is None:
        return f"{state.platform}: {state.read:,} items read in {state.period} (no budget)"
    if state.spent:
        return spent_message(state)
    share = state.read / state.budget if state.budget else 1.0
    return f"{state.platform}: {state.read:,} of {state.budget:,} items read in {state.period} ({share:.0%})"
