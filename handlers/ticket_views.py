"""Tickets as `eocic-desk tickets` (text and --json) and `ticket REF` show them, and a ticket's mail for its
card: SQL text and plain functions of the rows a database driver returns.

The standard library only (and models/states.py), so that the read-only commands can answer from
sqlite3 (`models/sqlite_read.py`) without loading SQLAlchemy or SQLModel; the same
functions serve every other caller through SQLAlchemy's connection (`models.db.driver_rows`, SQLite
or PostgreSQL). Each reads through `fetch(sql, params) -> rows`, and each query is written once, with
`:name` parameters, in SQL both databases run. The rows are the driver's own: an Enum column holds the
member's name; SQLite gives JSON and timestamps as text and booleans as 0/1, PostgreSQL lists, aware
datetimes and booleans. What is built from them is what the ORM's values give (`summary` takes both).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from json.encoder import encode_basestring

from models.states import OutboxState, TicketStatus

REF_PREFIX = "EOCIC-"
# a ticket's own columns in `summary`, in this order: the ORM's attribute names are the columns' names
SUMMARY_FIELDS = ("ref", "status", "intent", "category", "requester_email", "subject", "language", "assignee",
                  "needs_review", "reasons", "received_at", "first_response_at", "closed_at")
_SUMMARY = ", ".join(f"ticket.{name}" for name in SUMMARY_FIELDS) + ", partnership.acronym"
_TICKETS = "ticket LEFT OUTER JOIN partnership ON partnership.id = ticket.partnership_id"
_LIST_SQL = (f"SELECT {_SUMMARY}, coalesce(counts.n, 0) AS messages FROM {_TICKETS} "
             "LEFT OUTER JOIN (SELECT ticket_id, count(*) AS n FROM message WHERE ticket_id IS NOT NULL "
             "GROUP BY ticket_id) AS counts ON counts.ticket_id = ticket.id {where}ORDER BY ticket.id")
_TICKET_SQL = f"SELECT ticket.id, {_SUMMARY} FROM {_TICKETS} WHERE ticket.ref = :ref"
_MESSAGES_SQL = ("SELECT id, direction, kind, from_addr, subject, date, received_at, message_id FROM message "
                 "WHERE ticket_id = :ticket ORDER BY id")  # not the raw bytes
_OUTGOING_SQL = ("SELECT id, kind, recipient, state, attempts, created_at, sent_at, last_error FROM outboxmail "
                 "WHERE ticket_id = :ticket ORDER BY id")  # not the raw bytes


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


def lookup_ref(text: str) -> str:
    """The reference `text` names (`normalise_ref`), or TicketNotFound when it names none for sure: every
    reference is ASCII (`ref_for`), and a text that is not may not even be sendable to the database (a lone
    surrogate from an undecodable command-line argument or a JSON escape)."""
    ref = normalise_ref(text)
    if not ref.isascii():
        raise TicketNotFound(text)
    return ref


_STATUS_VALUES = {status.name: status.value for status in TicketStatus}  # an Enum column stores the name


def _value(enum, stored) -> str:
    """An Enum column's value from the ORM's member or the driver's name."""
    return stored.value if isinstance(stored, enum) else enum[stored].value


def _iso(value) -> str | None:
    """A timestamp as UTC ISO text, from a `UTCDateTime` value or the driver's own (SQLite's naive UTC text)."""
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " " and not value.endswith(".000000"):  # SQLAlchemy's SQLite format
            return f"{value[:10]}T{value[11:]}+00:00"  # what isoformat() of the aware datetime gives, 4x faster
        value = datetime.fromisoformat(value)
    return (value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)).isoformat()


def summary(values, acronym: str | None) -> dict:
    """A ticket's SUMMARY_FIELDS values (in that order; the ORM's or the driver's) as plain data."""
    ref, status, intent, category, sender, subject, language, assignee, review, reasons, received, first, closed = values
    return {
        "ref": ref,
        "status": _value(TicketStatus, status),
        "intent": intent,
        "category": category,
        "partnership": acronym,
        "sender": sender,
        "subject": subject,
        "language": language,
        "assignee": assignee,
        "needs_review": bool(review),
        "reasons": json.loads(reasons) if isinstance(reasons, str) else reasons,
        "created_at": _iso(received),
        "first_response_at": _iso(first),
        "closed_at": _iso(closed),
    }


_ENCODE_LIST = json.JSONEncoder(ensure_ascii=False).encode
_STRING = encode_basestring  # a str as JSON text, non-ASCII kept (ensure_ascii=False)
_LISTED_JSON = ("{" + ", ".join(f'"{key}": %s' for key in (
    "ref", "status", "intent", "category", "partnership", "sender", "subject", "language", "assignee", "needs_review",
    "reasons", "created_at", "first_response_at", "closed_at", "messages")) + "}")


def _text(value: str | None) -> str:
    return "null" if value is None else _STRING(value)


def _listed_json(row) -> str:
    """A `_LIST_SQL` row as `json.dumps(ensure_ascii=False)` gives its `listed` item (the `summary` dict and its
    message count), written straight from the values: no dict, no encoder run."""
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


async def listed_json(fetch, status: str | None = None) -> list[str]:
    """Every ticket (or those in one status, a TicketStatus value) in one query, each as its JSON object text
    (what `eocic-desk tickets --json` prints): at 50,000 tickets, building and encoding dicts took longer than
    the query."""
    where, params = (("WHERE ticket.status = :status ", {"status": TicketStatus(status).name}) if status
                     else ("", {}))
    return list(map(_listed_json, await fetch(_LIST_SQL.format(where=where), params)))


async def listed(fetch, status: str | None = None) -> list[dict]:
    """`listed_json` as plain data: each ticket's `summary` and "messages" (its count)."""
    return json.loads("[" + ",".join(await listed_json(fetch, status)) + "]")


async def ticket_mail(fetch, ticket_id: int) -> dict:
    """{"messages": […], "outgoing": […]}: a ticket's mail in and out, oldest first."""
    messages = await fetch(_MESSAGES_SQL, {"ticket": ticket_id})
    outgoing = await fetch(_OUTGOING_SQL, {"ticket": ticket_id})
    return {
        "messages": [
            {"id": i, "direction": direction, "kind": kind, "from": sender, "subject": subject,
             "date": _iso(date or received), "message_id": message_id}
            for i, direction, kind, sender, subject, date, received, message_id in messages],
        "outgoing": [
            {"id": i, "kind": kind, "to": to, "state": _value(OutboxState, state), "attempts": attempts,
             "queued_at": _iso(queued), "sent_at": _iso(sent), "last_error": error}
            for i, kind, to, state, attempts, queued, sent, error in outgoing],
    }


async def shown(fetch, ref: str) -> dict:
    """What `eocic-desk ticket REF` shows: the ticket's `summary` and `ticket_mail`. TicketNotFound if REF names none."""
    rows = await fetch(_TICKET_SQL, {"ref": lookup_ref(ref)})
    if not rows:
        raise TicketNotFound(ref)
    ticket_id, *values, acronym = rows[0]
    return {**summary(values, acronym), **await ticket_mail(fetch, ticket_id)}
