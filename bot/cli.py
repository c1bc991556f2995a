"""`eocic-desk`: the command line. Each command is a thin wrapper around handlers."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path

from bot.mail_sources import mail_sources
from bot.cli_common import fail, in_transaction, print_result, row_id
from bot.runtime import opened_desk
from bot.startup import StartupError
from config.settings import SettingsError, load_settings


async def cmd_ingest(settings, args) -> int:
    from handlers.intake import Source, ingest

    counts: dict[str, int] = {}
    async with opened_desk(settings, mail_pool=True) as desk:
        for label, raw in mail_sources(args.paths):
            result = await ingest(raw, desk.deps, Source(label))
            counts[result.kind] = counts.get(result.kind, 0) + 1
            if args.verbose:
                print(f"{label}\t{result.kind}\t{result.ticket_ref or ''}")
        if args.send:
            from bot.outbox import OutboxSender

            await OutboxSender(desk.db, settings).send_all()
    print(json.dumps(counts, sort_keys=True) if args.json else ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    return 0


async def cmd_tickets(settings, args) -> int:
    from handlers.tickets import list_tickets

    code, tickets = await in_transaction(settings, lambda session, desk: list_tickets(session, args.status))
    if code:
        return code
    lines = [f"{t['ref']}  {t['status']:<7} {t['intent']:<15} {t['category'] or '-':<26} "
             f"{t['partnership'] or '-':<16} {t['sender']:<34} {t['subject'][:60]}" for t in tickets]
    print_result(tickets, args.json, "\n".join([*lines, f"{len(tickets)} ticket(s)"]))
    return 0


async def cmd_ticket(settings, args) -> int:
    code, data = await in_transaction(settings, lambda session, desk: _describe(session, args.ref))
    if code:
        return code
    lines = [f"{key:>18}: {value}" for key, value in data.items() if key not in ("messages", "outgoing")]
    lines += ["messages:"] + [f"  {m['date']}  {m['direction']:<3} {m['kind']:<10} {m['from']}  {m['subject'][:60]}"
                              for m in data["messages"]]
    lines += ["outgoing mail:"] + [
        f"  {o['queued_at'][:19]}  {o['kind']:<14} to {o['to']:<34} {o['state']:<8}"
        + (f" sent {o['sent_at'][:19]}" if o["sent_at"] else f" attempts {o['attempts']}")
        + (f"  ({' '.join(o['last_error'].split())[:80]})" if o["last_error"] and o["state"] != "sent" else "")
        for o in data["outgoing"]] if data["outgoing"] else ["outgoing mail: none"]
    print_result(data, args.json, "\n".join(lines))
    return 0


async def _describe(session, ref: str) -> dict:
    from handlers.tickets import describe, get_ticket

    return await describe(session, await get_ticket(session, ref))


async def cmd_quarantine(settings, args) -> int:
    from sqlmodel import select

    from models.tickets import Message, MessageState

    async def work(session, desk):
        return list(await session.exec(select(Message).where(Message.state == MessageState.quarantined).order_by(Message.id)))

    code, rows = await in_transaction(settings, work)
    if code:
        return code
    items = [{"id": m.id, "source": m.source, "from": m.from_addr, "subject": m.subject, "size": m.raw_size,
              "received_at": m.received_at.isoformat(), "error": (m.error or "").strip().splitlines()[-1:]} for m in rows]
    lines = [f"{i['id']:>6}  {i['received_at'][:19]}  {i['source'][:40]:<40} {' '.join(i['error'])[:80]}" for i in items]
    print_result(items, args.json, "\n".join([*lines, f"{len(items)} quarantined message(s); retry one with: eocic-desk replay ID"]))
    return 0


async def cmd_replay(settings, args) -> int:
    from handlers.context import Isolated
    from handlers.intake import replay

    async with opened_desk(settings, mail_pool=True) as desk:
        try:
            result = await replay(args.id, desk.deps)
        except (LookupError, ValueError, Isolated) as exc:  # not in quarantine; still unparseable or over a limit
            return fail(str(exc))
    print(f"message {args.id}: {result.kind} {result.ticket_ref or ''}".strip())
    return 0


async def cmd_db(settings, args) -> int:
    async with opened_desk(settings):
        pass
    print(f"database is at the newest schema: {settings.db_url.split('@')[-1]}")
    return 0


async def cmd_run(settings, args) -> int:
    from bot.runtime import install_signal_handlers, run_desk

    stop = asyncio.Event()
    install_signal_handlers(stop)
    await run_desk(settings, stop)
    return 0


async def cmd_check(settings, args) -> int:
    from bot.check import run_checks

    return await run_checks(settings, sys.stdout)


async def cmd_backup(settings, args) -> int:
    from bot.backup import backup

    print(await asyncio.to_thread(backup, settings.db_url, Path(args.file)))
    return 0


async def cmd_demo(settings, args) -> int:
    from bot.demo import run_demo

    return await run_demo(settings, out=sys.stdout)


async def cmd_retrain(settings, args) -> int:
    from handlers.classify.training import retrain
    from handlers.parsing import parse_mail
    from models.corrections import corrected_examples

    code, corrected = await in_transaction(settings, lambda session, desk: corrected_examples(session))
    if code:
        return code
    examples = [(parse_mail(raw), labels) for raw, labels in corrected]
    path = await asyncio.to_thread(retrain, examples)
    print(f"retrained with {len(examples)} staff correction(s) on top of the corpus: {path}")
    return 0


def cmd_classify(settings, args) -> int:
    from handlers.classify import commands

    if args.retrain:
        return asyncio.run(cmd_retrain(settings, args))
    if args.evaluate:
        return commands.evaluate_dir(args.evaluate, sys.stdout)
    if not args.files:
        raise SystemExit("eocic-desk classify: give .eml files, --evaluate DIR, or --retrain")
    return commands.classify_files(args.files, args.json, sys.stdout)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="eocic-desk", description="EOCIC Service Desk")
    parser.add_argument("-v", "--verbose", action="store_true", help="more log output")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("run", help="run the whole desk until SIGTERM/SIGINT").set_defaults(func=cmd_run)
    sub.add_parser("demo", help="run the real pipeline on sample mail with local stand-in servers").set_defaults(func=cmd_demo)
    sub.add_parser("check", help="try the database, IMAP, SMTP, Slack and LimeSurvey as configured; "
                                 "one line each, exit status 1 if any fails").set_defaults(func=cmd_check)

    p = sub.add_parser("ingest", help="feed .eml files, folders of them or mbox files through intake")
    p.add_argument("paths", nargs="+", help=".eml files, folders of them (searched recursively) or mbox files")
    p.add_argument("--json", action="store_true", help="print the counts as JSON")
    p.add_argument("--send", action="store_true", help="also send the acknowledgements now")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("tickets", help="list tickets")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--status", choices=["new", "open", "waiting", "closed"], help="only tickets in this state")
    p.set_defaults(func=cmd_tickets)

    p = sub.add_parser("ticket", help="show one ticket")
    p.add_argument("ref", help="a reference such as EOCIC-00042")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=cmd_ticket)

    p = sub.add_parser("quarantine", help="list mail that could not be handled")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=cmd_quarantine)

    p = sub.add_parser("replay", help="retry one quarantined mail")
    p.add_argument("id", type=row_id, help="the id shown by `eocic-desk quarantine`")
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("db", help="database maintenance")
    dbsub = p.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    dbsub.add_parser("upgrade", help="apply migrations and seed the partnership registry").set_defaults(func=cmd_db)
    p = dbsub.add_parser("backup", help="copy the SQLite database to FILE while the desk runs (PostgreSQL: says how)")
    p.add_argument("file", help="the backup file to write (must not exist)")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("classify", help="classify .eml files, or evaluate on a labelled folder")
    p.add_argument("files", nargs="*", help=".eml files to classify")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--evaluate", metavar="DIR", help="folder with .eml files and labels.jsonl")
    p.add_argument("--retrain", action="store_true",
                   help="rebuild the model from the corpus and the staff corrections in the database")
    p.set_defaults(func=cmd_classify)
    __import__("bot.cli_surveys").cli_surveys.register(sub)  # eocic-desk survey … (issue 5)
    __import__("bot.cli_lists").cli_lists.register(sub)  # eocic-desk list|webinar|announce|person (issue 6)
    __import__("bot.cli_slack").cli_slack.register(sub)  # eocic-desk slack redrive (issue 9)
    __import__("bot.cli_reports").cli_reports.register(sub)  # eocic-desk report … (issue 11)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"eocic-desk: configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else getattr(logging, settings.log_level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("alembic", "mail.log", "apscheduler"):  # library chatter, not the desk's own log
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        result = args.func(settings, args)
        return asyncio.run(result) if asyncio.iscoroutine(result) else result
    except SettingsError as exc:
        print(f"eocic-desk: configuration error: {exc}", file=sys.stderr)
        return 2
    except StartupError as exc:
        print(f"eocic-desk: {exc}", file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        print(f"eocic-desk: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
