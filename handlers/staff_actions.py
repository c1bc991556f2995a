"""What staff do to a ticket: assign, change category, note, reply, close, reopen.

Plain async functions, one transaction each, used by Slack buttons, modals and `/eocic`
alike (and usable from the CLI). Each writes an AuditEntry and fires the ticket event
"action" with a `StaffAction`, which is how the card and its thread learn about it. Only
`reply` sends mail, and only through the outbox.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from config.catalogue import CATEGORIES
from handlers.context import Deps
from handlers.outgoing import compose, queue_mail
from handlers.slack_notify import StaffAction
from models.audit import audit
from handlers.tickets import get_ticket, set_status
from models.base import utcnow
from models.corrections import Correction
from models.tickets import Message, Ticket, TicketStatus, first_inbound
from templates import render_mail

QUOTED_LINES = 40


class ActionRefused(ValueError):
    """The action does not apply to the ticket as it is (closing a closed ticket, say)."""


@dataclass(frozen=True)
class ReplyResult:
    ref: str
    outbox_id: int | None  # None: this submission had already been handled
    recipient: str
    subject: str


async def _touch(session: AsyncSession, deps: Deps, ticket: Ticket, action: StaffAction) -> None:
    ticket.updated_at = utcnow()
    session.add(ticket)
    await deps.ticket_event(session, "action", ticket, action)


async def assign(deps: Deps, ref: str, assignee: str, *, actor: str, key: str | None = None) -> Ticket:
    """Give the ticket to `assignee` (a Slack user id); a new ticket becomes open."""
    async with deps.db.transaction() as session:
        ticket = await get_ticket(session, ref)
        if ticket.status is TicketStatus.closed:
            raise ActionRefused(f"{ticket.ref} is closed; reopen it first")
        if ticket.assignee == assignee:
            raise ActionRefused(f"{ticket.ref} is already assigned to <@{assignee}>")
        previous, ticket.assignee = ticket.assignee, assignee
        if ticket.status is TicketStatus.new:
            ticket.status = TicketStatus.open
        await audit(session, actor, "ticket.assigned", ticket, assignee=assignee, previous=previous)
        await _touch(session, deps, ticket, _action(actor, "assigned", key, assignee=assignee, previous=previous))
    return ticket


async def change_category(deps: Deps, ref: str, category: str, *, actor: str, key: str | None = None) -> Ticket:
    """Correct the category, and keep the correction as a labelled example for the classifier."""
    if category not in CATEGORIES:
        raise ActionRefused(f"`{category}` is not a category; use one of: {', '.join(CATEGORIES)}")
    async with deps.db.transaction() as session:
        ticket = await get_ticket(session, ref)
        if ticket.category == category:
            raise ActionRefused(f"{ticket.ref} is already in {category}")
        previous, ticket.category, ticket.needs_review = ticket.category, category, False
        request = await first_inbound(session, ticket)
        session.add(Correction(
            message_id=request.id if request else None, ticket_id=ticket.id, intent=ticket.intent,
            category=category, previous_category=previous, actor=actor,
        ))
        await audit(session, actor, "ticket.recategorised", ticket, category=category, previous=previous)
        await _touch(session, deps, ticket, _action(actor, "recategorised", key, category=category, previous=previous))
    return ticket


async def close(deps: Deps, ref: str, *, actor: str, key: str | None = None) -> Ticket:
    async with deps.db.transaction() as session:
        ticket = await get_ticket(session, ref)
        if ticket.status is TicketStatus.closed:
            raise ActionRefused(f"{ticket.ref} is already closed")
        await set_status(session, ticket, TicketStatus.closed, actor)
        await _touch(session, deps, ticket, _action(actor, "closed", key))
    return ticket


async def reopen(deps: Deps, ref: str, *, actor: str, key: str | None = None) -> Ticket:
    async with deps.db.transaction() as session:
        ticket = await get_ticket(session, ref)
        if ticket.status is not TicketStatus.closed:
            raise ActionRefused(f"{ticket.ref} is not closed (it is {ticket.status.value})")
        await set_status(session, ticket, TicketStatus.open, actor)
        await _touch(session, deps, ticket, _action(actor, "reopened", key))
    return ticket


async def note(deps: Deps, ref: str, text: str, *, actor: str, key: str | None = None) -> Ticket:
    """An internal note: kept in the audit trail and the card's thread, never mailed."""
    text = text.strip()
    if not text:
        raise ActionRefused("the note is empty")
    async with deps.db.transaction() as session:
        ticket = await get_ticket(session, ref)
        await _note(session, deps, ticket, text, actor, key)
    return ticket


async def _note(session: AsyncSession, deps: Deps, ticket: Ticket, text: str, actor: str, key: str | None) -> None:
    await audit(session, actor, "ticket.note", ticket, text=text[:5000])
    await _touch(session, deps, ticket, _action(actor, "noted", key and f"{key}:note", text=text[:3000]))


async def reply(
    deps: Deps, ref: str, *, text: str, staff_id: str, staff_name: str, key: str, internal_note: str | None = None,
) -> ReplyResult:
    """Mail a staff reply to the requester, threaded to their last mail; the ticket then waits for them.

    `key` identifies the submission (the Slack view id): handling it twice queues one mail.
    """
    text = text.strip()
    if not text:
        raise ActionRefused("the reply is empty")
    actor = f"slack:{staff_id}"
    async with deps.db.transaction() as session:
        ticket = await get_ticket(session, ref)
        if not ticket.requester_email:
            raise ActionRefused(f"{ticket.ref} has no requester address to answer")
        last = await _last_inbound(session, ticket)
        subject = reply_subject(ticket.subject or (last.subject if last else ""), ticket.ref)
        quoted = _quoted(last) if last else ""
        subject, body, html = render_mail(
            "staff_reply", ticket.language, subject=subject, body=text, staff_name=staff_name or "EOCIC adviser",
            desk_name=deps.settings.desk_name, quoted=quoted,
        )
        msg = compose(
            deps.settings, to=ticket.requester_email, subject=subject, text=body, html=html,
            in_reply_to=last.message_id if last else None,
            references=last.references.split() if last and last.references else None,
            automatic=False,
        )
        row = await queue_mail(session, msg, key=f"reply:{key}", kind="reply", ticket_id=ticket.id)
        if row is None:
            return ReplyResult(ticket.ref, None, ticket.requester_email, subject)
        session.add(_outgoing_message(deps, ticket, msg, body))
        if ticket.first_response_at is None:
            ticket.first_response_at = utcnow()
        await set_status(session, ticket, TicketStatus.waiting, actor)
        await audit(session, actor, "ticket.replied", ticket, outbox=row.id, to=ticket.requester_email, staff=staff_name)
        await _touch(session, deps, ticket, _action(actor, "replied", key, to=ticket.requester_email, text=text[:3000]))
        if internal_note and internal_note.strip():
            await _note(session, deps, ticket, internal_note.strip(), actor, key)
    deps.mail_queued()
    return ReplyResult(ticket.ref, row.id, ticket.requester_email, subject)


def reply_subject(subject: str, ref: str) -> str:
    """'Re: <subject> [EOCIC-00042]': the reference keeps the requester's answer on the ticket."""
    subject = " ".join((subject or "").split()) or "(no subject)"
    if not subject.lower().startswith(("re:", "aw:", "sv:", "rif:", "odp:")):
        subject = f"Re: {subject}"
    return subject if ref.lower() in subject.lower() else f"{subject} [{ref}]"


def _quoted(message: Message) -> str:
    lines = (message.text or "").strip().splitlines()[:QUOTED_LINES]
    when = email.utils.format_datetime(message.date or message.received_at)
    who = message.from_name or message.from_addr
    return "\n".join([f"On {when}, {who} wrote:", *(f"> {line}" for line in lines)])


def _outgoing_message(deps: Deps, ticket: Ticket, msg, body: str) -> Message:
    """The reply in the ticket's history (direction "out"), keyed by its Message-ID."""
    return Message(
        mailbox=deps.settings.desk_address, dedup_key=msg["Message-ID"], direction="out", kind="reply",
        ticket_id=ticket.id, message_id=msg["Message-ID"], in_reply_to=msg["In-Reply-To"],
        references=msg["References"] or "", from_addr=deps.settings.desk_address, to=[ticket.requester_email],
        date=utcnow(), subject=str(msg["Subject"])[:998], text=body,
    )


async def _last_inbound(session: AsyncSession, ticket: Ticket) -> Message | None:
    query = select(Message).where(
        Message.ticket_id == ticket.id, Message.direction == "in", Message.kind.in_(("ticket", "reply")),
        Message.message_id.is_not(None),
    )
    return (await session.exec(query.order_by(Message.id.desc()).limit(1))).first()


def _action(actor: str, verb: str, key: str | None, **detail) -> StaffAction:
    return StaffAction(actor=actor, verb=verb, detail=detail, **({"key": key} if key else {}))
