"""What we hold on a person (export, GDPR art. 15) and erasing it (art. 17), confirmed by staff.

Both look everywhere, decoded (`handlers.person_search`): every text and JSON column of every
table, and every stored byte string (raw mail, attachments, outgoing mail) as a mail is decoded
(base64, quoted-printable, RFC 2047, UTF-16). Export lists each row that holds the person.

Erasure keeps the history of the desk (tickets, counts, that a mail was sent) but not the
person: each contact row with their address becomes a pseudonym (`erased-<id>@erased.invalid`),
their subscriptions are deleted, the mail they wrote loses its text, and every text column is
scrubbed of their address and name. Bytes that hold them (the raw source and attachments of
mail from or to them, any other mail or attachment that names them, outgoing mail to them) are
replaced by a tombstone saying what was removed and when. Their pending mail is cancelled, never
sent. `erase_and_reclaim` then vacuums, so the erased bytes leave the database files too (SQLite
runs with secure_delete). An audit entry records that it happened, without them.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, LargeBinary, String, Text, cast, func, or_, update
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import lists
from handlers.person_search import Needles, tombstone
from models.audit import audit
from models.base import utcnow
from models.db import Database
from models.lists import all_lists, subscriptions_of
from models.outbox import OutboxMail, OutboxState
from models.partnerships import Contact
from models.tickets import Attachment, Message, Ticket
import models.schema  # noqa: F401  (the export and erasure search every table: all must be registered)

ERASED_TEXT = "[erased on request]"
ERASED_NAME = "[erased person]"
_UNSENT = (OutboxState.pending, OutboxState.sending)
_WHAT = {("message", "raw"): "the raw mail", ("attachment", "content"): "the attachment",
         ("outboxmail", "raw"): "the outgoing mail"}


class PersonNotFound(LookupError):
    def __init__(self, address: str) -> None:
        super().__init__(f"we hold no contact {address!r}")


def pseudonym(contact_id: int) -> str:
    return f"erased-{contact_id}@erased.invalid"


def _iso(value) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _row(obj, skip: tuple[str, ...] = ()) -> dict:
    return {k: _iso(getattr(v, "value", v)) for k, v in obj.model_dump().items() if k not in skip}


async def _find(session: AsyncSession, address: str) -> list[Contact]:
    """Every contact row with this address (in any case), the oldest first."""
    address = address.strip().lower()
    rows = list(await session.exec(select(Contact).where(func.lower(Contact.email) == address).order_by(Contact.id)))
    rows = [c for c in rows if c.erased_at is None]
    if not rows:
        raise PersonNotFound(address)
    return rows


def _needles(contacts: list[Contact]) -> tuple[Needles, list[re.Pattern]]:
    """What identifies the person (address, names of three letters or more), to find and to replace."""
    address = contacts[0].email.lower()
    names = sorted({" ".join(c.name.split()) for c in contacts if len(c.name.strip()) >= 3}, key=len, reverse=True)
    patterns = [re.compile(r"\s+".join(map(re.escape, n.split())), re.I) for n in [address, *names]]
    return Needles(address, *names), patterns


def _mentions(address: str):
    """Messages from, to or copied to `address` (JSON lists are searched as text)."""
    pattern = f"%{address}%"
    return or_(func.lower(Message.from_addr) == address, cast(Message.to, String).ilike(pattern),
               cast(Message.cc, String).ilike(pattern))


async def export(session: AsyncSession, address: str) -> dict:
    """Everything held on a person, as plain data: the main records, then every row of every table that names them."""
    contacts = await _find(session, address)
    contact = contacts[0]
    ids = [c.id for c in contacts]
    needles, _ = _needles(contacts)
    subs = await subscriptions_of(session, ids)
    list_names = {m.id: m.name for m in await all_lists(session)}
    tickets = list(await session.exec(select(Ticket).where(or_(Ticket.requester_id.in_(ids), Ticket.requester_email == contact.email))))
    everywhere = await find_everywhere(session, needles)
    message_ids = set(everywhere.get(Message.__tablename__, {})) | set(
        await session.exec(select(Message.id).where(_mentions(contact.email))))
    messages = list(await session.exec(select(Message).where(Message.id.in_(message_ids)).order_by(Message.id)))
    attachment_ids = set(everywhere.get(Attachment.__tablename__, {})) | set(
        await session.exec(select(Attachment.id).where(Attachment.message_id.in_(message_ids))))
    attachments = list(await session.exec(select(Attachment).where(Attachment.id.in_(attachment_ids)).order_by(Attachment.id)))
    outbox = list(await session.exec(select(OutboxMail).where(
        or_(OutboxMail.recipient == contact.email, OutboxMail.id.in_(everywhere.get(OutboxMail.__tablename__, {}))))
        .order_by(OutboxMail.id)))
    return {
        "contact": _row(contact),
        "other_contact_rows": [_row(c) for c in contacts[1:]],
        "lists": [m.name for m in await lists.lists_of(session, contact)],
        "subscriptions": [{**_row(s), "list": list_names.get(s.list_id)} for s in subs],
        "tickets": [_row(t) for t in tickets],
        "messages": [_row(m, skip=("raw", "html")) for m in messages],
        "attachments": [{**_row(a, skip=("content",)), "content_bytes": len(a.content or b"")} for a in attachments],
        "mail_sent": [_row(o, skip=("raw",)) for o in outbox],
        "held_in": {table: [{"id": ident, "columns": cols} for ident, cols in sorted(rows.items())]
                    for table, rows in sorted(everywhere.items())},
    }


async def erase(session: AsyncSession, address: str, actor: str, *, ticket_ref: str | None = None) -> dict:
    """Erase or pseudonymise the person everywhere, in the caller's transaction. Returns what was done."""
    contacts = await _find(session, address)
    contact = contacts[0]
    address, alias, now = contact.email.lower(), pseudonym(contact.id), utcnow()
    needles, patterns = _needles(contacts)
    done: dict[str, Any] = {}

    subs = await subscriptions_of(session, [c.id for c in contacts])
    for sub in subs:
        await session.delete(sub)
    done["subscriptions"] = len(subs)

    involved = list(await session.exec(select(Message).where(_mentions(address))))
    for message in involved:
        if message.from_addr.lower() == address:
            message.from_addr, message.from_name = alias, ""
            message.text, message.html, message.subject = ERASED_TEXT, None, ERASED_TEXT
        if message.raw:
            message.raw = tombstone("the raw mail", len(message.raw), now)
        session.add(message)
        await _tombstone_attachments(session, message.id, now)
    done["messages_written"] = sum(m.from_addr == alias for m in involved)
    done["messages_emptied"] = len(involved)

    outbox = list(await session.exec(select(OutboxMail).where(
        or_(func.lower(OutboxMail.recipient) == address, cast(OutboxMail.rcpt_to, String).ilike(f"%{address}%")))))
    for row in outbox:
        row.recipient, row.rcpt_to = alias, [alias]
        row.raw = tombstone("the outgoing mail", len(row.raw or b""), now) if row.raw else None
        if row.state in _UNSENT:
            row.state, row.last_error = OutboxState.cancelled, "recipient erased"
        session.add(row)
    done["mail_to_them"] = len(outbox)

    await session.exec(update(Ticket).where(func.lower(Ticket.requester_email) == address).values(requester_email=alias))
    for row in contacts:
        row.email = alias if row is contact else pseudonym(row.id)
        row.name, row.organisation, row.country = "", "", None
        row.role = row.language = row.consent_source = row.failing_reason = None
        row.consent_at = row.last_contact_at = None
        row.erased_at = now
        session.add(row)
    await session.flush()

    scrubbed, tables = await scrub_everywhere(session, needles, patterns, alias, now)
    done["scrubbed_fields"] = scrubbed
    done["contact_rows"] = len(contacts)
    await audit(session, actor, "person.erased", None, contact=contact.id, pseudonym=alias, request=ticket_ref, **done)
    done["tables"] = sorted(tables | {"contact", "subscription", "message", "attachment", "outboxmail", "ticket", "auditentry"})
    return {"pseudonym": alias, **done}


async def erase_and_reclaim(db: Database, address: str, actor: str, *, ticket_ref: str | None = None) -> dict:
    """`erase` in its own transaction, then vacuum the touched tables so the old bytes leave the files."""
    async with db.transaction() as session:
        done = await erase(session, address, actor, ticket_ref=ticket_ref)
    done["vacuumed"] = await db.reclaim(done["tables"])
    return done


async def _tombstone_attachments(session: AsyncSession, message_id: int, now: datetime) -> None:
    for att in await session.exec(select(Attachment).where(Attachment.message_id == message_id)):
        att.filename = ERASED_TEXT
        if att.content:
            att.content = tombstone(f"the attachment ({att.content_type})", len(att.content), now)
        session.add(att)


def _column_kind(col) -> str | None:
    """'text' for string and JSON columns (also behind TypeDecorators such as AutoString), 'blob' for bytes."""
    col_type = col.type.impl_instance if isinstance(col.type, TypeDecorator) else col.type
    if isinstance(col_type, LargeBinary):
        return "blob"
    if isinstance(col_type, (String, Text, JSON)) and not isinstance(col_type, Enum):
        return "text"
    return None


def _replace(value: Any, patterns: list[re.Pattern], alias: str) -> Any:
    if isinstance(value, str):
        for pattern in patterns:
            value = pattern.sub(alias if "@" in pattern.pattern else ERASED_NAME, value)
        return value
    if isinstance(value, list):
        return [_replace(v, patterns, alias) for v in value]
    if isinstance(value, dict):
        return {k: _replace(v, patterns, alias) for k, v in value.items()}
    return value


def _tables():
    for table in SQLModel.metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        if len(pk) == 1:
            text_cols = [c for c in table.columns if _column_kind(c) == "text" and c is not pk[0]]
            blob_cols = [c for c in table.columns if _column_kind(c) == "blob"]
            yield table, pk[0], text_cols, blob_cols


async def find_everywhere(session: AsyncSession, needles: Needles) -> dict[str, dict[Any, list[str]]]:
    """{table: {primary key: [columns that hold the person]}} over every table, blobs decoded.

    Works on tables this module does not know (other features' queues and logs) too.
    """
    found: dict[str, dict[Any, list[str]]] = {}
    for table, pk, text_cols, blob_cols in _tables():
        hits = found.setdefault(table.name, {})
        if text_cols:
            where = or_(*[cast(c, Text).ilike(f"%{n}%") for c in text_cols for n in needles.texts])
            for row in (await session.exec(select(pk, *text_cols).where(where))).all():
                cols = [c.name for c, v in zip(text_cols, row[1:]) if v is not None and needles.in_text(str(v))]
                if cols:
                    hits[row[0]] = cols
        for col in blob_cols:
            result = await session.stream(select(pk, col).where(col.is_not(None)).execution_options(yield_per=200))
            async for ident, data in result:
                if needles.in_bytes(bytes(data)):
                    hits.setdefault(ident, []).append(col.name)
        if not hits:
            del found[table.name]
    return found


async def scrub_everywhere(
    session: AsyncSession, needles: Needles, patterns: list[re.Pattern], alias: str, now: datetime
) -> tuple[int, set[str]]:
    """Replace the person in every text column, tombstone every blob that holds them; cancel such unsent mail.

    Returns (fields changed, names of the tables changed).
    """
    changed, tables = 0, set()
    everywhere = await find_everywhere(session, needles)
    by_name = {table.name: (table, pk, text_cols, blob_cols) for table, pk, text_cols, blob_cols in _tables()}
    for name, rows in everywhere.items():
        table, pk, text_cols, blob_cols = by_name[name]
        for ident, cols in rows.items():
            current = (await session.exec(select(pk, *[table.c[c] for c in cols]).where(pk == ident))).one()[1:]
            values = {}
            for col, old in zip(cols, current):
                if _column_kind(table.c[col]) == "blob":
                    values[col] = tombstone(_WHAT.get((name, col), f"the {name}.{col} bytes"), len(old), now)
                else:
                    values[col] = _replace(old, patterns, alias)
            if name == OutboxMail.__tablename__ and "raw" in values:
                await session.exec(update(table).where(pk == ident, table.c.state.in_([s.name for s in _UNSENT]))
                                   .values(state=OutboxState.cancelled.name, last_error="it named an erased person"))
            await session.exec(update(table).where(pk == ident).values(**values))
            changed += len(values)
            tables.add(name)
    return changed, tables
