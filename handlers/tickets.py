"""What can happen to a ticket. Every change is one function, used by mail intake, Slack and the CLI."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from json.encoder import encode_basestring

from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.audit import audit
from models.base import utcnow
from models.outbox import OutboxMail
from models.partnerships import Contact, Partnership, partnership_acronym
from models.tickets import Message, Ticket, TicketStatus, ticket_by_ref

REF_PREFIX = "EOCIC-"
REF_RE = re.compile(r"\[?\b(EOCIC-\d{5,})\b\]?", re.I)


class TicketNotFound(LookupError):
    def __init__(self, ref: str) -> None:
        super().__init__(f"there is no ticket {ref[:40]!r}; references look like {REF_PREFIX}00042")
        self.ref = ref


def ref_for(ticket_id: int) -> str:
    return f"{REF_PREFIX}{ticket_id:05d}"


def normalise_ref(text: str) -> str:
    """'eocic-42', '42' and '[EOCIC-00042]' all name ticket EOCIC-00042."""
    text = text.strip().strip("[]").upper()[:64]
    number = text.removeprefix(REF_PREFIX)
    return ref_for(int(number)) if number.isdigit() and len(number) <= 18 else text


def refs_in(subject: str) -> list[str]:
    return [normalise_ref(m) for m in REF_RE.findall(subject)]


async def get_ticket(session: AsyncSession, ref: str) -> Ticket:
    ticket = await ticket_by_ref(session, normalise_ref(ref))
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


SUMMARY_COLUMNS = (Ticket.ref, Ticket.status, Ticket.intent, Ticket.category, Ticket.requester_email, Ticket.subject,
                   Ticket.language, Ticket.assignee, Ticket.needs_review, Ticket.reasons, Ticket.received_at,
                   Ticket.first_response_at, Ticket.closed_at)


_STATUS_VALUES = {status.name: status.value for status in TicketStatus}  # an Enum column stores the name


def _iso(value) -> str | None:
    """A timestamp as UTC ISO text, from a `UTCDateTime` value or the driver's own (SQLite's naive UTC text)."""
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " " and not value.endswith(".000000"):  # SQLAlchemy's SQLite format
            return f"{value[:10]}T{value[11:]}+00:00"  # what isoformat() of the aware datetime gives, 4x faster
        value = datetime.fromisoformat(value)
    return (value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)).isoformat()


def _summary(values, acronym: str | None) -> dict:
    """A ticket's SUMMARY_COLUMNS values (in that order, as the ORM reads them) as plain data."""
    ref, status, intent, category, sender, subject, language, assignee, review, reasons, received, first, closed = values
    return {
        "ref": ref,
        "status": status.value,
        "intent": intent,
        "category": category,
        "partnership": acronym,
        "sender": sender,
        "subject": subject,
        "language": language,
        "assignee": assignee,
        "needs_review": review,
        "reasons": reasons,
        "created_at": _iso(received),
        "first_response_at": _iso(first),
        "closed_at": _iso(closed),
    }


def _list_query(status: str | None):
    """Every ticket (or those in one status) with its partnership and message count, in one query."""
    counts = (select(Message.ticket_id, func.count().label("n")).where(Message.ticket_id.is_not(None))
              .group_by(Message.ticket_id).subquery())
    query = (select(*SUMMARY_COLUMNS, Partnership.acronym, func.coalesce(counts.c.n, 0).label("messages"))
             .select_from(Ticket).outerjoin(Partnership, Partnership.id == Ticket.partnership_id)
             .outerjoin(counts, counts.c.ticket_id == Ticket.id).order_by(Ticket.id))
    return query.where(Ticket.status == status) if status else query


_ENCODE_LIST = json.JSONEncoder(ensure_ascii=False).encode
_STRING = encode_basestring  # a str as JSON text, non-ASCII kept (ensure_ascii=False)
_LISTED_JSON = ("{" + ", ".join(f'"{key}": %s' for key in (
    "ref", "status", "intent", "category", "partnership", "sender", "subject", "language", "assignee", "needs_review",
    "reasons", "created_at", "first_response_at", "closed_at", "messages")) + "}")


def _text(value: str | None) -> str:
    return "null" if value is None else _STRING(value)


def _listed_json(row) -> str:
    """A `_list_query` row as the driver returns it (SQLite: the Enum's name, JSON and timestamps as text, 0/1;
    PostgreSQL: the name, a list, aware datetimes) as `json.dumps(ensure_ascii=False)` gives its `list_tickets`
    item (the `_summary` dict and its message count), written straight from the values: no dict, no encoder run."""
    ref, status, intent, category, sender, subject, language, assignee, review, reasons, received, first, closed, \
        acronym, messages = row
    if isinstance(reasons, str):
        reasons = reasons if reasons == "[]" else _ENCODE_LIST(json.loads(reasons))
    else:
        reasons = _ENCODE_LIST(reasons)
    return _LISTED_JSON % (
        _text(ref), _STRING(_STATUS_VALUES[status]), _STRING(intent), _text(category), _text(acronym),
        _STRING(sender), _STRING(subject), _text(language), _text(assignee), "true" if review else "false", reasons,
        _STRING(_iso(received)), _text(_iso(first)), _text(_iso(closed)), int(messages))


async def listed_json(session: AsyncSession, status: str | None = None) -> list[str]:
    """`list_tickets` as one JSON object text per ticket (what `eocic-desk tickets --json` prints). At 50,000
    tickets SQLAlchemy's rows (result processing, Row objects) and building and encoding dicts took longer than
    the query: the rows are read from the driver's cursor (SQLAlchemy's async drivers hold them all after
    `execute`) and each written as JSON text."""
    result = await (await session.connection()).execute(_list_query(status))
    try:
        return list(map(_listed_json, result.cursor.fetchall()))
    finally:
        result.close()


async def list_tickets(session: AsyncSession, status: str | None = None) -> list[dict]:
    """Every ticket (or those in one status) with its partnership and message count: `_summary` and "messages"."""
    return json.loads("[" + ",".join(await listed_json(session, status)) + "]")


async def describe(session: AsyncSession, ticket: Ticket, *, with_messages: bool = True) -> dict:
    """A ticket as plain data (the CLI's --json, Slack cards, exports); without messages, their count."""
    data = _summary([getattr(ticket, column.key) for column in SUMMARY_COLUMNS],
                    await partnership_acronym(session, ticket.partnership_id))
    if not with_messages:
        data["messages"] = (await session.exec(select(func.count()).where(Message.ticket_id == ticket.id))).one()
        return data
    columns = (Message.id, Message.direction, Message.kind, Message.from_addr, Message.subject, Message.date,
               Message.received_at, Message.message_id)  # not the raw bytes
    rows = await session.exec(select(*columns).where(Message.ticket_id == ticket.id).order_by(Message.id))
    data["messages"] = [
        {"id": i, "direction": direction, "kind": kind, "from": sender, "subject": subject,
         "date": (date or received).isoformat(), "message_id": message_id}
        for i, direction, kind, sender, subject, date, received, message_id in rows
    ]
    columns = (OutboxMail.id, OutboxMail.kind, OutboxMail.recipient, OutboxMail.state, OutboxMail.attempts,
               OutboxMail.created_at, OutboxMail.sent_at, OutboxMail.last_error)  # not the raw bytes
    rows = await session.exec(select(*columns).where(OutboxMail.ticket_id == ticket.id).order_by(OutboxMail.id))
    data["outgoing"] = [
        {"id": i, "kind": kind, "to": to, "state": state.value, "attempts": attempts, "queued_at": queued.isoformat(),
         "sent_at": sent.isoformat() if sent else None, "last_error": error}
        for i, kind, to, state, attempts, queued, sent, error in rows
    ]
    return data
