"""Inter-partnership learning webinars: announcement, update, cancellation and reminders, each with an .ics.

Every mail carries a `text/calendar; method=PUBLISH` part with a stable UID and the webinar's
SEQUENCE (+1 on each change sent), its start in its own time zone with a VTIMEZONE, and
STATUS:CANCELLED once cancelled, so calendars update the entry instead of adding a second.
Outbox keys `webinar:{id}:{sequence}:{kind}:{contact}` make every send idempotent.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta

from icalendar import Calendar, Event
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from config.settings import Settings
from handlers.lists import compose_list_mail, get_list, unsubscribe_url
from handlers.mrkdwn import escape
from handlers.outgoing import queue_mail
from handlers.slack_notify import post_text
from models.audit import add_audited, audit, get_or_raise
from handlers.timeparse import parse_duration, zone
from models.base import utcnow
from models.lists import MailingList, members
from models.webinars import Webinar, WebinarStatus
from templates import render_mail

_UNIT_MINUTES = {"d": 1440, "h": 60, "m": 1}


class WebinarNotFound(LookupError):
    def __init__(self, ident: int) -> None:
        super().__init__(f"there is no webinar {ident}; `eocic-desk webinar list` shows them")


def parse_offsets(text: str) -> list[int]:
    """'7d,1d,2h' -> minutes before the start, largest first (each a duration as parse_duration reads it)."""
    minutes = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        seconds = parse_duration(part).total_seconds()
        if seconds % 60:
            raise ValueError(f"{part!r} is not a reminder offset; write whole minutes, e.g. 7d, 1d, 2h or 30m")
        minutes.add(int(seconds) // 60)
    return sorted(minutes, reverse=True)


def offset_label(minutes: int) -> str:
    for unit, size in _UNIT_MINUTES.items():
        if minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


def parse_start(text: str, default_tz: str) -> tuple[datetime, str]:
    """'2026-12-03 14:00' (in `default_tz`), '2026-12-03 14:00 Europe/Lisbon' or '…T14:00+01:00' -> (start, tzid)."""
    words = text.split()
    tzid = words.pop() if len(words) > 1 and re.match(r"^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$", words[-1]) else None
    try:
        start = datetime.fromisoformat(" ".join(words))
    except ValueError:
        raise ValueError(f"{text!r} is not a start time; write e.g. '2026-12-03 14:00 Europe/Brussels'") from None
    if tzid:
        if start.tzinfo is not None:
            raise ValueError("give a UTC offset or a time zone name, not both")
        return start.replace(tzinfo=zone(tzid)), tzid
    if start.tzinfo is None:
        return start.replace(tzinfo=zone(default_tz)), default_tz
    return start, "UTC" if start.utcoffset() == timedelta(0) else default_tz


async def create(
    session: AsyncSession, settings: Settings, *, title: str, abstract: str, speakers: list[str], start: datetime,
    tzid: str, duration_minutes: int, url: str, audience: list[str], actor: str, reminders: str | None = None,
) -> Webinar:
    if start.tzinfo is None:
        raise ValueError("the start needs a time zone")
    if not title.strip():
        raise ValueError("a webinar needs a title")
    _check_duration(duration_minutes)
    if url and not re.match(r"^https?://\S+$", url):
        raise ValueError("the registration or join link must be an http(s) URL")
    for name in audience or ["webinars"]:
        await get_list(session, name)  # raises UnknownList with the names that exist
    zone(tzid)
    row = Webinar(
        uid=f"webinar-{uuid.uuid4()}@{settings.lists_domain}", title=" ".join(title.split())[:300], abstract=abstract.strip(),
        speakers=[s.strip() for s in speakers if s.strip()], start=start, tzid=tzid, duration_minutes=duration_minutes,
        url=url.strip(), audience=audience or ["webinars"], reminder_minutes=parse_offsets(reminders or settings.webinar_reminders),
        created_by=actor,
    )
    return await add_audited(session, row, actor, "webinar.created", "webinar", title=row.title)


async def get(session: AsyncSession, ident: int) -> Webinar:
    return await get_or_raise(session, Webinar, ident, WebinarNotFound)


def local_start(webinar: Webinar) -> datetime:
    return webinar.start.astimezone(zone(webinar.tzid))


def ics(webinar: Webinar, settings: Settings) -> bytes:
    """The calendar entry: METHOD:PUBLISH, stable UID, SEQUENCE, start in its zone with a VTIMEZONE."""
    start = local_start(webinar)
    cal = Calendar()
    cal.add("prodid", "-//EOCIC Service Desk//webinars//EN")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    event = Event()
    event.add("uid", webinar.uid)
    event.add("sequence", webinar.sequence)
    event.add("dtstamp", utcnow())
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=webinar.duration_minutes))
    event.add("summary", webinar.title)
    description = webinar.abstract + (f"\n\nSpeakers: {', '.join(webinar.speakers)}" if webinar.speakers else "")
    event.add("description", description + (f"\n\n{webinar.url}" if webinar.url else ""))
    if webinar.url:
        event.add("url", webinar.url)
        event.add("location", webinar.url)
    event.add("organizer", f"mailto:{settings.desk_address}", parameters={"CN": settings.desk_name})
    event.add("status", "CANCELLED" if webinar.status is WebinarStatus.cancelled else "CONFIRMED")
    cal.add_component(event)
    year = start.year
    cal.add_missing_timezones(first_date=date(year - 1, 1, 1), last_date=date(year + 2, 1, 1))
    return cal.to_ical()


async def audience(session: AsyncSession, webinar: Webinar) -> list[tuple[MailingList, object]]:
    """(list, contact) for every member of the audience lists, each person once (first list wins)."""
    seen: set[int] = set()
    result = []
    for name in webinar.audience:
        mlist = await get_list(session, name)
        for contact in await members(session, mlist):
            if contact.id not in seen:
                seen.add(contact.id)
                result.append((mlist, contact))
    return result


def _starts_in(minutes: int) -> str:
    if minutes % 1440 == 0:
        days = minutes // 1440
        return "tomorrow" if days == 1 else f"in {days} days"
    return f"in {minutes // 60} hours" if minutes % 60 == 0 else f"in {minutes} minutes"


SLACK_HEADINGS = {"announce": ":mega: Announced", "update": ":pencil2: Changed", "cancel": ":x: Cancelled"}


async def send(session: AsyncSession, settings: Settings, webinar: Webinar, kind: str) -> int:
    """Queue `kind` (announce, update, cancel, remind-7d, …) to the audience. Returns rows written."""
    start = local_start(webinar)
    calendar = ics(webinar, settings)
    offset = parse_offsets(kind.removeprefix("remind-"))[0] if kind.startswith("remind-") else 0
    written = 0
    for mlist, contact in await audience(session, webinar):
        subject, text, html = render_mail(
            "webinar", contact.language, kind=kind, title=webinar.title, abstract=webinar.abstract,
            speakers=webinar.speakers, url=webinar.url, duration=webinar.duration_minutes,
            when=f"{start:%A %d %B %Y, %H:%M} ({webinar.tzid})", starts_in=_starts_in(offset), name=contact.name,
            list_name=mlist.name, unsubscribe_url=unsubscribe_url(settings, mlist, contact),
        )
        msg = compose_list_mail(
            settings, mlist, contact, subject=subject, text=text, html=html,
            attachments=[(calendar, "text", "calendar", {"filename": "webinar.ics", "params": {"method": "PUBLISH"}})],
        )
        key = f"webinar:{webinar.id}:{webinar.sequence}:{kind}:{contact.id}"
        written += await queue_mail(session, msg, key=key, kind="webinar") is not None
    await audit(session, "desk", f"webinar.{kind}", None, webinar=webinar.id, sequence=webinar.sequence, rows=written)
    if kind in SLACK_HEADINGS:
        await post_text(session, settings, f"webinar:{webinar.id}:{webinar.sequence}:{kind}",
                        f"{SLACK_HEADINGS[kind]} ({written} recipients)\n{slack_text(webinar)}")
    return written


def _check_duration(minutes: int) -> None:
    if not 0 < minutes <= 24 * 60:
        raise ValueError("the duration is a number of minutes, above 0 and at most 1440 (a day)")


async def update(session: AsyncSession, settings: Settings, webinar: Webinar, actor: str, **changes) -> int:
    """Change a webinar and send the update (SEQUENCE+1) to its audience."""
    if webinar.status is WebinarStatus.cancelled:
        raise ValueError(f"webinar {webinar.id} is cancelled")
    allowed = {"title", "abstract", "speakers", "start", "tzid", "duration_minutes", "url"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"cannot change {', '.join(sorted(unknown))}")
    changed = {k: v for k, v in changes.items() if v is not None and getattr(webinar, k) != v}
    if "duration_minutes" in changed:
        _check_duration(changed["duration_minutes"])
    if not changed:
        return 0
    for key, value in changed.items():
        setattr(webinar, key, value)
    webinar.sequence += 1
    webinar.updated_at = utcnow()
    session.add(webinar)
    await audit(session, actor, "webinar.changed", None, webinar=webinar.id, fields=sorted(changed))
    return await send(session, settings, webinar, "update")


async def cancel(session: AsyncSession, settings: Settings, webinar: Webinar, actor: str) -> int:
    if webinar.status is WebinarStatus.cancelled:
        return 0
    webinar.status = WebinarStatus.cancelled
    webinar.sequence += 1
    webinar.updated_at = utcnow()
    session.add(webinar)
    await audit(session, actor, "webinar.cancelled", None, webinar=webinar.id)
    return await send(session, settings, webinar, "cancel")


async def due_reminders(session: AsyncSession, now: datetime | None = None) -> list[tuple[Webinar, int]]:
    """(webinar, offset) whose reminder time has come, for webinars announced before that time."""
    now = now or utcnow()
    upcoming = await session.exec(select(Webinar).where(Webinar.status == WebinarStatus.scheduled, Webinar.start > now))
    due = []
    for webinar in upcoming:
        for minutes in sorted(webinar.reminder_minutes):  # the nearest reminder that is due
            at = webinar.start - timedelta(minutes=minutes)
            if at <= now and webinar.created_at < at:
                due.append((webinar, minutes))
                break  # a 7-day reminder is never sent after the 1-day one
    return due


def reminder_kind(minutes: int) -> str:
    return f"remind-{offset_label(minutes)}"


def describe(webinar: Webinar) -> dict:
    return {
        "id": webinar.id, "uid": webinar.uid, "sequence": webinar.sequence, "status": webinar.status.value,
        "title": webinar.title, "abstract": webinar.abstract, "speakers": webinar.speakers,
        "start": local_start(webinar).isoformat(), "tzid": webinar.tzid, "start_utc": webinar.start.isoformat(),
        "duration_minutes": webinar.duration_minutes, "url": webinar.url, "audience": webinar.audience,
        "reminders": [offset_label(m) for m in webinar.reminder_minutes],
    }


def slack_text(webinar: Webinar) -> str:
    """The announcement for a Slack channel (mrkdwn; our own text, with &, < and > escaped)."""
    start = local_start(webinar)
    lines = [f"*Webinar: {escape(webinar.title)}*", f"{start:%A %d %B %Y, %H:%M} ({escape(webinar.tzid)}), {webinar.duration_minutes} min"]
    if webinar.speakers:
        lines.append("Speakers: " + escape(", ".join(webinar.speakers)))
    if webinar.url:
        lines.append(f"<{escape(webinar.url)}|Register or join>")
    lines.append(escape(webinar.abstract[:1500]))
    return "\n".join(lines)
