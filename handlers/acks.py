"""The acknowledgement a new ticket gets: in the requester's language, rate-limited, never into a loop."""

from __future__ import annotations

import email.policy
from datetime import timedelta

from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from config.settings import Settings
from handlers.loops import never_answer
from handlers.outgoing import compose, envelope_address, queue_mail
from handlers.parsing import ParsedMail
from models.audit import audit
from models.base import utcnow
from models.outbox import OutboxMail
from models.tickets import Ticket
from templates import render_mail


async def acknowledge(session: AsyncSession, ticket: Ticket, mail: ParsedMail, settings: Settings) -> OutboxMail | None:
    recipient = _reply_address(mail)
    if recipient is None:
        await audit(session, "desk", "ack.skipped", ticket, why="no valid address",
                    to=(mail.reply_to or mail.from_addr)[:320])
        return None
    if never_answer(recipient, settings.desk_address):
        await audit(session, "desk", "ack.skipped", ticket, why="machine or own address", to=recipient)
        return None
    if await _acks_last_hour(session, recipient) >= settings.acks_per_sender_per_hour:
        await audit(session, "desk", "ack.skipped", ticket, why="rate limit", to=recipient)
        return None
    subject, text, html = render_mail(
        "ack", ticket.language, ref=ticket.ref, name=mail.from_name, subject=mail.subject or "(no subject)",
        response_days=settings.first_response_days,
    )
    msg = compose(
        settings, to=recipient, subject=subject, text=text, html=html,
        in_reply_to=mail.message_id, references=mail.references,
    )
    return await queue_mail(session, msg, key=f"ack:{ticket.id}", kind="ack", ticket_id=ticket.id)


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


async def _acks_last_hour(session: AsyncSession, recipient: str) -> int:
    since = utcnow() - timedelta(hours=1)
    query = select(func.count(OutboxMail.id)).where(
        OutboxMail.kind == "ack", OutboxMail.recipient == recipient.lower(), OutboxMail.created_at >= since
    )
    return (await session.exec(query)).one()
