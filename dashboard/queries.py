"""What the dashboard pages show and do, as plain functions over a session (tested without a browser)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from kikimimi import audit, search
from kikimimi.budget import NEARLY_SPENT, budget_line, budget_states, spent_message
from kikimimi.errors import KikimimiError
from kikimimi.models import (
    Analysis,
    AnalysisCorrection,
    Assignment,
    Author,
    DraftState,
    Post,
    ReplyDraft,
    ReviewEvent,
    User,
    visible,
)
from kikimimi.settings import Settings
from responder import inbox, teamwork
from responder.pause import posting_pause
from responder.workflow import HUMAN_ACTIONS, RULES, transition

S = DraftState
# unknown: being looked up, nothing to do yet; not_posted: the lookup showed nothing was posted, Retry is offered
QUEUE_STATES = (S.drafted, S.approved, S.failed, S.unknown, S.not_posted)
# the queue's views: which states each one lists ("spam" lists posts, not drafts)
VIEWS: dict[str, tuple[DraftState, ...]] = {
    "To do": (S.drafted,),
    "Approved, waiting to post": (S.approved, S.posting),
    "Needs a look (failed, unknown, not posted)": (S.failed, S.unknown, S.not_posted),
    "Rejected": (S.rejected,),
    "Posted or replied by hand": (S.posted, S.replied_by_hand),
}
SPAM_VIEW = "Spam"
SORTS = {"priority": "most urgent first", "age": "oldest first", "reach": "most followers first"}
HISTORY_LIMIT = 50
WALK_FROM = 2000  # drafts in a view from which the priority order walks its index (below: a small sort)


@dataclass(frozen=True)
class QueueFilter:
    """What the queue lists: the view's states and every filter the page offers (one place, not kwargs twice)."""

    states: tuple[DraftState, ...] = QUEUE_STATES
    platforms: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    sentiments: tuple[str, ...] = ()  # as the queue shows them: a person's correction wins over the model
    intents: tuple[str, ...] = ()
    questions_only: bool = False
    text: str = ""
    since: datetime | None = None
    until: datetime | None = None
    assignee: str | None = None  # only the posts this person has
    unassigned: bool = False  # only the posts nobody has

    def __post_init__(self) -> None:
        for name in ("states", "platforms", "languages", "sentiments", "intents"):
            object.__setattr__(self, name, tuple(getattr(self, name) or ()))


@dataclass
class QueueItem:
    draft: ReplyDraft
    post: Post
    author: Author
    analysis: Analysis
    corrected: dict[str, str] = field(default_factory=dict)  # field -> a person's latest correction
    assignee: str | None = None

    @property
    def sentiment(self) -> str:
        return self.corrected.get("sentiment", self.analysis.sentiment)

    @property
    def intent(self) -> str:
        return self.corrected.get("intent", self.analysis.intent)

    @property
    def needs_reply(self) -> bool:
        return self.corrected["needs_reply"] == "true" if "needs_reply" in self.corrected else self.analysis.needs_reply


def _where(where: QueueFilter | None, filters: dict) -> QueueFilter:
    return where if where is not None else QueueFilter(**filters)


def queue(
    session: Session,
    where: QueueFilter | None = None,
    /,
    *,
    sort: str = "priority",
    limit: int = 20,
    offset: int = 0,
    **filters: object,
) -> tuple[list[QueueItem], int]:
    """Drafts that match `where` (or QueueFilter(**filters)), sorted (`SORTS`); returns (page of items, total).

    The page is chosen on draft ids alone (an indexed order, LIMIT/OFFSET), then only its rows are loaded with
    their post, author and analysis; the total is a count of ids, without the wide rows.
    """
    where = _where(where, filters)
    total = session.exec(select(func.count()).select_from(_filtered(select(ReplyDraft.id), where).subquery())).one()
    order = {
        "priority": (col(Analysis.priority).desc(), col(Post.created_at)),
        "age": (col(Post.created_at),),
        "reach": (func.coalesce(col(Author.followers_count), 0).desc(), col(Analysis.priority).desc()),
    }[sort]

    def page_of(stmt):  # noqa: ANN001, ANN202
        if sort == "reach":  # the only order on the author: join it for the sort
            stmt = stmt.join(Author, col(Author.id) == col(Post.author_id))
        return [i for i in session.exec(stmt.order_by(*order, col(ReplyDraft.id)).offset(offset).limit(limit)) if i]

    wanted = min(limit, int(total) - offset)
    page = None
    if sort == "priority" and total > WALK_FROM and wanted > 0 and session.get_bind().dialect.name == "sqlite":
        page = _by_priority_walk(session, where, page_of, offset + limit, wanted)
    if page is None:
        page = page_of(_filtered(select(ReplyDraft.id), where, with_post=True))
    return drafts_by_id(session, page), int(total)


def _by_priority_walk(session: Session, where: QueueFilter, page_of, reach: int, wanted: int) -> list[int] | None:  # noqa: ANN001
    """The page found among the analyses of highest priority only: SQLite otherwise joins and sorts every draft
    of the view for a LIMIT 10. The first `k` analyses by priority hold the page when they hold `wanted` of its
    drafts (every draft ranked above the page is among them); else eight times as many are tried. None: no bound
    held the page (the plain query answers)."""
    walked = 8 * reach
    while True:
        bound = session.exec(
            select(Analysis.priority).order_by(col(Analysis.priority).desc()).offset(walked - 1).limit(1)
        ).first()
        if bound is None:
            return None
        page = page_of(_filtered(select(ReplyDraft.id), where, with_post=True, priority_from=bound))
        if len(page) >= wanted:
            return page
        walked *= 8


def queue_ids(session: Session, where: QueueFilter | None = None, /, **filters: object) -> list[int]:
    """The ids of every draft the same filters match (what "all matching the filters" acts on)."""
    stmt = _filtered(select(ReplyDraft.id), _where(where, filters))
    return [i for i in session.exec(stmt.order_by(col(ReplyDraft.id))) if i is not None]


def drafts_by_id(session: Session, draft_ids: list[int]) -> list[QueueItem]:
    """These drafts with their post, author, analysis, corrections and assignee, in the order given."""
    if not draft_ids:
        return []
    rows = session.exec(
        select(ReplyDraft, Post, Author, Analysis)
        .join(Post, col(Post.id) == col(ReplyDraft.post_id))
        .join(Author, col(Author.id) == col(Post.author_id))
        .join(Analysis, col(Analysis.post_id) == col(Post.id))
        .where(col(ReplyDraft.id).in_(draft_ids))
        .execution_options(populate_existing=True)
    ).all()
    post_ids = [row[1].id for row in rows]
    corrections, assigned = inbox.corrected(session, post_ids), teamwork.assignees(session, post_ids)
    found = {
        row[0].id: QueueItem(*row, corrected=corrections.get(row[1].id, {}), assignee=assigned.get(row[1].id))
        for row in rows
    }
    return [found[i] for i in draft_ids if i in found]


def _shown(name: str, column):  # noqa: ANN001, ANN202 - a column of Analysis
    """An analysis field as the queue shows it: a person's latest correction, else the model's value."""
    latest = (
        select(AnalysisCorrection.new_value)
        .where(col(AnalysisCorrection.post_id) == col(Post.id), col(AnalysisCorrection.field) == name)
        .order_by(col(AnalysisCorrection.corrected_at).desc(), col(AnalysisCorrection.id).desc())
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(latest, column)


def _filtered(stmt, where: QueueFilter, *, with_post: bool = False, priority_from: float | None = None):  # noqa: ANN001, ANN202
    """A select over ReplyDraft narrowed to `where`. The post is joined only when a filter or the order needs it
    (a count reads the indexes alone: deleted posts are the few a partial index lists). `priority_from`: only
    analyses of at least that priority, walked by their index rather than the state's (SQLite's plan)."""
    deleted = aliased(Post)
    state = col(ReplyDraft.state)
    stmt = (
        stmt.join(Analysis, col(Analysis.post_id) == col(ReplyDraft.post_id))
        .where((func.coalesce(state, "") if priority_from is not None else state).in_([s.value for s in where.states]))
        .where(col(ReplyDraft.post_id).not_in(select(deleted.id).where(col(deleted.deleted_at).is_not(None))))
    )
    if priority_from is not None:
        stmt = stmt.where(col(Analysis.priority) >= priority_from)
    by_post = (where.platforms, where.text.strip(), where.sentiments, where.intents, where.assignee, where.unassigned)
    if with_post or any(by_post) or where.since is not None or where.until is not None:
        stmt = stmt.join(Post, col(Post.id) == col(ReplyDraft.post_id))
    if where.platforms:
        stmt = stmt.where(col(Post.platform).in_(where.platforms))
    if where.languages:
        stmt = stmt.where(col(Analysis.language).in_(where.languages))
    if where.sentiments:
        stmt = stmt.where(_shown("sentiment", col(Analysis.sentiment)).in_(where.sentiments))
    if where.intents:
        stmt = stmt.where(_shown("intent", col(Analysis.intent)).in_(where.intents))
    if where.questions_only:
        stmt = stmt.where(col(Analysis.is_question))
    if where.since is not None:
        stmt = stmt.where(col(Post.created_at) >= where.since)
    if where.until is not None:
        stmt = stmt.where(col(Post.created_at) < where.until)
    if where.assignee:
        stmt = stmt.where(col(Post.id).in_(select(Assignment.post_id).where(Assignment.assignee == where.assignee)))
    if where.unassigned:
        stmt = stmt.where(col(Post.id).not_in(select(Assignment.post_id)))
    if where.text.strip():
        stmt = search.matching(stmt, where.text)
    return stmt


def day_range(first: date | None, last: date | None, tz: str) -> tuple[datetime | None, datetime | None]:
    """The reader's local days first..last (inclusive) as a UTC [since, until) range."""
    zone = ZoneInfo(tz)
    since = datetime.combine(first, time.min, zone).astimezone(UTC) if first else None
    until = datetime.combine(last + timedelta(days=1), time.min, zone).astimezone(UTC) if last else None
    return since, until


@dataclass
class SpamItem:
    post: Post
    author: Author
    analysis: Analysis


def spam(session: Session, *, limit: int = 20, offset: int = 0) -> tuple[list[SpamItem], int]:
    """Posts the analysis marked as spam (newest first), where a person can rescue a misfiled customer."""
    stmt = (
        select(Post, Author, Analysis)
        .join(Author, col(Author.id) == col(Post.author_id))
        .join(Analysis, col(Analysis.post_id) == col(Post.id))
        .where(col(Analysis.is_spam))
    )
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(stmt.order_by(col(Post.created_at).desc(), col(Post.id)).offset(offset).limit(limit)).all()
    return [SpamItem(*row) for row in rows], int(total)


def state_actions(draft: ReplyDraft) -> list[str]:
    """The people's actions the draft's state allows, whoever asks (the page shows them; roles decide on click)."""
    return [a for a in HUMAN_ACTIONS if DraftState(draft.state) in RULES[a].sources]


def local_time(moment: datetime, tz: str) -> str:
    """A stored UTC time as the reader's local time, with the zone's abbreviation."""
    return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M %Z")


def author_history(session: Session, author: Author, *, exclude_post_id: int | None = None) -> pd.DataFrame:
    """The author's other posts, and posts by the same display name on other platforms (marked as such).

    Two indexed look-ups (posts by author id; authors by display name), newest 50 of both: an OR across the join
    would scan every post."""
    columns = (Post.created_at, Post.platform, Author.handle, Post.text, Analysis.sentiment, Post.url)

    def newest(condition) -> list:  # noqa: ANN001
        return list(
            session.exec(
                select(*columns, col(Author.id) == author.id)
                .join(Author, col(Author.id) == col(Post.author_id))
                .outerjoin(Analysis, col(Analysis.post_id) == col(Post.id))
                .where(condition, visible(), col(Post.id) != (exclude_post_id or -1))
                .order_by(col(Post.created_at).desc())
                .limit(HISTORY_LIMIT)
            ).all()
        )

    rows = newest(col(Post.author_id) == author.id)
    if author.display_name:
        rows += newest((col(Author.display_name) == author.display_name) & (col(Author.platform) != author.platform))
    rows = sorted(rows, key=lambda row: row[0], reverse=True)[:HISTORY_LIMIT]
    return pd.DataFrame(rows, columns=["created_at", "platform", "handle", "text", "sentiment", "url", "same_account"])


def review_log(session: Session, draft_id: int) -> list[ReviewEvent]:
    return list(session.exec(select(ReviewEvent).where(ReviewEvent.draft_id == draft_id).order_by(ReviewEvent.at)))


def act_on_draft(
    session: Session,
    draft_id: int,
    action: str,
    user: User,
    text: str | None = None,
    *,
    note: str | None = None,
    link: str | None = None,
) -> ReplyDraft:
    """Take one action on a draft as `user` and commit, or roll back everything and raise.

    An edit to the text is saved before approving it (the approval covers what the person saw). The role is
    checked first, so a refused request writes nothing before its refusal is recorded.
    """
    draft = session.get(ReplyDraft, draft_id, populate_existing=True)
    if draft is None:
        raise LookupError(f"no draft {draft_id}")
    try:
        edited = text is not None and text != draft.text and action in ("edit", "approve", "retry")
        if edited and action != "edit" and user.role not in RULES[action].roles:
            transition(session, draft, action, user)  # refused before the edit is written
        if edited:
            transition(session, draft, "edit", user, text=text)
        if action != "edit":
            transition(session, draft, action, user, note=note, link=link or None)
        session.commit()
    except KikimimiError as exc:
        session.rollback()
        audit.settle(session, exc)
        raise
    return draft


@dataclass
class BulkResult:
    done: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)  # draft id -> why


def bulk(session: Session, draft_ids: list[int], action: str, user: User, *, note: str | None = None) -> BulkResult:
    """Approve or reject many drafts, each checked and committed on its own (one refusal stops no other)."""
    if action not in ("approve", "reject"):
        raise ValueError(f"bulk {action!r}: only approve and reject")
    result = BulkResult()
    for draft_id in draft_ids:
        try:
            act_on_draft(session, draft_id, action, user, note=note)
            result.done.append(draft_id)
        except (KikimimiError, LookupError) as exc:
            result.refused[draft_id] = str(exc)
    return result


def pause_banner(session: Session) -> str | None:
    """The line every page shows while posting is paused (None while it is not)."""
    state = posting_pause(session)
    if not state.paused:
        return None
    when = f" since {state.at:%Y-%m-%d %H:%M} UTC" if state.at else ""
    return f"Posting is paused by {state.by}{when}" + (f": {state.reason}" if state.reason else "")


def read_budget_line(session: Session, settings: Settings) -> str | None:
    """The line a page shows about the monthly read budgets: which platform stopped collecting and when it
    resumes, or which is nearly spent; None while every budget has room (or none is set)."""
    states = [s for s in budget_states(session, settings) if s.budget is not None]
    spent = [s for s in states if s.spent]
    if spent:
        return " · ".join(spent_message(s) for s in spent)
    nearly = [s for s in states if s.budget and s.read >= NEARLY_SPENT * s.budget]
    return " · ".join(budget_line(s) for s in nearly) or None
