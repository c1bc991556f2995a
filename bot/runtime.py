"""The whole desk in one asyncio process: mailbox watcher, outbox sender, HTTP server, Slack, the timetable.

`run_desk()` opens the desk (bot/desk.py), starts every component as a task and stops them all
cleanly when `stop` is set (SIGTERM/SIGINT in `eocic-desk run`). What each feature adds
(subcommands, listeners, routes, jobs, seed rows) comes from bot/features.py.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import AsyncExitStack
from urllib.parse import urlsplit

from bot.desk import Desk, open_desk
from bot.features import FEATURES
from bot.leader import Leadership, claim_sqlite_file
from bot.mail_pool import MailPool
from bot.mailbox import MailboxWatcher
from bot.outbox import OutboxSender
from bot.scheduler import create_scheduler
from bot.slack.app import start_slack
from bot.standins import start_imap_standin, start_smtp_catcher
from bot.web import start_http
from config.settings import Settings

log = logging.getLogger(__name__)


async def run_desk(settings: Settings, stop: asyncio.Event, *, ready: asyncio.Event | None = None) -> Desk:
    sqlite_claim = claim_sqlite_file(settings.db_url)
    desk = await open_desk(settings)
    async with AsyncExitStack() as stack:
        if sqlite_claim is not None:
            stack.callback(sqlite_claim.close)
        if not settings.smtp_configured:
            catcher = start_smtp_catcher()
            stack.callback(catcher.stop)
            settings = _with(settings, smtp_host=catcher.host, smtp_port=catcher.port, smtp_security="none")
            log.warning("EOCIC_SMTP_HOST is not set: outgoing mail goes to a local stand-in on port %s", catcher.port)
        if not settings.imap_configured:
            standin = await start_imap_standin()
            stack.push_async_callback(standin.close)
            settings = _with(
                settings, imap_host=standin.host, imap_port=standin.port, imap_user=standin.user,
                imap_password=standin.password, imap_security="none",
            )
            log.warning(
                "EOCIC_IMAP_HOST is not set: watching a local stand-in IMAP server on %s:%s; to try the desk, "
                "append a mail there with any IMAP client (no TLS): user %s, password %s",
                standin.host, standin.port, standin.user, standin.password,
            )
        desk.settings = desk.deps.settings = settings
        _warn_about_public_url(settings.public_url)
        desk.deps.pool = MailPool(settings)  # untrusted mail is parsed and classified there
        stack.push_async_callback(asyncio.to_thread, desk.deps.pool.close)
        await desk.deps.pool.start()
        outbox = OutboxSender(desk.db, settings, deps=desk.deps)
        desk.deps.outbox_wakeup = outbox.wakeup
        desk.outbox = outbox
        scheduler = create_scheduler(desk)
        desk.scheduler = scheduler
        for feature in FEATURES:
            if feature.jobs is not None:
                feature.jobs(scheduler, desk)
        await start_slack(desk, stack, stop)  # Slack app, card delivery, morning digest
        scheduler.start(paused=True)  # it runs only while this instance leads
        stack.push_async_callback(scheduler.stop)
        desk.leadership = Leadership(desk.db, settings.leader_takeover_seconds)
        runner = await start_http(desk)
        stack.push_async_callback(runner.cleanup)
        tasks = [
            asyncio.create_task(outbox.run(stop), name="outbox"),
            asyncio.create_task(desk.leadership.run(stop, lambda lead_stop: _lead(desk, lead_stop)), name="leadership"),
        ]
        log.info("desk running: database %s, HTTP on %s:%s", settings.db_url.split("@")[-1], settings.http_host, settings.http_port)
        if ready is not None:
            ready.set()
        await stop.wait()
        log.info("stopping")
        await asyncio.gather(*tasks, return_exceptions=True)
    await desk.db.dispose()
    return desk


async def _lead(desk: Desk, stop: asyncio.Event) -> None:
    """The leader's work: watch the mailbox and run the timetable until `stop` is set."""
    desk.watcher = MailboxWatcher(desk.deps)
    desk.scheduler.lead()
    try:
        await desk.watcher.run(stop)
    finally:
        desk.scheduler.pause()
        desk.watcher = None


def _warn_about_public_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        log.warning("EOCIC_PUBLIC_URL is plain http (%s): mail clients offer one-click unsubscribe (RFC 8058) "
                    "only over https; put the desk behind TLS and set an https:// URL", url)


def _with(settings: Settings, **changes) -> Settings:
    return settings.model_copy(update={k: type(getattr(settings, k))(v) for k, v in changes.items()})


def install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
