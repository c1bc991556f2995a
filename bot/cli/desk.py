"""`eocic-desk run|demo|check|db`: run the desk, try it on sample mail, check its connections, keep its database."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.cli.common import add_command, add_group


def register(sub) -> None:
    add_command(sub, "run", "run the whole desk until SIGTERM/SIGINT", cmd_run)
    add_command(sub, "demo", "run the real pipeline on sample mail with local stand-in servers", cmd_demo)
    add_command(sub, "check", "try the database, IMAP, SMTP, Slack and LimeSurvey as configured; "
                              "one line each, exit status 1 if any fails", cmd_check)

    dbsub = add_group(sub, "db", "database maintenance")
    add_command(dbsub, "upgrade", "apply migrations and seed the partnership registry", cmd_db)
    p = add_command(dbsub, "backup", "copy the SQLite database to FILE while the desk runs (PostgreSQL: says how)", cmd_backup)
    p.add_argument("file", help="the backup file to write (must not exist)")


async def cmd_run(settings, args) -> int:
    import asyncio

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
    import asyncio

    from bot.backup import backup

    print(await asyncio.to_thread(backup, settings.db_url, Path(args.file)))
    return 0
