"""Durations ("7d", "36h", "90s", "1d12h") and the working-hours window of a survey timetable."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([wdhms])")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(r"^\s*([a-z,\-]+)\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
ALWAYS = "always"


def parse_duration(text: str) -> timedelta:
    """'7d' -> 7 days, '36h', '90s', '15m', '2w', '1d12h'. Raises ValueError with the accepted forms."""
    compact = (text or "").strip().lower().replace(" ", "")
    parts = _PART.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise ValueError(f"{text!r} is not a duration; write e.g. 7d, 36h, 90s, 15m, 2w or 1d12h")
    seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise ValueError(f"duration {text!r} must be longer than zero")
    return timedelta(seconds=seconds)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as Europe/Brussels") from None


def parse_datetime(text: str, tz: str) -> datetime:
    """An ISO date or date-time; without an offset it is read in `tz` (a bare date means 00:00)."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not a date; write 2019-05-13, 2019-05-13T09:00 or 2019-05-13T09:00+02:00") from None
    return value if value.tzinfo else value.replace(tzinfo=zone(tz))


@dataclass(frozen=True)
class Window:
    """Days of the week and a daily time range (local to the campaign) in which reminders may go."""

    days: frozenset[int]
    start: time
    end: time | None  # None: until midnight

    def contains(self, moment: datetime, tz: str) -> bool:
        local = moment.astimezone(zone(tz))
        if local.weekday() not in self.days:
            return False
        return local.time() >= self.start and (self.end is None or local.time() < self.end)


def parse_window(text: str) -> Window | None:
    """'mon-fri 09:00-18:00', 'mon,wed,fri 08:00-12:00' or 'always' (None: any time)."""
    if (text or "").strip().lower() == ALWAYS:
        return None
    match = _WINDOW.match((text or "").lower())
    if not match:
        raise ValueError(f"{text!r} is not a window; write e.g. 'mon-fri 09:00-18:00' or 'always'")
    spec, h1, m1, h2, m2 = match.groups()
    days: set[int] = set()
    for part in spec.split(","):
        first, _, last = part.partition("-")
        if first not in _DAYS or (last and last not in _DAYS):
            raise ValueError(f"unknown day in {text!r}; days are {', '.join(_DAYS)}")
        a, b = _DAYS.index(first), _DAYS.index(last or first)
        days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    if int(h1) > 23 or int(m1) > 59 or int(h2) > 24 or int(m2) > 59 or (int(h2) == 24 and int(m2)):
        raise ValueError(f"impossible hour in {text!r}")
    start, end = time(int(h1), int(m1)), None if int(h2) == 24 else time(int(h2), int(m2))
    if end is not None and end <= start:
        raise ValueError(f"the window {text!r} ends before it starts")
    return Window(frozenset(days), start, end)


def in_window(window_text: str, moment: datetime, tz: str) -> bool:
    window = parse_window(window_text)
    return window is None or window.contains(moment, tz)
