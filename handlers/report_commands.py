"""`/eocic report [PERIOD] [html|pdf|csv|json] [channel]`: the service report as a file.

The file goes privately to the caller (a direct message from the desk), or with `channel` to the
triage channel; the reply gives the headline figures. The monthly report (bot/report_jobs.py)
is the same file for last month, in the triage channel.
"""

from __future__ import annotations

from datetime import datetime

from handlers.commands import Caller, CommandSet, Reply, UsageError
from handlers.context import Deps
from handlers.mrkdwn import escape
from handlers.report_files import service_file
from handlers.service_levels import BRUSSELS
from handlers.service_report import PERIOD_HELP, parse_report_period, service_report
from handlers.survey_answers import progress_attachment
from handlers.surveys import get_campaign

COMMANDS = CommandSet()

USAGE = "report [PERIOD] [html|pdf|csv|json] [channel] | report progress CAMPAIGN [channel]"
FORMATS = ("html", "pdf", "csv", "json")


@COMMANDS.subcommand("report", USAGE, f"the service report (PERIOD: {PERIOD_HELP}) or a campaign's progress report, as a file "
                            "to you or the triage channel")
async def report(deps: Deps, caller: Caller, args: list[str]) -> Reply:
    if args and args[0].lower() == "progress":
        return await progress(deps, caller, args[1:])
    period, fmt, to_channel = None, "html", False
    for arg in args:
        word = arg.lower()
        if word in FORMATS:
            fmt = word
        elif word in ("channel", "triage"):
            to_channel = True
        elif period is None:
            period = arg
        else:
            raise UsageError(f"`{escape(arg[:40])}`: give one period, a format ({', '.join(FORMATS)}) and `channel` at most.")
    try:
        start, end = parse_report_period(period, datetime.now(BRUSSELS).date())
    except ValueError as exc:
        raise UsageError(escape(str(exc))) from None
    if to_channel and not deps.settings.slack_triage_channel:
        raise UsageError("No triage channel is configured (EOCIC_SLACK_TRIAGE_CHANNEL): ask for the report without `channel`.")
    async with deps.db.session() as session:
        data = await service_report(session, deps.settings, start, end)
    return report_reply(data, await service_file(data, fmt, deps.print_pdf), fmt,
                        deps.settings.slack_triage_channel if to_channel else caller.user_id)


def report_reply(data: dict, content: bytes, fmt: str, files_to: str) -> Reply:
    fr = data["first_response_days"]
    share = f"{100 * fr['share_within_target']:.0f}%" if fr["share_within_target"] is not None else "–"
    text = (f"*Service report {data['period']['from']} to {data['period']['to']}*: {data['requests']} requests "
            f"({data['new']} new, {data['follow_up']} follow-up), first response median {fr['median'] if fr['median'] is not None else '–'} "
            f"working days, {share} within {fr['target_days']}; {data['open_at_end']} open at the end.")
    name = f"eocic-service-report-{data['period']['from']}-{data['period']['to']}.{fmt}"
    return Reply(text, data=data, files=[(name, content)], files_to=files_to)


async def progress(deps: Deps, caller: Caller, args: list[str]) -> Reply:
    if not args:
        raise UsageError("`report progress` needs the campaign's name (quote it if it has spaces).")
    to_channel = any(a.lower() in ("channel", "triage") for a in args[1:])
    if to_channel and not deps.settings.slack_triage_channel:
        raise UsageError("No triage channel is configured (EOCIC_SLACK_TRIAGE_CHANNEL): ask without `channel`.")
    async with deps.db.session() as session:
        try:
            name, content = await progress_attachment(session, (await get_campaign(session, args[0])).id)
        except ValueError as exc:
            raise UsageError(escape(str(exc))) from None
    return Reply(f"Progress report of *{escape(args[0])}*.", files=[(name, content)],
                 files_to=deps.settings.slack_triage_channel if to_channel else caller.user_id)
