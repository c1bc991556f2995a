"""The monthly service report: last month's report, as HTML, in the triage channel on the first
working day (Monday to Friday) of each month.

The job runs every working morning and posts a month's report once: the audit row
`report:services:YYYY-MM` says it was posted (written right after the upload, so a crash between
the two can post it a second time, never not at all). A desk that was down on the first working
day posts it on the next working morning.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from sqlmodel import select

from bot.slack import files as slack_files
from bot.scheduler import current_desk, schedule
from handlers.report_commands import report_reply
from handlers.report_files import service_file
from handlers.service_levels import BRUSSELS
from handlers.service_report import parse_report_period, service_report
from models.audit import audit
from models.audit import AuditEntry

log = logging.getLogger(__name__)

JOB = "reports:monthly-services"
AT = {"hour": 9, "minute": 0}


def register_jobs(scheduler, desk) -> None:
    if desk.settings.slack_configured and desk.settings.slack_triage_channel:
        schedule(scheduler, JOB, monthly_service_report, "cron", day_of_week="mon-fri", timezone=BRUSSELS, **AT)


async def monthly_service_report(today: date | None = None) -> bool:
    """Post last month's report if it has not been posted; True when posted now."""
    desk = current_desk()
    edge = desk.slack
    today = today or datetime.now(BRUSSELS).date()
    if edge is None or today.weekday() >= 5:
        return False
    start, end = parse_report_period("last-month", today)
    action = f"report:services:{start:%Y-%m}"
    async with desk.db.session() as session:
        if (await session.exec(select(AuditEntry.id).where(AuditEntry.action == action))).first() is not None:
            return False
        data = await service_report(session, desk.settings, start, end)
    channel = desk.settings.slack_triage_channel
    reply = report_reply(data, await service_file(data, "html"), "html", channel)
    await slack_files.upload(edge.client, channel, reply.files, comment=reply.text)
    async with desk.db.transaction() as session:
        await audit(session, "desk", action, channel=channel, requests=data["requests"])
    log.info("monthly service report for %s posted to %s", start.strftime("%Y-%m"), channel)
    return True
