"""The service report: what EOCIC gave the partnerships in a period, as plain data.

Counted: tickets of intent `service-request` received in the period (Brussels dates, both ends
included). A request is a *follow-up* when its partnership (or, without one, its sender) had asked
for the same service before; otherwise it is *new*. Times are working days (Monday–Friday,
Europe/Brussels, `handlers.service_levels.working_days_between`), from arrival to the first staff
answer and to closing. A request is *within target* when answered by the first-response due time
(EOCIC_FIRST_RESPONSE_DAYS working days); unanswered, it counts as missed once that time has passed
(at the end of the period, or now if earlier) and is left out while it is still running.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta

import numpy as np
from sqlalchemy import func, or_
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from config.catalogue import CATEGORIES, GROUPS, SERVICE_GROUP
from config.settings import Settings
from handlers.service_levels import BRUSSELS, response_due, working_days_between
from models.base import utcnow
from models.partnerships import Partnership
from models.tickets import Ticket

UNCATEGORISED = "uncategorised"
NO_PARTNERSHIP = "(no partnership)"
OLDEST_OPEN = 10
REQUEST = "service-request"
# what the report reads of a ticket (not its JSON columns: the report stays quick on years of tickets)
COLUMNS = (Ticket.id, Ticket.ref, Ticket.subject, Ticket.category, Ticket.partnership_id, Ticket.language,
           Ticket.received_at, Ticket.first_response_at, Ticket.closed_at)


def service_label(service: str) -> str:
    """'A · Partnership building, communication, evaluation' (the group letter first, as in the catalogue)."""
    if service not in CATEGORIES:
        return "Not categorised yet"
    return f"{SERVICE_GROUP[service]} · {CATEGORIES[service]}"


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The instants of a period of Brussels dates, `end` included: [start 00:00, end+1 00:00)."""
    return (datetime.combine(start, datetime.min.time(), BRUSSELS),
            datetime.combine(end + timedelta(days=1), datetime.min.time(), BRUSSELS))


def months(start: date, end: date) -> list[str]:
    out, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def spread(values: list[float]) -> dict:
    """Median and 90th percentile (linear interpolation, numpy's default), rounded to 0.01 day."""
    if not values:
        return {"median": None, "p90": None, "count": 0}
    return {"median": round(float(np.median(values)), 2), "p90": round(float(np.percentile(values, 90)), 2),
            "count": len(values)}


async def service_report(session: AsyncSession, settings: Settings, start: date, end: date, *,
                         now: datetime | None = None) -> dict:
    if end < start:
        raise ValueError(f"the period ends ({end}) before it starts ({start})")
    now = now or utcnow()
    begins, ends = bounds(start, end)
    as_of = min(now, ends)
    acronyms = dict((await session.exec(select(Partnership.id, Partnership.acronym))).all())
    earlier = list(await session.exec(  # every request before the period's end: to tell new from follow-up
        select(Ticket.id, Ticket.partnership_id, Ticket.requester_email, Ticket.category, Ticket.received_at)
        .where(Ticket.intent == REQUEST, Ticket.received_at < ends).order_by(Ticket.received_at, Ticket.id)))
    seen, follow_ups = set(), set()
    for ticket_id, partnership_id, email, category, _ in earlier:
        asker = ("p", partnership_id) if partnership_id else ("e", (email or "").lower())
        if (asker, category) in seen:
            follow_ups.add(ticket_id)
        seen.add((asker, category))
    tickets = list(await session.exec(
        select(*COLUMNS).where(Ticket.intent == REQUEST, Ticket.received_at >= begins, Ticket.received_at < ends)
        .order_by(Ticket.received_at, Ticket.id)))

    services = list(CATEGORIES) + ([UNCATEGORISED] if any(t.category not in CATEGORIES for t in tickets) else [])
    month_list = months(start, end)
    by_service = {s: {"requests": 0, "new": 0, "follow_up": 0} for s in services}
    by_service_month = {s: dict.fromkeys(month_list, 0) for s in services}
    by_month = {m: {"requests": 0, "new": 0, "follow_up": 0} for m in month_list}
    by_partnership: dict[str, dict] = {}
    languages: dict[str, int] = {}
    first_response, resolution = [], []
    within = missed = 0
    for t in tickets:
        service = t.category if t.category in CATEGORIES else UNCATEGORISED
        kind = "follow_up" if t.id in follow_ups else "new"
        month = t.received_at.astimezone(BRUSSELS).strftime("%Y-%m")
        acronym = acronyms.get(t.partnership_id, NO_PARTNERSHIP)
        for bucket in (by_service[service], by_month[month],
                       by_partnership.setdefault(acronym, {"requests": 0, "new": 0, "follow_up": 0, "by_service": {}})):
            bucket["requests"] += 1
            bucket[kind] += 1
        by_service_month[service][month] += 1
        services_of = by_partnership[acronym]["by_service"]
        services_of[service] = services_of.get(service, 0) + 1
        languages[t.language or "unknown"] = languages.get(t.language or "unknown", 0) + 1
        due = response_due(t.received_at, settings.first_response_days)
        if t.first_response_at is not None:
            first_response.append(working_days_between(t.received_at, t.first_response_at))
            within += t.first_response_at <= due
            missed += t.first_response_at > due
        elif due < as_of:
            missed += 1
        if t.closed_at is not None:
            resolution.append(working_days_between(t.received_at, t.closed_at))

    still_open = [Ticket.intent == REQUEST, Ticket.received_at < ends, or_(Ticket.closed_at.is_(None), Ticket.closed_at >= ends)]
    open_at_end = (await session.exec(select(func.count()).select_from(Ticket).where(*still_open))).one()
    open_rows = list(await session.exec(select(*COLUMNS).where(*still_open).order_by(Ticket.received_at, Ticket.id)
                                        .limit(OLDEST_OPEN)))
    asked = {a for a in by_partnership if a != NO_PARTNERSHIP}
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat(), "timezone": "Europe/Brussels"},
        "generated_at": now.astimezone(BRUSSELS).isoformat(timespec="seconds"),
        "requests": len(tickets),
        "new": sum(1 for t in tickets if t.id not in follow_ups),
        "follow_up": sum(1 for t in tickets if t.id in follow_ups),
        "by_service": {s: v["requests"] for s, v in by_service.items()},
        "services": [{"id": s, "group": SERVICE_GROUP.get(s, ""), "label": service_label(s), **v} for s, v in by_service.items()],
        "by_group": {g: sum(v["requests"] for s, v in by_service.items() if SERVICE_GROUP.get(s) == g) for g in GROUPS},
        "by_month": {m: v["requests"] for m, v in by_month.items()},
        "months": by_month,
        "by_service_month": by_service_month,
        "by_partnership": {a: v["requests"] for a, v in sorted(by_partnership.items(), key=lambda kv: (-kv[1]["requests"], kv[0]))},
        "partnerships": {a: by_partnership[a] for a in sorted(by_partnership, key=lambda a: (-by_partnership[a]["requests"], a))},
        "first_response_days": {
            **spread(first_response), "target_days": settings.first_response_days,
            "within_target": within, "missed_target": missed,
            "share_within_target": round(within / (within + missed), 4) if within + missed else None,
        },
        "resolution_days": spread(resolution),
        "open_at_end": open_at_end,
        "oldest_open": [{
            "ref": t.ref, "subject": t.subject, "service": t.category or UNCATEGORISED,
            "partnership": acronyms.get(t.partnership_id, NO_PARTNERSHIP),
            "received_at": t.received_at.astimezone(BRUSSELS).isoformat(timespec="minutes"),
            "age_days": round(working_days_between(t.received_at, ends), 2),
        } for t in open_rows],
        "languages": dict(sorted(languages.items(), key=lambda kv: (-kv[1], kv[0]))),
        "silent_partnerships": sorted(set(acronyms.values()) - asked, key=str.casefold),
    }


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\.\.|/)(\d{4}-\d{2}-\d{2})$")
PERIOD_HELP = "last-month (the default), this-month, 2026-03, 2026-q1, 2026, or 2026-01-01..2026-03-31"


def parse_report_period(text: str | None, today: date) -> tuple[date, date]:
    """(first day, last day) of a report period; ValueError saying the accepted forms."""
    text = (text or "last-month").strip().lower()
    if text in ("last-month", "this-month"):
        first = today.replace(day=1)
        if text == "last-month":
            first = (first - timedelta(days=1)).replace(day=1)
        return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])
    try:
        if m := _MONTH.match(text):
            year, month = int(m[1]), int(m[2])
            return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
        if m := _QUARTER.match(text):
            year, quarter = int(m[1]), int(m[2])
            first = date(year, 3 * quarter - 2, 1)
            return first, date(year, 3 * quarter, calendar.monthrange(year, 3 * quarter)[1])
        if m := _YEAR.match(text):
            return date(int(m[1]), 1, 1), date(int(m[1]), 12, 31)
        if m := _RANGE.match(text):
            start, end = date.fromisoformat(m[1]), date.fromisoformat(m[2])
            if end < start:
                raise ValueError
            return start, end
    except ValueError:
        pass
    raise ValueError(f"I cannot read the period {text[:40]!r}: use {PERIOD_HELP}")


def csv_rows(report: dict) -> list[list]:
    """The report's figures as (section, key, sub-key, value) rows, one table per section."""
    rows: list[list] = [["section", "key", "detail", "value"],
                        ["period", "from", "", report["period"]["from"]], ["period", "to", "", report["period"]["to"]],
                        ["requests", "total", "", report["requests"]], ["requests", "new", "", report["new"]],
                        ["requests", "follow_up", "", report["follow_up"]]]
    for s in report["services"]:
        rows += [["by_service", s["id"], kind, s[kind]] for kind in ("requests", "new", "follow_up")]
    for service, per_month in report["by_service_month"].items():
        rows += [["by_service_month", service, month, n] for month, n in per_month.items()]
    rows += [["by_month", month, "requests", n] for month, n in report["by_month"].items()]
    for acronym, p in report["partnerships"].items():
        rows += [["by_partnership", acronym, kind, p[kind]] for kind in ("requests", "new", "follow_up")]
    for name in ("first_response_days", "resolution_days"):
        rows += [[name, key, "", "" if value is None else value] for key, value in report[name].items()]
    rows.append(["open_at_end", "total", "", report["open_at_end"]])
    rows += [["oldest_open", t["ref"], t["partnership"], t["age_days"]] for t in report["oldest_open"]]
    rows += [["languages", lang, "", n] for lang, n in report["languages"].items()]
    rows += [["silent_partnerships", acronym, "", 0] for acronym in report["silent_partnerships"]]
    return rows
