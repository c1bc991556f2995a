"""Benchmark: a newsletter to 5,000 recipients through the outbox into aiosmtpd, against raw aiosmtplib.

Both send from this process to the same aiosmtpd server, which runs in a process of its own (as
a real server would: in-process, its thread took the GIL from the sender, and from the desk's
database work more than from the baseline), over the same number of SMTP connections
(EOCIC_SMTP_CONNECTIONS, default 4). `outbox_send_per_s` is delivery alone (every row written
first, then `send_all`); `outbox_total_per_s` is a second issue to the same readers, from the
start of rendering and writing the rows to the last one marked sent, with the outbox worker
running beside the writing as in the running desk (woken after each batch of rows). The baseline
sends the very same pre-rendered bytes, once before the desk's runs and once after them (the
machine is shared: one measurement drifts); the ratios use the mean of the two, and both are
printed. The total includes work the baseline has none of, on purpose: reading the members,
rendering the Markdown and composing every copy, and writing the rows (the desk must do them;
none of it is start-up of the bench). Compare ratios of one run, not figures across runs.
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
import multiprocessing
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
from config.settings import load_settings  # noqa: E402
from handlers import announcements, lists  # noqa: E402
from models.base import utcnow  # noqa: E402
from models.lists import Subscription, SubscriptionState  # noqa: E402
from models.outbox import OutboxMail  # noqa: E402
from models.partnerships import Contact  # noqa: E402

MARKDOWN = Path(__file__).with_name("newsletter_sample.md")


class Sink:
    """An aiosmtpd server in a process of its own that counts what it accepts (`len(sink.messages)`).

    A real SMTP server never shares the sender's interpreter: in-process, its thread competes
    for the GIL with whatever sends to it, the desk's database work and the baseline alike.
    """

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._count, ready = context.Value("q", 0), context.Queue()
        self._process = context.Process(target=_serve, args=(self._count, ready), daemon=True)
        self._process.start()
        self.host, self.port = ready.get(timeout=60)

    @property
    def messages(self) -> range:
        return range(self._count.value)

    def clear(self) -> None:
        self._count.value = 0

    def stop(self) -> None:
        self._process.terminate()
        self._process.join(10)


class _Counter:
    def __init__(self, count) -> None:
        self.count = count

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self.count.get_lock():
            self.count.value += 1
        return "250 Message accepted for delivery"


def _serve(count, ready) -> None:
    import socket
    import threading

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(_Counter(count), hostname="127.0.0.1", port=port, enable_SMTPUTF8=True)
    controller.start()
    ready.put((controller.hostname, controller.port))
    threading.Event().wait()


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


async def rows_of(desk, ident: int, n: int, state: str) -> list[OutboxMail]:
    async with desk.db.session() as session:
        rows = list(await session.exec(select(OutboxMail).where(OutboxMail.key.like(f"announce:{ident}:%"))))
    assert len(rows) == n and all(r.state.value == state for r in rows), f"not every copy is {state}"
    return rows


async def send_phase_run(desk, sink, n: int) -> tuple[float, float, int, list[tuple[str, list[str], bytes]]]:
    """Queue every copy first, send the same bytes with the baseline, then time the outbox sending
    them (`send_all`). Returns (baseline, outbox, connections opened, the messages)."""
    ident = await new_announcement(desk, 3)
    await announcements.queue(desk.db, desk.settings, ident)
    messages = [(r.mail_from, r.rcpt_to, r.raw) for r in await rows_of(desk, ident, n, "pending")]
    baseline = await baseline_run(sink.host, sink.port, messages, desk.settings.smtp_connections)
    assert len(sink.messages) == n
    sink.clear()
    started = time.perf_counter()
    sender = OutboxSender(desk.db, desk.settings)
    await sender.send_all()
    elapsed = time.perf_counter() - started
    await rows_of(desk, ident, n, "sent")
    return baseline, elapsed, sender.pool.opened, messages


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
    await rows_of(desk, ident, n, "sent")
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
    sink = Sink()
    try:
        with tempfile.TemporaryDirectory() as data, databases(args.database) as new_database:
            settings = load_settings(data_dir=Path(data), database_url=new_database(), secret_key="bench", smtp_host=sink.host,
                                     smtp_port=sink.port, smtp_security="none", smtp_connections=args.connections,
                                     outbox_rate_per_second=0)
            desk = await open_desk(settings)
            async with desk.db.transaction() as session:
                await add_readers(session, args.recipients)
            baseline_before, send_only, opened, messages = await send_phase_run(desk, sink, args.recipients)
            assert len(sink.messages) == args.recipients
            sink.clear()
            total, opened_together = await together_run(desk, sink, args.recipients)
            await desk.db.dispose()
        assert len(sink.messages) == args.recipients
        sink.clear()
        baseline_after = await baseline_run(sink.host, sink.port, messages, args.connections)
        assert len(sink.messages) == args.recipients
    finally:
        sink.stop()
    baseline = (baseline_before + baseline_after) / 2
    n = args.recipients
    print(json.dumps({
        "recipients": n, "connections": args.connections, "database": "sqlite" if args.database == "sqlite" else "postgresql",
        "outbox_total_per_s": round(n / total, 1), "outbox_send_per_s": round(n / send_only, 1),
        "baseline_aiosmtplib_per_s": round(n / baseline, 1),
        "baseline_before_per_s": round(n / baseline_before, 1), "baseline_after_per_s": round(n / baseline_after, 1),
        "ratio_outbox_send_to_baseline": round(baseline / send_only, 3),
        "ratio_outbox_total_to_baseline": round(baseline / total, 3),
        "smtp_connections_opened": opened, "smtp_connections_opened_together": opened_together,
        "baseline_connections_opened": args.connections,
    }))


if __name__ == "__main__":
    asyncio.run(main())
