"""Intake throughput: N realistic mails in Dovecot, whole intake up to the commit, against a baseline
measured in the same run (raw imapclient fetch with BODY.PEEK[] in batches of 100 + stdlib parsing).

    python bench/intake.py [N]        # prints one JSON line
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import sys
import tempfile
import time
from pathlib import Path

from common import append_all, dovecot_mailbox

from bench.mailgen import make_request
from bot.mailbox import MailboxWatcher
from bot.runtime import open_desk
from config.settings import load_settings
from handlers.classify import classify
from handlers.parsing import parse_mail
from models.tickets import Message
from tests.desk import count


def baseline(server, user: str, password: str) -> float:
    client = server.connect(user, password)
    client.select_folder("INBOX", readonly=True)
    started = time.perf_counter()
    uids = client.search(["ALL"])
    parsed = 0
    for start in range(0, len(uids), 100):
        for data in client.fetch(uids[start : start + 100], ["BODY.PEEK[]"]).values():
            email.message_from_bytes(data[b"BODY[]"], policy=email.policy.default)
            parsed += 1
    elapsed = time.perf_counter() - started
    client.logout()
    return parsed / elapsed


async def intake(server, user: str, password: str, n: int) -> float:
    data_dir = Path(tempfile.mkdtemp(prefix="eocic-bench-"))
    settings = load_settings(
        data_dir=data_dir, imap_host=server.host, imap_port=server.port, imap_user=user,
        imap_password=password, imap_security="none", acks_per_sender_per_hour=100000,
    )
    desk = await open_desk(settings)
    classify(parse_mail(make_request(0)))  # start-up cost (model load) is not throughput
    stop = asyncio.Event()
    watcher = MailboxWatcher(desk.deps)
    started = time.perf_counter()
    task = asyncio.create_task(watcher.run(stop))
    while await count(desk.db, Message) < n:
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    stop.set()
    await task
    await desk.db.dispose()
    return n / elapsed


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    server, user, password = dovecot_mailbox()
    try:
        append_all(server, user, password, [make_request(i) for i in range(n)])
        base = baseline(server, user, password)
        ours = asyncio.run(intake(server, user, password, n))
    finally:
        server.stop()
    print(json.dumps({
        "bench": "intake", "mails": n,
        "baseline_fetch_parse_per_s": round(base, 1), "intake_per_s": round(ours, 1),
        "ratio": round(ours / base, 3),
    }))


if __name__ == "__main__":
    main()
