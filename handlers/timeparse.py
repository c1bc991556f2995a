"""Times as people write them: durations ("7d", "36h", "90s", "1d12h"), IANA zones, ISO dates."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([wdhms])")
LONGEST = timedelta(days=3660)  # ten years: anything longer is a typo (and would overflow the calendar)


def parse_duration(text: str) -> timedelta:
    """'7d' -> 7 days, '36h', '90s', '15m', '2w', '1d12h'. Raises ValueError with the accepted forms."""
    compact = (text or "").strip().lower().replace(" ", "")
    parts = _PART.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise ValueError(f"{text!r} is not a duration; write e.g. 7d, 36h, 90s, 15m, 2w or 1d12h")
    seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise ValueError(f"duration {text!r} must be longer than zero")
    if seconds > LONGEST.total_seconds():
        raise ValueError(f"duration {text[:40]!r} is longer than ten years; write e.g. 7d, 36h or 2w")
    return timedelta(seconds=seconds)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a time zone; use an IANA name such as Europe/Brussels") from None


def parse_datetime(text: str, tz: str) -> datetime:
    """An ISO date or date-time; without an offset it is read in `tz` (a bare date means 00:00)."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not a date; write 2019-05-13, 2019-05-13T09:00 or 2019-05-13T09:00+02:00") from None
    return value if value.tzinfo else value.replace(tzinfo=zone(tz))
