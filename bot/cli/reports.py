"""`eocic-desk report …`: the reports EOCIC writes, from the desk's own data.

`--out FILE` picks the format from the file's ending (.html, .pdf, .csv, .json); `--json` prints
the figures; without either a short summary is printed.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from bot.cli.common import add_command, add_group, fail, in_transaction

FORMATS = ("html", "pdf", "csv", "json")  # what --out accepts (handlers.report_files renders them)


def register(sub) -> None:
    rsub = add_group(sub, "report", "the service report (and the partnerships' progress report)", metavar="REPORT")
    s = add_command(rsub, "services", "requests by service, month and partnership; response times; backlog", cmd_services)
    s.add_argument("--from", dest="start", required=True, type=_date, help="first day, e.g. 2026-01-01 (Brussels)")
    s.add_argument("--to", dest="end", required=True, type=_date, help="last day, included")
    _outputs(s)
    g = add_command(rsub, "progress", "the partnerships' progress report from a campaign's imported answers", cmd_progress)
    g.add_argument("campaign", help="the campaign's name (or id)")
    g.add_argument("--compare", metavar="CAMPAIGN", help="a second survey to show side by side")
    _outputs(g)


def _outputs(parser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--out", type=Path, help="write FILE.html, FILE.pdf, FILE.csv or FILE.json")
    group.add_argument("--json", action="store_true", help="print the figures as JSON")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: write YYYY-MM-DD") from None


def output_format(out: Path | None, as_json: bool) -> str | None:
    if as_json:
        return "json"
    if out is None:
        return None
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"cannot tell the format of {out.name}: end it in .html, .pdf, .csv or .json")
    return fmt


async def write_report(report: dict, out: Path | None, as_json: bool, render, summary: str) -> int:
    """Print or write a report's data in the format asked for; 0, or 1 after saying why."""
    from bot.chromium import print_pdf

    try:
        fmt = output_format(out, as_json)
        if fmt is None:
            print(summary)
            return 0
        content = await render(report, fmt, print_pdf)
    except (ValueError, RuntimeError) as exc:  # ChromiumError is a RuntimeError
        return fail(str(exc))
    if out is None:
        sys.stdout.write(content.decode() + "\n")
    else:
        out.write_bytes(content)
        print(f"wrote {out} ({len(content):,} bytes)")
    return 0


async def cmd_services(settings, args) -> int:
    from handlers.report_files import service_file  # matplotlib: only for the commands that draw
    from handlers.service_report import service_report

    code, report = await in_transaction(settings, lambda session, desk: service_report(session, settings, args.start, args.end))
    if code:
        return code
    fr = report["first_response_days"]
    summary = (f"{report['period']['from']} to {report['period']['to']}: {report['requests']} requests "
               f"({report['new']} new, {report['follow_up']} follow-up); first response median {fr['median']} / p90 {fr['p90']} "
               f"working days, {fr['within_target']} of {fr['within_target'] + fr['missed_target']} within "
               f"{fr['target_days']}; {report['open_at_end']} open at the end")
    return await write_report(report, args.out, args.json, service_file, summary)


async def cmd_progress(settings, args) -> int:
    from handlers.report_files import progress_file
    from handlers.survey_answers import progress_report
    from handlers.surveys import get_campaign

    async def work(session, desk):
        campaign = await get_campaign(session, args.campaign)
        compare = await get_campaign(session, args.compare) if args.compare else None
        return await progress_report(session, campaign, compare)

    code, report = await in_transaction(settings, work)
    if code:
        return code
    lines = [f"{report['survey']} progress report: {', '.join(report['campaigns'])}"]
    for survey in filter(None, (report["first"], report["second"])):
        lines.append(f"{survey['campaign']}: " + ", ".join(f"{g} {n} answered" for g, n in survey["answered"].items()))
    if args.out is not None and args.out.suffix.lower() == ".csv":
        return fail("the progress report is written as .html, .pdf or .json")
    return await write_report(report, args.out, args.json, progress_file, "\n".join(lines))
