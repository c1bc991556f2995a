"""The first-response target: N working days (Monday to Friday, Brussels time) after a ticket arrives.

A ticket that arrives at the weekend starts counting on Monday at 00:00. Public holidays are
not counted out (a known simplification).
"""

from __future__ import annotations

from datetime import datetime, timedelta
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
