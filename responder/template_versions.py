"""Reply templates edited by admins in the dashboard: every save is a new version, and every save is audited.

The packaged templates (`responder/templates/`) are version 0 of each name; a save stores the next version,
and the composer uses the newest. Only admins may save, checked here (not only by the page); a template
that does not compile or does not render on a sample post is refused, so a save cannot break drafting.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import TemplateError
from sqlmodel import Session, col, func, select

from kikimimi import audit
from kikimimi.errors import IllegalTransition, PermissionDenied
from kikimimi.models import ReplyTemplate, Role, User

__all__ = ["SavedTemplate", "names", "newest", "history", "body", "save", "label", "EDITORS"]

PACKAGED = Path(__file__).with_name("templates")
EDITORS = frozenset({Role.admin})
MAX_BODY = 20_000


@dataclass(frozen=True)
class SavedTemplate:
    name: str
    version: int  # 0: the packaged file
    body: str
    saved_by: str | None = None


def names(language: str | None = None) -> list[str]:
    """Every template name ("en/order_status.j2"), packaged or saved, optionally of one language."""
    found = sorted(f"{p.parent.name}/{p.name}" for p in PACKAGED.glob("*/*.j2"))
    return [n for n in found if language is None or n.startswith(f"{language}/")]


def newest(session: Session) -> dict[str, SavedTemplate]:
    """The newest saved version of each template that an admin has saved (packaged ones are not listed)."""
    latest = (
        select(ReplyTemplate.name, func.max(ReplyTemplate.version).label("version"))
        .group_by(col(ReplyTemplate.name))
        .subquery()
    )
    rows = session.exec(
        select(ReplyTemplate).join(
            latest, (col(ReplyTemplate.name) == latest.c.name) & (col(ReplyTemplate.version) == latest.c.version)
        )
    ).all()
    return {r.name: SavedTemplate(r.name, r.version, r.body, r.saved_by) for r in rows}


def history(session: Session, name: str) -> list[SavedTemplate]:
    """Every version of `name`, newest first, ending with the packaged version 0."""
    rows = session.exec(
        select(ReplyTemplate).where(ReplyTemplate.name == name).order_by(col(ReplyTemplate.version).desc())
    ).all()
    packaged = [SavedTemplate(name, 0, _packaged(name))] if (PACKAGED / name).is_file() else []
    return [SavedTemplate(r.name, r.version, r.body, r.saved_by) for r in rows] + packaged


def body(session: Session, name: str) -> SavedTemplate:
    """The version of `name` the composer uses now."""
    return history(session, name)[0]


def label(name: str, saved: dict[str, SavedTemplate]) -> str:
    """How a draft records its template: the name, plus "@vN" when a version saved in the dashboard wrote it."""
    version = saved[name].version if name in saved else 0
    return f"{name}@v{version}" if version else name


def _packaged(name: str) -> str:
    return (PACKAGED / name).read_text(encoding="utf-8")


def save(session: Session, name: str, text: str, *, actor: User, note: str | None = None) -> SavedTemplate:
    """Store `text` as the next version of template `name`, as `actor` (an admin). Commits; audited either way."""
    try:
        if actor.role not in EDITORS or not actor.active:
            raise PermissionDenied(f"{actor.name} ({actor.role}) may not change reply templates: admins only")
        if name not in names():
            raise IllegalTransition(f"no template named {name!r}")
        if not text.strip() or len(text) > MAX_BODY:
            raise IllegalTransition(f"a template needs between 1 and {MAX_BODY} characters")
        _check_renders(session, name, text)
    except (PermissionDenied, IllegalTransition) as exc:
        raise audit.refused(session, actor, "save_template", "template", name, exc) from None
    version = history(session, name)[0].version + 1
    row = ReplyTemplate(name=name, version=version, body=text, saved_by=actor.name, note=(note or None))
    session.add(row)
    audit.record(session, actor, "save_template", "template", f"{name}@v{version}", reason=note)
    session.commit()
    return SavedTemplate(name, version, text, actor.name)


def _check_renders(session: Session, name: str, text: str) -> None:
    """Refuse a template that does not compile, or fails on a sample question and complaint in its language."""
    from responder.drafting import render_draft, template_environment  # drafting reads the saved versions

    saved = {n: t.body for n, t in newest(session).items()} | {name: text}
    language = name.split("/", 1)[0]
    try:
        env = template_environment(None, saved)
        for sentiment, question in (("neutral", True), ("negative", True), ("negative", False), ("positive", False)):
            intent = name.rsplit("/", 1)[-1].removesuffix(".j2")
            render_draft(
                intent=intent if not intent.startswith("_") else "other",
                language=language,
                display_name="Mika",
                is_question=question,
                sentiment=sentiment,
                environment=env,
            )
    except TemplateError as exc:
        raise IllegalTransition(f"the template does not render: {exc}") from None
