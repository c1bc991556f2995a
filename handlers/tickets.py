"""What can happen to a ticket. Every change is one function, used by mail intake, Slack and the CLI."""

from __future__ import annotations

import re

from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.ticket_views import (REF_PREFIX, SUMMARY_FIELDS, TicketNotFound, listed, lookup_ref, normalise_ref,
                                   ref_for, summary, ticket_mail)
from models.audit import audit
from models.base import utcnow
from models.db import driver_rows
from models.partnerships import Contact, partnership_acronym
from models.tickets import Message, Ticket, TicketStatus, ticket_by_ref

__all__ = ["REF_PREFIX", "TicketNotFound", "describe", "get_ticket", "list_tickets", "new_ticket", "normalise_ref",
           "open_ticket", "ref_for", "refs_in", "reopen_on_reply", "set_status", "ticket_values"]
REF_RE = re.compile(r"\[?\b(EOCIC-\d{5,})\b\]?", re.I)


def refs_in(subject: str) -> list[str]:
    return [normalise_ref(m) for m in REF_RE.findall(subject)]


async def get_ticket(session: AsyncSession, ref: str) -> Ticket:
    ticket = await ticket_by_ref(session, lookup_ref(ref))
    if ticket is None:
        raise TicketNotFound(ref)
    return ticket


async def open_ticket(session: AsyncSession, *, actor: str = "desk", **fields) -> Ticket:
    """A new ticket (`new_ticket` fields), its reference and its audit entry."""
    ticket = new_ticket(**fields)
    session.add(ticket)
    await session.flush()
    ticket.ref = ref_for(ticket.id)
    await audit(session, actor, "ticket.opened", ticket, intent=ticket.intent, category=ticket.category)
    return ticket


def new_ticket(**fields) -> Ticket:
    """The row of a new ticket (the fields of `ticket_values`), not added yet; its `ref` comes with its id."""
    return Ticket(**ticket_values(**fields))


def ticket_values(
    *,
    subject: str,
    requester: Contact | None,
    requester_email: str,
    intent: str,
    category: str | None,
    partnership_id: int | None,
    language: str | None,
    needs_review: bool = False,
    confidence: dict | None = None,
    reasons: list[str] | None = None,
) -> dict:
    """The column values of `new_ticket` (intake inserts a batch's tickets at once with them)."""
    return dict(
        subject=subject[:998],
        requester_id=requester.id if requester else None,
        requester_email=requester_email,
        intent=intent,
        category=category,
        partnership_id=partnership_id,
        language=language,
        needs_review=needs_review,
        confidence=confidence or {},
        reasons=reasons or [],
    )


async def reopen_on_reply(session: AsyncSession, ticket: Ticket, actor: str = "desk") -> None:
    """A reply from outside brings a waiting or closed ticket back to the advisers."""
    if ticket.status in (TicketStatus.waiting, TicketStatus.closed):
        previous = ticket.status
        ticket.status = TicketStatus.open
        ticket.closed_at = None
        ticket.updated_at = utcnow()
        session.add(ticket)
        await audit(session, actor, "ticket.reopened", ticket, previous=previous.value, why="reply received")


async def set_status(session: AsyncSession, ticket: Ticket, status: TicketStatus, actor: str) -> None:
    previous = ticket.status
    ticket.status = status
    ticket.updated_at = utcnow()
    ticket.closed_at = utcnow() if status is TicketStatus.closed else None
    session.add(ticket)
    await audit(session, actor, f"ticket.{status.value}", ticket, previous=previous.value)


async def list_tickets(session: AsyncSession, status: str | None = None) -> list[dict]:
    """Every ticket (or those in one status) with its partnership and message count (`ticket_views.listed`)."""
    return await listed(driver_rows(session), status)


async def describe(session: AsyncSession, ticket: Ticket, *, with_messages: bool = True) -> dict:
    """A ticket as plain data (the CLI's --json, Slack cards, exports); without messages, their count."""
    data = summary([getattr(ticket, name) for name in SUMMARY_FIELDS],
                   await partnership_acronym(session, ticket.partnership_id))
    if not with_messages:
        data["messages"] = (await session.exec(select(func.count()).where(Message.ticket_id == ticket.id))).one()
        return data
    return {**data, **await ticket_mail(driver_rows(session), ticket.id)}
