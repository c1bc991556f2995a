"""The acknowledgement a new ticket gets: in the requester's language, rate-limited, never into a loop."""

from __future__ import annotations

import email.policy
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage

from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from config.settings import Settings
from handlers.loops import never_answer
from handlers.outgoing import compose, envelope_address, outbox_fields, queue_mail
from handlers.parsing import ParsedMail
from models.audit import audit
from models.base import insert_all, utcnow
from models.outbox import OutboxMail
from models.tickets import Ticket
from templates import render_mail


@dataclass(frozen=True)
class Ack:
    """An acknowledgement decided but not composed yet: intake composes a batch's in the worker pool."""

    ticket_id: int
    ref: str
    language: str | None
    recipient: str
    name: str
    subject: str
    in_reply_to: str | None
    references: list[str]


async def acknowledge(
    session: AsyncSession, ticket: Ticket, mail: ParsedMail, settings: Settings, later: list[Ack] | None = None
) -> OutboxMail | None:
    """Queue the acknowledgement of a new ticket, unless it must not be sent (said in the audit). With
    `later`, it is only decided here and appended there, for `queue_composed()` in the same transaction."""
    decided = [] if later is None else later
    before = len(decided)
    await acknowledge_many(session, [(ticket, mail)], settings, decided)
    if later is not None or len(decided) == before:
        return None
    return await queue_mail(session, compose_ack(settings, decided[-1]), key=f"ack:{ticket.id}", kind="ack",
                            ticket_id=ticket.id)


async def acknowledge_many(session: AsyncSession, opened: list[tuple[Ticket, ParsedMail]], settings: Settings,
                           later: list[Ack]) -> None:
    """Decide the acknowledgements of new tickets, in order, into `later` (one query for the rate limit,
    counting the ones `later` already holds: they are not in the outbox yet)."""
    wanted = [(ticket, mail, recipient) for ticket, mail in opened
              if (recipient := await _answerable(session, ticket, mail, settings)) is not None]
    if not wanted:
        return
    since = utcnow() - timedelta(hours=1)
    query = (select(OutboxMail.recipient, func.count(OutboxMail.id))
             .where(OutboxMail.kind == "ack", OutboxMail.recipient.in_({r.lower() for *_, r in wanted}), OutboxMail.created_at >= since)
             .group_by(OutboxMail.recipient))
    counts = dict((await session.exec(query)).all())
    for ack in later:
        counts[ack.recipient.lower()] = counts.get(ack.recipient.lower(), 0) + 1
    for ticket, mail, recipient in wanted:
        if counts.get(recipient.lower(), 0) >= settings.acks_per_sender_per_hour:
            await audit(session, "desk", "ack.skipped", ticket, why="rate limit", to=recipient)
            continue
        counts[recipient.lower()] = counts.get(recipient.lower(), 0) + 1
        later.append(_ack(ticket, mail, recipient))


async def _answerable(session: AsyncSession, ticket: Ticket, mail: ParsedMail, settings: Settings) -> str | None:
    """The address an acknowledgement may go to, or None with why in the audit."""
    recipient = _reply_address(mail)
    if recipient is None:
        await audit(session, "desk", "ack.skipped", ticket, why="no valid address",
                    to=(mail.reply_to or mail.from_addr)[:320])
        return None
    if never_answer(recipient, settings.desk_address):
        await audit(session, "desk", "ack.skipped", ticket, why="machine or own address", to=recipient)
        return None
    return recipient


def _ack(ticket: Ticket, mail: ParsedMail, recipient: str) -> Ack:
    return Ack(ticket.id, ticket.ref, ticket.language, recipient, mail.from_name, mail.subject or "(no subject)",
               mail.message_id, mail.references)


def compose_ack(settings: Settings, ack: Ack) -> EmailMessage:
    subject, text, html = render_mail(
        "ack", ack.language, ref=ack.ref, name=ack.name, subject=ack.subject, response_days=settings.first_response_days,
    )
    return compose(settings, to=ack.recipient, subject=subject, text=text, html=html,
                   in_reply_to=ack.in_reply_to, references=ack.references)


def ack_fields(settings: Settings, ack: Ack) -> dict:
    """In a worker: the outbox columns of `ack`, composed."""
    return outbox_fields(compose_ack(settings, ack))


async def queue_composed(session: AsyncSession, composed: list[tuple[Ack, dict]]) -> None:
    """The outbox rows of acknowledgements composed by `ack_fields()`; as `queue_mail`, one per ticket."""
    keys = [f"ack:{ack.ticket_id}" for ack, _ in composed]
    taken = set((await session.exec(select(OutboxMail.key).where(OutboxMail.key.in_(keys)))).all())
    await insert_all(session, OutboxMail, [dict(key=f"ack:{ack.ticket_id}", kind="ack", ticket_id=ack.ticket_id, **fields)
                                           for ack, fields in composed if f"ack:{ack.ticket_id}" not in taken])


def _reply_address(mail: ParsedMail) -> str | None:
    """Reply-To, else From, when that header holds exactly one mailbox with a valid address.

    Read from the parsed header, never from its decoded text: an encoded-word is a display name
    or nothing, so `=?utf-8?b?…?=` decoding to `eve@victim.example` (or to a list) is no address.
    """
    for name in ("reply-to", "from"):
        value = mail.header(name)
        if not value or len(value) > 998:  # one mailbox fits a header line; longer: a list, never parsed here
            continue
        try:
            mailboxes = email.policy.default.header_factory(name, value).addresses
            if len(mailboxes) == 1:
                return envelope_address(mailboxes[0].addr_spec)
        except Exception:  # BadAddress, or a header the parser cannot take: no mail to it
            continue
    return None
