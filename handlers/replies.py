"""Recognise a reply to an existing ticket, before any classifier runs.

In this order: one of our own Message-IDs (or a recorded inbound one) in In-Reply-To or
References; then a ticket reference in the subject, accepted only from the requester or a
known contact of the same partnership (anyone can type a reference); else no ticket.
"""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.parsing import ParsedMail
from handlers.tickets import refs_in
from models.outbox import OutboxMail
from models.partnerships import contact_by_email
from models.tickets import Message, Ticket, ticket_by_ref


def may_thread(mail: ParsedMail) -> bool:
    """Whether `find_ticket` could find anything: the mail names a Message-ID or a ticket reference."""
    return bool(mail.in_reply_to or mail.references or refs_in(mail.subject))


async def find_ticket(session: AsyncSession, mail: ParsedMail) -> Ticket | None:
    return await _by_message_ids(session, mail) or await _by_subject_ref(session, mail)


async def _by_message_ids(session: AsyncSession, mail: ParsedMail) -> Ticket | None:
    ids = [i for i in [mail.in_reply_to, *reversed(mail.references)] if i]
    if not ids:
        return None
    ticket_id = (
        await session.exec(select(OutboxMail.ticket_id).where(OutboxMail.message_id.in_(ids), OutboxMail.ticket_id.is_not(None)))
    ).first() or (
        await session.exec(select(Message.ticket_id).where(Message.message_id.in_(ids), Message.ticket_id.is_not(None)))
    ).first()
    return await session.get(Ticket, ticket_id) if ticket_id else None


async def _by_subject_ref(session: AsyncSession, mail: ParsedMail) -> Ticket | None:
    for ref in refs_in(mail.subject):
        ticket = await ticket_by_ref(session, ref)
        if ticket is None:
            continue
        if mail.from_addr and mail.from_addr == ticket.requester_email:
            return ticket
        contact = await contact_by_email(session, mail.from_addr)
        if contact and ticket.partnership_id and contact.partnership_id == ticket.partnership_id:
            return ticket
    return None
