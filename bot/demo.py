"""`eocic-desk demo`: the real pipeline on sample mail, with nothing configured.

A throw-away SQLite database, an in-process IMAP server (pymap) holding the sample ESCP mails of
config/demo/, and an in-process SMTP server (aiosmtpd) that catches what the desk sends. The
desk runs exactly as under `eocic-desk run` until every sample mail is recorded and every
acknowledgement has been delivered; then it prints the tickets and the acknowledgements.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import shutil
import time
from pathlib import Path

from pydantic import SecretStr
from sqlmodel import func, select

from bot.runtime import run_desk
from bot.standins import start_imap_standin, start_smtp_catcher
from config.settings import Security, Settings
from models.db import Database
from models.outbox import OutboxMail, OutboxState
from models.tickets import Message

SAMPLES = Path(__file__).resolve().parent.parent / "config" / "demo"


async def run_demo(settings: Settings, out, *, timeout: float = 60.0) -> int:
    data_dir = settings.data_dir / "demo"
    shutil.rmtree(data_dir, ignore_errors=True)
    samples = sorted(SAMPLES.glob("*.eml"))
    catcher = start_smtp_catcher()
    imap = await start_imap_standin()
    try:
        for path in samples:
            await imap.append(path.read_bytes())
        demo_settings = settings.model_copy(update=dict(
            data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'demo.sqlite3'}",
            imap_host=imap.host, imap_port=imap.port, imap_user=imap.user,
            imap_password=SecretStr(imap.password), imap_security=Security.none,
            smtp_host=catcher.host, smtp_port=catcher.port, smtp_security=Security.none,
            smtp_user="", smtp_password=SecretStr(""), http_port=0,
        ))
        out.write(f"Demo: {len(samples)} sample mails in a local IMAP server on port {imap.port}; "
                  f"outgoing mail caught on port {catcher.port}; database {data_dir / 'demo.sqlite3'}\n")
        stop = asyncio.Event()
        ready = asyncio.Event()
        started = time.monotonic()
        desk_task = asyncio.create_task(run_desk(demo_settings, stop, ready=ready))
        await ready.wait()
        db = Database(demo_settings.db_url)
        try:
            while time.monotonic() - started < timeout:
                async with db.session() as session:
                    recorded = (await session.exec(select(func.count(Message.id)))).one()
                    unsent = (await session.exec(
                        select(func.count(OutboxMail.id)).where(OutboxMail.state.in_([OutboxState.pending, OutboxState.sending]))
                    )).one()
                if recorded >= len(samples) and unsent == 0:
                    break
                await asyncio.sleep(0.2)
            stop.set()
            await desk_task
            await _report(db, catcher, out, time.monotonic() - started)
        finally:
            await db.dispose()
    finally:
        await imap.close()
        catcher.stop()
    return 0


async def _report(db, catcher, out, seconds: float) -> None:
    from handlers.tickets import describe
    from models.tickets import Ticket

    async with db.session() as session:
        tickets = [await describe(session, t) for t in await session.exec(select(Ticket).order_by(Ticket.id))]
        others = list(await session.exec(select(Message.kind, Message.subject).where(Message.ticket_id.is_(None))))
    out.write(f"\nTickets ({len(tickets)}), {seconds:.1f}s after start:\n")
    for t in tickets:
        out.write(f"  {t['ref']}  {t['intent']:<15} {t['category'] or '-':<26} {t['partnership'] or '-':<20} "
                  f"lang={t['language'] or '?'}  msgs={len(t['messages'])}  {t['sender']}\n"
                  f"      {t['subject'][:90]}\n")
        for m in t["messages"]:  # which mail joined this ticket, and how
            out.write(f"      {m['direction']:<3} {m['kind']:<8} {m['from']}: {m['subject'][:70]}\n")
    for kind, subject in others:
        out.write(f"  (no ticket: {kind})  {subject[:80]}\n")
    out.write(f"\nAcknowledgements delivered to the local SMTP server ({len(catcher.messages)}):\n")
    for caught in catcher.messages:
        msg = email.message_from_bytes(caught.data, policy=email.policy.default)
        out.write(f"  to {', '.join(caught.rcpt_tos)}: {msg['Subject']}\n"
                  f"      In-Reply-To {msg['In-Reply-To']}, Auto-Submitted: {msg['Auto-Submitted']}\n")
