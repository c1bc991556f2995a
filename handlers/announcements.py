"""Newsletters and announcements: Markdown in, one personalised outbox row per member out.

Life of an announcement: draft (tests may be sent to staff) → approved (by staff, for now or a
time) → sending (rows being written) → sent (every member has a row; the outbox delivers).
Rows are keyed `announce:{id}:{contact id}`: writing them again after a crash or from a second
process skips who already has one, so nobody gets the mail twice. Progress figures come from
the outbox rows themselves.
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from config.settings import Settings
from handlers.campaign_copies import PLACEHOLDER, CampaignCopies, personalise
from handlers.lists import get_list
from handlers.outgoing import queue_mail
from models.audit import add_audited, audit, get_or_raise
from models.base import utcnow
from models.db import Database
from models.lists import Announcement, AnnouncementState, MailingList, member_count
from models.lists import recipients as list_recipients
from models.outbox import OutboxMail, OutboxState
from models.partnerships import Contact
from templates import environment

BATCH = 500
_MD = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_LINK = re.compile(r"!?\[([^\]]*)\]\(([^)\s]+)[^)]*\)")


class AnnouncementNotFound(LookupError):
    def __init__(self, ident: int) -> None:
        super().__init__(f"there is no announcement {ident}; `eocic-desk announce --list …` creates one")


@dataclass
class Progress:
    id: int
    state: str
    recipients: int  # members when the rows were (last) written
    queued: int
    sent: int
    failed: int
    remaining: int  # rows not delivered yet + members without a row yet

    def as_dict(self) -> dict:
        return asdict(self)

    def text(self) -> str:
        return (f"Announcement {self.id} ({self.state}): {self.sent} sent, {self.failed} failed, "
                f"{self.remaining} remaining of {self.recipients}")


def markdown_to_html(markdown: str) -> str:
    """Markdown rendered and sanitised (no raw HTML, no scripts, safe link schemes only)."""
    return nh3.clean(_MD.render(markdown), url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer")


def markdown_to_text(markdown: str) -> str:
    """Markdown is already readable as plain text; links become "text <url>"."""
    return _LINK.sub(lambda m: f"{m.group(1)} <{m.group(2)}>" if m.group(1) else f"<{m.group(2)}>", markdown).strip()


def render(subject: str, markdown: str, mlist: MailingList) -> tuple[str, str]:
    """(text, html) with PLACEHOLDER where each recipient's own link goes."""
    env = environment()
    ctx = dict(title=subject, list_name=mlist.name, list_description=mlist.description,
               unsubscribe_url=PLACEHOLDER)
    text = env.get_template("mail/newsletter.txt.j2").render(body=markdown_to_text(markdown), **ctx)
    html = env.get_template("mail/newsletter.html.j2").render(body_html=Markup(markdown_to_html(markdown)), **ctx)
    return text, html


async def create(
    session: AsyncSession, *, list_name: str, subject: str, markdown: str, actor: str
) -> Announcement:
    mlist = await get_list(session, list_name)
    subject = " ".join(subject.split())
    if not subject:
        raise ValueError("an announcement needs a subject")
    if not markdown.strip():
        raise ValueError("the Markdown text is empty")
    row = Announcement(list_id=mlist.id, subject=subject[:998], markdown=markdown, created_by=actor)
    return await add_audited(session, row, actor, "announcement.created", "announcement", list=mlist.name)


async def get(session: AsyncSession, ident: int) -> Announcement:
    return await get_or_raise(session, Announcement, ident, AnnouncementNotFound)


async def send_test(session: AsyncSession, settings: Settings, ann: Announcement, address: str, actor: str) -> None:
    """The preview: the real mail, marked TEST, to the staff member who asks (a new one every time)."""
    mlist = await session.get(MailingList, ann.list_id)
    text, html = render(ann.subject, ann.markdown, mlist)
    tester = Contact(id=0, email=address.strip().lower())
    msg = personalise(settings, mlist, tester, f"[TEST] {ann.subject}", text, html)
    await queue_mail(session, msg, key=f"announce-test:{ann.id}:{tester.email}:{utcnow().isoformat()}", kind="announce-test")
    await audit(session, actor, "announcement.test-sent", None, announcement=ann.id, to=tester.email)


async def approve(session: AsyncSession, ann: Announcement, actor: str, send_at: datetime | None = None) -> None:
    if ann.state not in (AnnouncementState.draft, AnnouncementState.approved):
        raise ValueError(f"announcement {ann.id} is {ann.state.value}: it can no longer be approved")
    ann.state, ann.approved_by, ann.approved_at = AnnouncementState.approved, actor, utcnow()
    ann.send_at = send_at or utcnow()
    session.add(ann)
    await audit(session, actor, "announcement.approved", None, announcement=ann.id, send_at=ann.send_at.isoformat())


async def reject(session: AsyncSession, ann: Announcement, actor: str, reason: str = "") -> None:
    """Staff turn down a test send: the announcement goes back to (or stays) a draft and is not sent."""
    if ann.state not in (AnnouncementState.draft, AnnouncementState.approved):
        raise ValueError(f"announcement {ann.id} is {ann.state.value}: it can no longer be rejected")
    ann.state, ann.approved_by, ann.approved_at, ann.send_at = AnnouncementState.draft, None, None, None
    session.add(ann)
    await audit(session, actor, "announcement.rejected", None, announcement=ann.id, reason=reason[:500])


async def cancel(session: AsyncSession, ann: Announcement, actor: str) -> int:
    """Stop an announcement: rows not yet sent are cancelled. Returns how many."""
    ann.state = AnnouncementState.cancelled
    session.add(ann)
    rows = list(await session.exec(select(OutboxMail).where(
        OutboxMail.key.like(f"announce:{ann.id}:%"), OutboxMail.state == OutboxState.pending)))
    for row in rows:
        row.state = OutboxState.cancelled
        session.add(row)
    await audit(session, actor, "announcement.cancelled", None, announcement=ann.id, rows=len(rows))
    return len(rows)


async def due(session: AsyncSession) -> list[int]:
    """Approved announcements whose time has come, and any whose writing was interrupted."""
    query = select(Announcement.id).where(
        Announcement.state.in_([AnnouncementState.approved, AnnouncementState.sending]),
        Announcement.send_at <= utcnow(),
    )
    return list(await session.exec(query.order_by(Announcement.id)))


async def queue(db: Database, settings: Settings, ident: int, *, batch: int = BATCH, written=None) -> Progress:
    """Write the missing outbox rows of an approved announcement, `batch` recipients per transaction.

    Mail is composed outside the write transactions, so the outbox sender keeps sending meanwhile;
    `written()` is called after each batch's commit (the running desk wakes its outbox with it).
    Safe to run again at any time, from any process: who has a row is skipped.
    """
    async with db.transaction() as session:
        ann = await get(session, ident)
        if ann.state not in (AnnouncementState.approved, AnnouncementState.sending):
            raise ValueError(f"announcement {ident} is {ann.state.value}; only approved ones are sent")
        ann.state = AnnouncementState.sending
        session.add(ann)
        mlist = await session.get(MailingList, ann.list_id)
        recipients = await list_recipients(session, mlist)
        prefix = f"announce:{ident}:"
        done = set(await session.exec(select(OutboxMail.key).where(OutboxMail.key.like(prefix + "%"))))
    copies = CampaignCopies(settings, mlist, ann.subject, *render(ann.subject, ann.markdown, mlist))
    todo = [c for c in recipients if f"{prefix}{c.id}" not in done]

    # a row another process wrote meanwhile (same key) is skipped: one statement, no read first
    insert_new = (sqlite_insert if db.is_sqlite else postgresql_insert)(OutboxMail.__table__).on_conflict_do_nothing(
        index_elements=["key"])
    for start in range(0, len(todo), batch):
        date, now = email.utils.formatdate(localtime=False, usegmt=True), utcnow()
        rows = [copies.row(c, key=f"{prefix}{c.id}", kind="announce", date=date, now=now) for c in todo[start:start + batch]]
        async with db.engine.begin() as conn:  # a Core statement: no ORM session to set up per batch
            await conn.execute(insert_new, rows)
        if written is not None:
            written()
    async with db.transaction() as session:
        ann = await get(session, ident)
        if ann.state is AnnouncementState.sending:
            ann.state, ann.queued_at = AnnouncementState.sent, utcnow()
            ann.recipients = len(recipients)
            session.add(ann)
            await audit(session, "desk", "announcement.queued", None, announcement=ident, recipients=len(recipients))
        return await progress(session, ann)


async def recently_queued(session: AsyncSession, within: timedelta = timedelta(days=7)) -> list[Announcement]:
    """Announcements whose rows were all written lately: their final report may be due."""
    query = select(Announcement).where(Announcement.state == AnnouncementState.sent, Announcement.queued_at >= utcnow() - within)
    return list(await session.exec(query.order_by(Announcement.id)))


async def progress(session: AsyncSession, ann: Announcement) -> Progress:
    counts = dict((await session.exec(
        select(OutboxMail.state, func.count()).where(OutboxMail.key.like(f"announce:{ann.id}:%")).group_by(OutboxMail.state)
    )).all())
    queued = sum(counts.values())
    sent, failed = counts.get(OutboxState.sent, 0), counts.get(OutboxState.failed, 0)
    recipients = max(ann.recipients, queued)
    unwritten = 0
    if ann.state in (AnnouncementState.approved, AnnouncementState.sending):
        recipients = max(recipients, await member_count(session, await session.get(MailingList, ann.list_id)))
        unwritten = max(recipients - queued, 0)
    remaining = counts.get(OutboxState.pending, 0) + counts.get(OutboxState.sending, 0) + unwritten
    return Progress(ann.id, ann.state.value, recipients, queued, sent, failed, remaining)


async def due_soon(session: AsyncSession, ident: int, within: timedelta) -> int:
    """Undelivered rows of announcement `ident` that the outbox will try within `within`."""
    query = select(func.count()).where(
        OutboxMail.key.like(f"announce:{ident}:%"),
        OutboxMail.state.in_([OutboxState.pending, OutboxState.sending]),
        OutboxMail.next_attempt_at <= utcnow() + within,
    )
    return (await session.exec(query)).one()


async def report(session: AsyncSession, ann: Announcement) -> dict:
    """The final report: figures and the addresses that failed, with the server's answer."""
    figures = (await progress(session, ann)).as_dict()
    failed = await session.exec(select(OutboxMail.recipient, OutboxMail.last_error).where(
        OutboxMail.key.like(f"announce:{ann.id}:%"), OutboxMail.state == OutboxState.failed).order_by(OutboxMail.id))
    mlist = await session.get(MailingList, ann.list_id)
    return {**figures, "list": mlist.name, "subject": ann.subject,
            "failures": [{"to": to, "error": (err or "")[:300]} for to, err in failed]}
