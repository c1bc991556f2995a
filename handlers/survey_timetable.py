"""The working-hours window of a survey timetable (durations and zones are in handlers/timeparse.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time

from handlers.timeparse import zone

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(r"^\s*([a-z,\-]+)\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
ALWAYS = "always"


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
