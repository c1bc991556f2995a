"""Benchmark: a newsletter to 5,000 recipients through the outbox into aiosmtpd, against raw aiosmtplib.

Both run in the same process against the same aiosmtpd server, over the same number of SMTP
connections (EOCIC_SMTP_CONNECTIONS, default 4). `outbox_send_per_s` is delivery alone (every
row written first, then `send_all`); `outbox_total_per_s` is a second issue to the same readers,
from the start of rendering and writing the rows to the last one marked sent, with the outbox
worker running beside the writing as in the running desk (woken after each batch of rows). The
baseline sends the very same pre-rendered bytes. The total therefore includes work the baseline
has none of, on purpose: reading the members, rendering the Markdown and composing every copy,
and writing the rows (the desk must do them; none of it is start-up of the bench). Everything,
the aiosmtpd server included, shares one process and its GIL on 2 cores, so the baseline itself
varies from run to run (about 860–1,310/s here); compare ratios of one run, not figures across runs.
`smtp_connections_opened` is how many connections the outbox opened (the baseline opens one per
connection slot).

    /work/venv/bin/python bench/bulk_send.py [--recipients 5000] [--connections 4] [--database sqlite|postgres|postgresql://…]

`--database postgres` starts a throw-away PostgreSQL cluster (a postgresql:// URL must name an empty database).

Prints ONE JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

import aiosmtplib  # noqa: E402
from sqlmodel import select  # noqa: E402

from bench.intake import databases  # noqa: E402
from bot.outbox import OutboxSender  # noqa: E402
from bot.desk import open_desk  # noqa: E402
from bot.standins import start_smtp_catcher  # noqa: E402
from config.settings import load_settings  # noqa: E402
from handlers import announcements, lists  # noqa: E402
from models.base import utcnow  # noqa: E402
from models.lists import Subscription, SubscriptionState  # noqa: E402
from models.outbox import OutboxMail  # noqa: E402
from models.partnerships import Contact  # noqa: E402

MARKDOWN = Path(__file__).with_name("newsletter_sample.md")


async def add_readers(session, n: int, source: str = "bench", emails: list[str] | None = None) -> None:
    """`n` new contacts `readerNNNNN@bench.example` (or those of `emails`), each an active, consenting
    newsletter subscriber (bulk insert).

    Shared with tests/test_lists_bulk.py; `lists.add_member` would write an audit row per person.
    """
    newsletter = await lists.get_list(session, "newsletter")
    emails = emails or [f"reader{i:05d}@bench.example" for i in range(n)]
    contacts = [Contact(email=address, name=f"Reader {i}") for i, address in enumerate(emails)]
    session.add_all(contacts)
    await session.flush()
    now = utcnow()
    session.add_all(Subscription(list_id=newsletter.id, contact_id=c.id, state=SubscriptionState.active,
                                 consent_source=source, consent_at=now, confirmed_at=now) for c in contacts)


async def new_announcement(desk, issue: int) -> int:
    async with desk.db.transaction() as session:
        ann = await announcements.create(session, list_name="newsletter", subject=f"EOCIC newsletter, issue No {issue}",
                                         markdown=MARKDOWN.read_text(encoding="utf-8"), actor="bench")
        await announcements.approve(session, ann, "bench")
    return ann.id


async def sent_rows(desk, ident: int, n: int) -> list[OutboxMail]:
    async with desk.db.session() as session:
        rows = list(await session.exec(select(OutboxMail).where(OutboxMail.key.like(f"announce:{ident}:%"))))
    assert len(rows) == n and all(r.state.value == "sent" for r in rows), "not everything was sent"
    return rows


async def send_phase_run(desk, n: int) -> tuple[float, int, list[tuple[str, list[str], bytes]]]:
    """Queue every copy first, then time the outbox sending them (`send_all`)."""
    ident = await new_announcement(desk, 3)
    await announcements.queue(desk.db, desk.settings, ident)
    started = time.perf_counter()
    sender = OutboxSender(desk.db, desk.settings)
    await sender.send_all()
    elapsed = time.perf_counter() - started
    rows = await sent_rows(desk, ident, n)
    return elapsed, sender.pool.opened, [(r.mail_from, r.rcpt_to, r.raw) for r in rows]


async def together_run(desk, sink, n: int) -> tuple[float, int]:
    """Queueing and sending as the running desk does them: the outbox worker runs, woken after each
    batch of rows written; timed from the start of queueing to the last copy marked sent."""
    ident = await new_announcement(desk, 4)
    sender, stop = OutboxSender(desk.db, desk.settings), asyncio.Event()
    started = time.perf_counter()
    worker = asyncio.create_task(sender.run(stop))
    await announcements.queue(desk.db, desk.settings, ident, written=sender.wakeup.set)
    while len(sink.messages) < n:
        await asyncio.sleep(0.005)
    stop.set()
    await worker  # its last pass ends, and marks what it sent
    elapsed = time.perf_counter() - started
    await sent_rows(desk, ident, n)
    return elapsed, sender.pool.opened


async def baseline_run(host: str, port: int, messages, connections: int) -> float:
    queue: asyncio.Queue = asyncio.Queue()
    for item in messages:
        queue.put_nowait(item)

    async def worker() -> None:
        smtp = aiosmtplib.SMTP(hostname=host, port=port, use_tls=False, start_tls=False)
        await smtp.connect()
        while not queue.empty():
            sender, rcpts, raw = queue.get_nowait()
            await smtp.sendmail(sender, rcpts, raw)
        await smtp.quit()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--database", default="sqlite",
                        help="sqlite (default), postgres (a throw-away cluster) or a postgresql:// URL of an empty database")
    args = parser.parse_args()
    sink = start_smtp_catcher()
    try:
        with tempfile.TemporaryDirectory() as data, databases(args.database) as new_database:
            settings = load_settings(data_dir=Path(data), database_url=new_database(), secret_key="bench", smtp_host=sink.host,
                                     smtp_port=sink.port, smtp_security="none", smtp_connections=args.connections,
                                     outbox_rate_per_second=0)
            desk = await open_desk(settings)
            async with desk.db.transaction() as session:
                await add_readers(session, args.recipients)
            send_only, opened, messages = await send_phase_run(desk, args.recipients)
            assert len(sink.messages) == args.recipients
            sink.clear()
            total, opened_together = await together_run(desk, sink, args.recipients)
            await desk.db.dispose()
        assert len(sink.messages) == args.recipients
        sink.clear()
        baseline = await baseline_run(sink.host, sink.port, messages, args.connections)
        assert len(sink.messages) == args.recipients
    finally:
        sink.stop()
    n = args.recipients
    print(json.dumps({
        "recipients": n, "connections": args.connections, "database": "sqlite" if args.database == "sqlite" else "postgresql",
        "outbox_total_per_s": round(n / total, 1), "outbox_send_per_s": round(n / send_only, 1),
        "baseline_aiosmtplib_per_s": round(n / baseline, 1),
        "ratio_outbox_send_to_baseline": round(baseline / send_only, 3),
        "ratio_outbox_total_to_baseline": round(baseline / total, 3),
        "smtp_connections_opened": opened, "smtp_connections_opened_together": opened_together,
        "baseline_connections_opened": args.connections,
    }))


if __name__ == "__main__":
    asyncio.run(main())
