"""The first-response target: N working days (Monday to Friday, Brussels time) after a ticket arrives.

A ticket that arrives at the weekend starts counting on Monday at 00:00. Public holidays are
not counted out (a known simplification).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from models.tickets import TicketStatus

BRUSSELS = ZoneInfo("Europe/Brussels")


def add_working_days(start: datetime, days: int, tz: ZoneInfo = BRUSSELS) -> datetime:
    local = start.astimezone(tz)
    if local.weekday() >= 5:  # Saturday or Sunday: the clock starts on Monday morning
        local = (local + timedelta(days=7 - local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    left = days
    while left > 0:
        local += timedelta(days=1)  # wall-clock arithmetic: stays at the same local time across DST
        if local.weekday() < 5:
            left -= 1
    return local


def response_due(received_at: datetime, days: int) -> datetime:
    return add_working_days(received_at, days)


def is_overdue(received_at: datetime, first_response_at: datetime | None, status: str, days: int, now: datetime) -> bool:
    if first_response_at is not None or status == TicketStatus.closed.value:
        return False
    return response_due(received_at, days) < now


def overdue_candidates_before(now: datetime, days: int) -> datetime:
    """Every overdue ticket arrived before this instant (N working days are at least N days)."""
    return now - timedelta(days=days)


def working_days_between(start: datetime, end: datetime, tz: ZoneInfo = BRUSSELS) -> float:
    """Working time from `start` to `end` in days: the part of each Monday–Friday (local days) that lies
    between them, each day counted as 1 whatever its length (23 or 25 hours at a DST change).

    Friday 16:00 → Monday 10:00 is 8/24 + 10/24 = 0.75 working days; Saturday → Sunday is 0.
    """
    if end <= start:
        return 0.0
    start, end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)  # exact (not wall-clock) differences
    total, day, last = 0.0, start.astimezone(tz).date(), end.astimezone(tz).date()
    while day <= last:
        if day.weekday() < 5:
            day_start = datetime.combine(day, datetime.min.time(), tz).astimezone(timezone.utc)
            day_end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tz).astimezone(timezone.utc)
            overlap = (min(end, day_end) - max(start, day_start)).total_seconds()
            total += max(0.0, overlap) / (day_end - day_start).total_seconds()
        day += timedelta(days=1)
    return total
