"""Read-only views of the ticket data for staff: queues, a card's data, a partner's profile, statistics.

All return plain data (dicts and lists); Slack's App Home, the `/eocic` command and the
digest render it. Lists are ordered oldest first: the longest wait is the most urgent.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from config.settings import Settings
from handlers.service_levels import is_overdue, overdue_candidates_before, response_due
from handlers.tickets import describe
from models.base import utcnow
from models.partnerships import Contact, Partnership, current_contacts, find_partnership
from models.slack import SlackCard
from models.tickets import Ticket, TicketStatus, first_inbound

QUEUES = ("mine", "unassigned", "waiting", "overdue", "all")
OPEN = (TicketStatus.new, TicketStatus.open)
NOT_CLOSED = (TicketStatus.new, TicketStatus.open, TicketStatus.waiting)


def _overdue(ticket: Ticket, settings: Settings, now: datetime) -> bool:
    return is_overdue(ticket.received_at, ticket.first_response_at, ticket.status.value, settings.first_response_days, now)


def _summary(ticket: Ticket, acronym: str | None, settings: Settings, now: datetime) -> dict:
    return {
        "ref": ticket.ref, "status": ticket.status.value, "category": ticket.category, "partnership": acronym,
        "sender": ticket.requester_email, "subject": ticket.subject, "assignee": ticket.assignee,
        "created_at": ticket.received_at.isoformat(), "overdue": _overdue(ticket, settings, now),
    }


def _filter(which: str, user_id: str | None, settings: Settings, now: datetime) -> tuple[tuple, list]:
    """(the statuses a queue holds, its other conditions)."""
    if which == "mine":
        return NOT_CLOSED, [Ticket.assignee == user_id]
    if which == "unassigned":
        return OPEN, [Ticket.assignee.is_(None)]
    if which == "waiting":
        return (TicketStatus.waiting,), []
    if which == "overdue":
        return NOT_CLOSED, [Ticket.first_response_at.is_(None),
                            Ticket.received_at < overdue_candidates_before(now, settings.first_response_days)]
    return NOT_CLOSED, []


async def _oldest(session: AsyncSession, statuses: tuple, where: list, limit: int) -> list:
    """The `limit` oldest (ticket, acronym) rows in `statuses` matching `where`, oldest first.

    One LIMITed query per status, each read in order from `ticket_queue_index` (status, received_at,
    id), then merged: the same rows as one query sorting every open ticket, in a time that does not
    grow with the number of tickets.
    """
    rows = []
    for status in statuses:
        query = (select(Ticket, Partnership.acronym).outerjoin(Partnership, Partnership.id == Ticket.partnership_id)
                 .where(Ticket.status == status, *where).order_by(Ticket.received_at, Ticket.id).limit(limit))
        rows += await session.exec(query)
    return sorted(rows, key=lambda row: (row[0].received_at, row[0].id))[:limit]


async def queue(
    session: AsyncSession, settings: Settings, which: str = "all", *, user_id: str | None = None,
    category: str | None = None, limit: int = 15,
) -> dict:
    """{'queue', 'category', 'total', 'tickets': [summary, …]}; at most `limit` summaries."""
    if which not in QUEUES:
        raise ValueError(f"unknown queue {which!r}")
    now = utcnow()
    statuses, where = _filter(which, user_id, settings, now)
    if category:
        where.append(Ticket.category == category)
    if which == "overdue":
        # The SQL filter is a superset (calendar days); working days are counted here.
        query = (select(Ticket, Partnership.acronym).outerjoin(Partnership, Partnership.id == Ticket.partnership_id)
                 .where(Ticket.status.in_(statuses), *where).order_by(Ticket.received_at, Ticket.id))
        rows = [(t, a) for t, a in await session.exec(query) if _overdue(t, settings, now)]
        total, rows = len(rows), rows[:limit]
    else:
        total = (await session.exec(select(func.count()).select_from(Ticket).where(Ticket.status.in_(statuses), *where))).one()
        rows = await _oldest(session, statuses, where, limit)
    return {
        "queue": which, "category": category, "total": total,
        "tickets": [_summary(t, a, settings, now) for t, a in rows],
    }


async def home(session: AsyncSession, settings: Settings, user_id: str, limit: int = 10) -> dict:
    """What an adviser's App Home shows."""
    return {
        "user": user_id,
        "mine": await queue(session, settings, "mine", user_id=user_id, limit=limit),
        "unassigned": await queue(session, settings, "unassigned", limit=limit),
        "overdue": await queue(session, settings, "overdue", limit=limit),
    }


async def card(session: AsyncSession, settings: Settings, ticket: Ticket, *, with_messages: bool = False) -> dict:
    """A ticket's card: `describe()` plus the requester's name, an excerpt of the request and its service level."""
    data = await describe(session, ticket, with_messages=with_messages)
    first = await first_inbound(session, ticket)
    data["requester_name"] = first.from_name if first else ""
    data["excerpt"] = (first.text or "")[:1500] if first else ""
    data["due_at"] = response_due(ticket.received_at, settings.first_response_days).isoformat()
    data["overdue"] = _overdue(ticket, settings, utcnow())
    data["first_response_days"] = settings.first_response_days
    return data


async def partner_profile(session: AsyncSession, settings: Settings, name: str) -> dict:
    partnership = await find_partnership(session, name)
    contacts = await current_contacts(session, partnership.id, order_by=Contact.email)
    open_tickets = await session.exec(
        select(Ticket).where(Ticket.partnership_id == partnership.id, Ticket.status.in_(NOT_CLOSED)).order_by(Ticket.received_at)
    )
    last = max((c.last_contact_at for c in contacts if c.last_contact_at), default=None)
    now = utcnow()
    return {
        "acronym": partnership.acronym, "name": partnership.name, "type": partnership.type, "strand": partnership.strand,
        "sectors": partnership.sectors, "target_countries": partnership.target_countries,
        "contacts": [{"name": c.name, "email": c.email, "role": c.role, "failing": c.failing} for c in contacts],
        "open_tickets": [_summary(t, partnership.acronym, settings, now) for t in open_tickets],
        "last_contact_at": last.isoformat() if last else None,
    }


PERIODS = {"week": 7, "month": 30, "quarter": 91, "year": 365}


def parse_period(text: str | None) -> int | None:
    """Days in a period such as `7d`, `4w`, `3m`, `month`; None for `all`. ValueError when unreadable."""
    text = (text or "30d").strip().lower()
    if text == "all":
        return None
    if text in PERIODS:
        return PERIODS[text]
    number, unit = text[:-1], text[-1:]
    if number.isdigit() and unit in "dwmy" and int(number) > 0:
        return int(number) * {"d": 1, "w": 7, "m": 30, "y": 365}[unit]
    raise ValueError(f"I cannot read the period {text!r}: use 7d, 4w, 3m, 1y, week, month, quarter, year or all")


async def stats(session: AsyncSession, settings: Settings, days: int | None) -> dict:
    now = utcnow()
    since = now - timedelta(days=days) if days else None
    where = [Ticket.received_at >= since] if since else []
    by_category = dict(
        (await session.exec(select(Ticket.category, func.count()).where(*where).group_by(Ticket.category))).all()
    )
    by_partnership = dict(
        (
            await session.exec(
                select(Partnership.acronym, func.count(Ticket.id))
                .select_from(Ticket)
                .outerjoin(Partnership, Partnership.id == Ticket.partnership_id)
                .where(*where)
                .group_by(Partnership.acronym)
            )
        ).all()
    )
    answered = await session.exec(
        select(Ticket.received_at, Ticket.first_response_at).where(*where, Ticket.first_response_at.is_not(None))
    )
    hours = [(first - received).total_seconds() / 3600 for received, first in answered]
    overdue = await queue(session, settings, "overdue", limit=0)
    return {
        "days": days, "since": since.isoformat() if since else None,
        "total": sum(by_category.values()),
        "by_category": {k or "(none)": v for k, v in sorted(by_category.items(), key=lambda kv: -kv[1])},
        "by_partnership": {k or "(unknown)": v for k, v in sorted(by_partnership.items(), key=lambda kv: -kv[1])},
        "answered": len(hours),
        "median_first_response_hours": round(statistics.median(hours), 1) if hours else None,
        "overdue": overdue["total"],
        "open": (await session.exec(select(func.count()).select_from(Ticket).where(Ticket.status.in_(OPEN)))).one(),
    }


async def overdue_with_cards(session: AsyncSession, settings: Settings) -> list[int]:
    """Ids of overdue tickets whose card is in Slack (their card should show the flag)."""
    now = utcnow()
    statuses, where = _filter("overdue", None, settings, now)
    rows = await session.exec(
        select(Ticket).join(SlackCard, SlackCard.ticket_id == Ticket.id).where(Ticket.status.in_(statuses), *where)
    )
    return [t.id for t in rows if _overdue(t, settings, now)]
