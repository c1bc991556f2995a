"""`eocic-desk run|demo|check|db`: run the desk, try it on sample mail, check its connections, keep its database."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path


def register(sub) -> None:
    sub.add_parser("run", help="run the whole desk until SIGTERM/SIGINT").set_defaults(func=cmd_run)
    sub.add_parser("demo", help="run the real pipeline on sample mail with local stand-in servers").set_defaults(func=cmd_demo)
    sub.add_parser("check", help="try the database, IMAP, SMTP, Slack and LimeSurvey as configured; "
                                 "one line each, exit status 1 if any fails").set_defaults(func=cmd_check)

    p = sub.add_parser("db", help="database maintenance")
    dbsub = p.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    dbsub.add_parser("upgrade", help="apply migrations and seed the partnership registry").set_defaults(func=cmd_db)
    p = dbsub.add_parser("backup", help="copy the SQLite database to FILE while the desk runs (PostgreSQL: says how)")
    p.add_argument("file", help="the backup file to write (must not exist)")
    p.set_defaults(func=cmd_backup)


async def cmd_run(settings, args) -> int:
    from bot.runtime import install_signal_handlers, run_desk

    stop = asyncio.Event()
    install_signal_handlers(stop)
    await run_desk(settings, stop)
    return 0


async def cmd_demo(settings, args) -> int:
    from bot.demo import run_demo

    return await run_demo(settings, out=sys.stdout)


async def cmd_check(settings, args) -> int:
    from bot.check import run_checks

    return await run_checks(settings, sys.stdout)


async def cmd_db(settings, args) -> int:
    from bot.desk import opened_desk

    async with opened_desk(settings):
        pass
    print(f"database is at the newest schema: {settings.db_url.split('@')[-1]}")
    return 0


async def cmd_backup(settings, args) -> int:
    from bot.backup import backup

    print(await asyncio.to_thread(backup, settings.db_url, Path(args.file)))
    return 0
