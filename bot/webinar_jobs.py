"""The webinars' timetable: one interval job, `webinars:reminders` (every EOCIC_LISTS_DUE_SECONDS).

It queues the reminders of every webinar whose reminder offsets ("7d,1d") have been reached.
A webinar created from the CLI is therefore reminded without the CLI touching the scheduler;
the outbox keys make a repeated run harmless.
"""

from __future__ import annotations

from bot.scheduler import current_desk, schedule
from handlers import webinars
from models.base import utcnow


def register_jobs(scheduler, desk) -> None:
    schedule(scheduler, "webinars:reminders", run_due_reminders, "interval",
             seconds=desk.settings.lists_due_seconds, next_run_time=utcnow())


async def run_due_reminders() -> None:
    desk = current_desk()
    await send_due_reminders(desk.db, desk.settings)
    desk.deps.mail_queued()


async def send_due_reminders(db, settings) -> int:
    """Queue the reminders that are due. Returns how many mails were queued."""
    queued = 0
    async with db.transaction() as session:
        for webinar, minutes in await webinars.due_reminders(session):
            queued += await webinars.send(session, settings, webinar, webinars.reminder_kind(minutes))
    return queued
