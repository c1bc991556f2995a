"""IDLE latency: from delivery into Dovecot (dovecot-lda) to the ticket being committed, p50/p95,
next to the floor measured in the same run: a bare imapclient IDLE seeing the same kind of delivery.
Then a burst of 100 mails delivered at once (8 deliveries in parallel): the time from the last
delivery to the last ticket committed (goal: 5 s), next to a bare IDLE seeing the burst's last
EXISTS.

    python bench/idle_latency.py [N]   # prints one JSON line
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import dovecot_mailbox, median, percentile

from bench.mailgen import make_request
from bot.mailbox import MailboxWatcher
from bot.desk import open_desk
from config.settings import load_settings
from handlers.classify import classify
from handlers.parsing import parse_mail
from models.tickets import Ticket
from tests.desk import count


def idle_floor(server, n: int) -> list[float]:
    user, password = server.new_user()
    client = server.connect(user, password)
    client.select_folder("INBOX")
    latencies = []
    for i in range(n):
        client.idle()
        sent = time.perf_counter()
        server.deliver(user, make_request(10_000 + i))
        while not any(r[1] == b"EXISTS" for r in client.idle_check(timeout=5) if len(r) > 1):
            pass
        latencies.append(time.perf_counter() - sent)
        client.idle_done()
    client.logout()
    return latencies


BURST = 100


def deliver_burst(server, user: str, first: int) -> float:
    """Deliver BURST mails at once; returns when the last delivery finished (perf_counter)."""
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: server.deliver(user, make_request(i)), range(first, first + BURST)))
    return time.perf_counter()


def burst_floor(server) -> float:
    """A bare IDLE: seconds from the burst's last delivery to the EXISTS that counts all of it."""
    user, password = server.new_user()
    client = server.connect(user, password)
    client.select_folder("INBOX")
    client.idle()
    with ThreadPoolExecutor(1) as pool:
        delivered = pool.submit(deliver_burst, server, user, 50_000)
        seen = 0
        while seen < BURST:
            for r in client.idle_check(timeout=5):
                if len(r) > 1 and r[1] == b"EXISTS":
                    seen = max(seen, r[0])
        latency = time.perf_counter() - delivered.result()
    client.idle_done()
    client.logout()
    return latency


async def desk_latency(server, user: str, password: str, n: int) -> tuple[list[float], float]:
    settings = load_settings(
        data_dir=Path(tempfile.mkdtemp(prefix="eocic-bench-")), imap_host=server.host, imap_port=server.port,
        imap_user=user, imap_password=password, imap_security="none", imap_poll_seconds=600,
    )
    desk = await open_desk(settings)
    classify(parse_mail(make_request(0)))
    stop = asyncio.Event()
    task = asyncio.create_task(MailboxWatcher(desk.deps).run(stop))
    await asyncio.sleep(1.0)  # connected and idling
    latencies = []
    for i in range(n):
        sent = time.perf_counter()
        await asyncio.to_thread(server.deliver, user, make_request(i))
        while await count(desk.db, Ticket) < i + 1:
            await asyncio.sleep(0.005)
        latencies.append(time.perf_counter() - sent)
    last_delivered = await asyncio.to_thread(deliver_burst, server, user, n)
    while await count(desk.db, Ticket) < n + BURST:
        await asyncio.sleep(0.005)
    burst = time.perf_counter() - last_delivered
    stop.set()
    await task
    await desk.db.dispose()
    return latencies, burst


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    server, user, password = dovecot_mailbox()
    try:
        floor = idle_floor(server, n)
        floor_burst = burst_floor(server)
        ours, burst = asyncio.run(desk_latency(server, user, password, n))
    finally:
        server.stop()
    print(json.dumps({
        "bench": "idle_latency", "mails": n,
        "floor_idle_p50_s": round(median(floor), 3), "floor_idle_p95_s": round(percentile(floor, 95), 3),
        "desk_p50_s": round(median(ours), 3), "desk_p95_s": round(percentile(ours, 95), 3),
        "ratio_p50": round(median(ours) / median(floor), 3),
        "burst_mails": BURST, "floor_burst_last_s": round(floor_burst, 3), "desk_burst_last_s": round(burst, 3),
        "ratio_burst": round(burst / floor_burst, 3) if floor_burst > 0 else None,
    }))


if __name__ == "__main__":
    main()
