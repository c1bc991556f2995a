"""What we hold on a person (export, GDPR art. 15) and erasing it (art. 17), confirmed by staff.

Erasure keeps the history of the desk (tickets, counts, that a mail was sent) but not the
person: their contact row becomes a pseudonym (`erased-<id>@erased.invalid`), their
subscriptions and consent records are deleted, the mail they wrote loses its text, raw source
and attachments, and every text column of every table — including those of other features —
is scrubbed of their address and name. An audit entry records that it happened, without them.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import JSON, Enum, LargeBinary, String, Text, cast, or_, update
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import lists
from handlers.tickets import audit
from models.base import utcnow
from models.lists import Subscription
from models.outbox import OutboxMail, OutboxState
from models.partnerships import Contact, contact_by_email
from models.tickets import Attachment, Message, Ticket

ERASED_TEXT = "[erased on request]"
ERASED_NAME = "[erased person]"


class PersonNotFound(LookupError):
    def __init__(self, address: str) -> None:
        super().__init__(f"we hold no contact {address!r}")


def pseudonym(contact_id: int) -> str:
    return f"erased-{contact_id}@erased.invalid"


def _iso(value) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _row(obj, skip: tuple[str, ...] = ()) -> dict:
    return {k: _iso(getattr(v, "value", v)) for k, v in obj.model_dump().items() if k not in skip}


async def _find(session: AsyncSession, address: str) -> Contact:
    contact = await contact_by_email(session, address.strip())
    if contact is None or contact.erased_at is not None:
        raise PersonNotFound(address)
    return contact


def _mentions(address: str):
    """Messages from, to or copied to `address` (JSON lists are searched as text)."""
    pattern = f"%{address}%"
    return or_(Message.from_addr == address, cast(Message.to, String).ilike(pattern), cast(Message.cc, String).ilike(pattern))


async def export(session: AsyncSession, address: str) -> dict:
    """Everything held on a person, as plain data."""
    contact = await _find(session, address)
    subs = list(await session.exec(select(Subscription).where(Subscription.contact_id == contact.id)))
    list_names = {m.id: m.name for m in await lists.all_lists(session)}
    tickets = list(await session.exec(select(Ticket).where(or_(Ticket.requester_id == contact.id, Ticket.requester_email == contact.email))))
    messages = list(await session.exec(select(Message).where(_mentions(contact.email)).order_by(Message.id)))
    outbox = list(await session.exec(select(OutboxMail).where(OutboxMail.recipient == contact.email).order_by(OutboxMail.id)))
    return {
        "contact": _row(contact),
        "lists": [m.name for m in await lists.lists_of(session, contact)],
        "subscriptions": [{**_row(s), "list": list_names.get(s.list_id)} for s in subs],
        "tickets": [_row(t) for t in tickets],
        "messages": [_row(m, skip=("raw", "html")) for m in messages],
        "mail_sent": [_row(o, skip=("raw",)) for o in outbox],
    }


async def erase(session: AsyncSession, address: str, actor: str, *, ticket_ref: str | None = None) -> dict:
    """Erase or pseudonymise the person everywhere, in the caller's transaction. Returns what was done."""
    contact = await _find(session, address)
    address, name, alias = contact.email, contact.name.strip(), pseudonym(contact.id)
    done: dict[str, int] = {}

    subs = list(await session.exec(select(Subscription).where(Subscription.contact_id == contact.id)))
    for sub in subs:
        await session.delete(sub)
    done["subscriptions"] = len(subs)

    authored = list(await session.exec(select(Message).where(Message.from_addr == address)))
    for message in authored:
        message.from_addr, message.from_name = alias, ""
        message.text, message.html, message.raw, message.subject = ERASED_TEXT, None, None, ERASED_TEXT
        session.add(message)
        await session.exec(update(Attachment).where(Attachment.message_id == message.id).values(content=None, filename=ERASED_TEXT))
    done["messages_written"] = len(authored)

    outbox = list(await session.exec(select(OutboxMail).where(OutboxMail.recipient == address)))
    for row in outbox:
        row.recipient, row.rcpt_to, row.raw = alias, [alias], None
        if row.state is OutboxState.pending:
            row.state, row.last_error = OutboxState.cancelled, "recipient erased"
        session.add(row)
    done["mail_to_them"] = len(outbox)

    await session.exec(update(Ticket).where(Ticket.requester_email == address).values(requester_email=alias))
    contact.email, contact.name, contact.organisation, contact.country = alias, "", "", None
    contact.role = contact.language = contact.consent_source = contact.failing_reason = None
    contact.consent_at = contact.last_contact_at = None
    contact.erased_at = utcnow()
    session.add(contact)
    await session.flush()

    done["scrubbed_fields"] = await scrub_everywhere(session, [address, name] if len(name) >= 3 else [address], alias)
    await audit(session, actor, "person.erased", None, contact=contact.id, pseudonym=alias, request=ticket_ref, **done)
    return {"pseudonym": alias, **done}


def _column_kind(col) -> str | None:
    """'text' for string and JSON columns (also behind TypeDecorators such as AutoString), 'blob' for bytes."""
    col_type = col.type.impl_instance if isinstance(col.type, TypeDecorator) else col.type
    if isinstance(col_type, LargeBinary):
        return "blob"
    if isinstance(col_type, (String, Text, JSON)) and not isinstance(col_type, Enum):
        return "text"
    return None


def _replace(value: Any, needles: list[re.Pattern], alias: str) -> Any:
    if isinstance(value, str):
        for needle in needles:
            value = needle.sub(alias if "@" in needle.pattern else ERASED_NAME, value)
        return value
    if isinstance(value, list):
        return [_replace(v, needles, alias) for v in value]
    if isinstance(value, dict):
        return {k: _replace(v, needles, alias) for k, v in value.items()}
    return value


async def scrub_everywhere(session: AsyncSession, needles: list[str], alias: str) -> int:
    """Replace the needles in every text and JSON column of every table; drop raw bytes that contain them.

    Works on tables this module does not know (other features' queues and logs) too.
    """
    patterns = [re.compile(re.escape(n), re.I) for n in needles if n]
    lowered = [n.lower().encode() for n in needles if n]
    changed = 0
    for table in SQLModel.metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1:
            continue
        text_cols = [c for c in table.columns if _column_kind(c) == "text" and c is not pk[0]]
        blob_cols = [c for c in table.columns if _column_kind(c) == "blob"]
        if text_cols:
            hit = or_(*[cast(c, Text).ilike(f"%{n}%") for c in text_cols for n in needles if n])
            rows = (await session.exec(select(pk[0], *text_cols).where(hit))).all()
            for row in rows:
                values = {}
                for col, old in zip(text_cols, row[1:]):
                    new = _replace(old, patterns, alias)
                    if new != old:
                        values[col.name] = new
                if values:
                    await session.exec(update(table).where(pk[0] == row[0]).values(**values))
                    changed += len(values)
        for col in blob_cols:
            ids = (await session.exec(select(pk[0]).where(col.is_not(None)))).all()
            for ident in ids:
                data = (await session.exec(select(col).where(pk[0] == ident))).one()
                if data and any(n in bytes(data).lower() for n in lowered):
                    await session.exec(update(table).where(pk[0] == ident).values({col.name: None}))
                    changed += 1
    return changed
