"""The lists' timetable: one interval job, `lists:due` (every EOCIC_LISTS_DUE_SECONDS), sends what is due.

It writes the outbox rows of approved announcements whose time has come (and finishes any
whose writing was interrupted by a crash) and reports to Slack when one has gone out. An
announcement created from the CLI is therefore picked up without the CLI touching the
scheduler; the outbox keys make a repeated run harmless. Webinar reminders have their own
job, in bot/webinar_jobs.py.
"""

from __future__ import annotations

import logging

from bot.scheduler import current_desk, schedule
from handlers import announcements
from handlers.mrkdwn import escape
from handlers.slack_notify import post_text
from models.base import utcnow

log = logging.getLogger(__name__)


def register_jobs(scheduler, desk) -> None:
    schedule(scheduler, "lists:due", run_due_lists, "interval", seconds=desk.settings.lists_due_seconds,
             next_run_time=utcnow())


async def run_due_lists() -> None:
    desk = current_desk()
    await send_due(desk.db, desk.settings, written=desk.deps.mail_queued)
    desk.deps.mail_queued()


async def send_due(db, settings, written=None) -> dict:
    """Queue due announcements (`written()` after each batch of rows). Returns what was done (for logs and tests)."""
    done = {"announcements": []}
    async with db.session() as session:
        due = await announcements.due(session)
    for ident in due:
        figures = await announcements.queue(db, settings, ident, written=written)
        done["announcements"].append(figures.as_dict())
        log.info("%s", figures.text())
        async with db.transaction() as session:
            await post_text(session, settings, f"announce:{ident}:queued", escape(figures.text()))
    async with db.transaction() as session:
        for ann in await announcements.recently_queued(session):
            figures = await announcements.progress(session, ann)
            if figures.remaining == 0:
                await post_text(session, settings, f"announce:{ann.id}:report", escape("Finished. " + figures.text()))
    return done
