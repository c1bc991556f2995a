"""The desk's shared parts (`Desk`) and opening them: the database migrated and seeded, the handler deps built.

A command that works and exits (`eocic-desk tickets`, `ingest`…) opens the desk here with
`opened_desk` and never loads what only a running desk needs (Slack app, IMAP watcher, HTTP
server, SMTP stand-ins): those live in bot/runtime.py, which fills the rest of `Desk` in.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.chromium import print_pdf
from bot.features import FEATURES, subcommands
from bot.leader import seed_in_turn
from bot.startup import wait_for_database
from config.registry import load_registry
from config.settings import Settings
from handlers import slack_notify
from handlers.context import Deps
from models import migrate
from models.db import Database
from models.partnerships import seed_registry

if TYPE_CHECKING:
    from bot.leader import Leadership
    from bot.mailbox import MailboxWatcher
    from bot.outbox import OutboxSender
    from bot.scheduler import DeskScheduler
    from bot.slack.app import SlackEdge
    from bot.slack_delivery import SlackDelivery


@dataclass
class Desk:
    """The shared parts of a running desk."""

    settings: Settings
    db: Database
    deps: Deps
    outbox: OutboxSender | None = None
    watcher: MailboxWatcher | None = None
    scheduler: DeskScheduler | None = None
    slack: SlackEdge | None = None  # None: Slack is not configured
    slack_delivery: SlackDelivery | None = None
    leadership: Leadership | None = None  # who watches the mailbox and runs the timetable


async def open_desk(settings: Settings) -> Desk:
    """Migrate the database to the newest schema, add missing registry entries, build the handler deps."""
    db = Database(settings.db_url)  # creates the SQLite file's folder
    await wait_for_database(db, settings.db_url, settings.database_wait_seconds)
    await asyncio.to_thread(migrate.upgrade, settings.db_url)
    async with db.transaction() as session:
        await seed_in_turn(session)
        await seed_registry(session, load_registry())
        for feature in FEATURES:
            if feature.seed is not None:
                await feature.seed(session, settings)
    desk = Desk(settings=settings, db=db, deps=Deps(db=db, settings=settings, subcommands=subcommands(),
                                                             print_pdf=print_pdf))
    slack_notify.install(desk.deps)  # ticket events write Slack card and thread notices
    return desk


@asynccontextmanager
async def opened_desk(settings: Settings, *, mail_pool: bool = False):
    """`open_desk` for a command that works and exits: the database is closed afterwards.
    With `mail_pool`, untrusted mail is read in worker processes (`ingest`, `replay`)."""
    desk = await open_desk(settings)
    try:
        if mail_pool:
            from bot.mail_pool import MailPool  # worker processes: only for the commands that read mail

            desk.deps.pool = MailPool(settings)
            await desk.deps.pool.start()
        yield desk
    finally:
        if desk.deps.pool is not None:
            await asyncio.to_thread(desk.deps.pool.close)
        await desk.db.dispose()
