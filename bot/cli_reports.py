"""`eocic-desk report …`: the reports EOCIC writes, from the desk's own data.

`--out FILE` picks the format from the file's ending (.html, .pdf, .csv, .json); `--json` prints
the figures; without either a short summary is printed.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from bot.cli_common import fail, in_transaction

FORMATS = ("html", "pdf", "csv", "json")  # what --out accepts (handlers.report_files renders them)


def register(sub) -> None:
    p = sub.add_parser("report", help="the service report (and the partnerships' progress report)")
    rsub = p.add_subparsers(dest="report_command", required=True, metavar="REPORT")
    s = rsub.add_parser("services", help="requests by service, month and partnership; response times; backlog")
    s.add_argument("--from", dest="start", required=True, type=_date, help="first day, e.g. 2026-01-01 (Brussels)")
    s.add_argument("--to", dest="end", required=True, type=_date, help="last day, included")
    _outputs(s)
    s.set_defaults(func=cmd_services)


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
    try:
        fmt = output_format(out, as_json)
        if fmt is None:
            print(summary)
            return 0
        content = await render(report, fmt)
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
