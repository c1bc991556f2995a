"""A bounce marks the address it reports on as failing: at once when permanent, after a few when not."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.loops import bounce_details
from handlers.parsing import ParsedMail
from models.audit import audit
from models.outbox import OutboxMail
from models.partnerships import Contact, contact_by_email
from models.tickets import Message

SOFT_BOUNCE_LIMIT = 3


async def record_bounce(session: AsyncSession, mail: ParsedMail, message: Message) -> list[str]:
    recipients, original_id, permanent = bounce_details(mail)
    if original_id:
        original = (await session.exec(select(OutboxMail).where(OutboxMail.message_id == original_id))).first()
        if original is not None:
            message.ticket_id = original.ticket_id
            recipients = recipients or [original.recipient]
    for address in recipients:
        contact = await contact_by_email(session, address) or Contact(email=address)
        contact.soft_bounces += 0 if permanent else 1
        if permanent or contact.soft_bounces >= SOFT_BOUNCE_LIMIT:
            contact.failing = True
            contact.failing_reason = f"{'hard' if permanent else 'repeated soft'} bounce {mail.message_id or ''}".strip()
        session.add(contact)
        await audit(session, "desk", "address.bounced", None, address=address, permanent=permanent)
    return recipients
