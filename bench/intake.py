"""Intake throughput: N realistic mails in Dovecot, whole intake up to the commit, against a baseline
measured in the same run (raw imapclient fetch with BODY.PEEK[] in batches of 100 + stdlib parsing),
once before intake and once after it on the same mails: the figure is against their mean.

The desk runs as in production (`run_desk`): the worker pool parses and classifies, the outbox sends
the acknowledgements to an aiosmtpd sink and the Slack delivery posts the cards to the strict Slack
stand-in, both in a process of their own (bench/standins.py), while the mails come in.

    python bench/intake.py [N] [--database sqlite|postgres|postgresql://…] [--history H]   # prints one JSON line

With `--history H` the same run measures intake twice, into an empty database and into one holding H
earlier tickets with their mail and sent acknowledgements (bench/history.py): the growth figure is
the ratio of the two.

`--database postgres` starts a throw-away PostgreSQL cluster; a postgresql:// URL is used as it is
(its database must be empty).
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import json
import tempfile
import time
from contextlib import contextmanager

from common import append_all, dovecot_mailbox
from history import seed_history
from standins import Standins

from bench.mailgen import make_request
from bot.runtime import run_desk
from models.db import Database
from tests.desk import settings_from_env
from tests.servers import imap_env


def baseline(server, user: str, password: str, folder: str = "INBOX") -> float:
    client = server.connect(user, password)
    client.select_folder(folder, readonly=True)
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


async def _last_message_id(db: Database) -> int:
    async with db.engine.connect() as conn:
        return (await conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM message")).scalar_one()


async def intake(server, user: str, password: str, n: int, env: dict[str, str], prepare=None) -> tuple[float, str]:
    """Mails per second from the desk's start to the commit of the n-th, and the folder the desk moved
    them to; `prepare(settings)` runs first (`--history` fills the database there, bench/history.py)."""
    env = {**env, **imap_env(server.host, server.port, user, password), "EOCIC_HTTP_PORT": "0",
           "EOCIC_DATA_DIR": tempfile.mkdtemp(prefix="eocic-bench-"), "EOCIC_SECRET_KEY": "bench-secret"}
    settings = settings_from_env(env)
    if prepare is not None:
        await prepare(settings)
    db = Database(settings.db_url)
    first = await _last_message_id(db) if prepare is not None else 0  # before: the schema exists
    stop, ready = asyncio.Event(), asyncio.Event()
    desk = asyncio.create_task(run_desk(settings, stop, ready=ready))
    await asyncio.wait([desk, asyncio.ensure_future(ready.wait())], return_when=asyncio.FIRST_COMPLETED)
    if desk.done():
        desk.result()  # start-up failed: say why
    started = time.perf_counter()
    while await _last_message_id(db) - first < n:
        await asyncio.sleep(0.02)
    elapsed = time.perf_counter() - started
    stop.set()
    await desk
    await db.dispose()
    return n / elapsed, settings.imap_processed_folder or "INBOX"  # no folder: flagged where they were


@contextmanager
def databases(choice: str):
    """A function giving the URL of a new empty database for each run ("" is SQLite in the data dir)."""
    if choice == "sqlite":
        yield lambda: ""
    elif choice == "postgres":
        from tests.servers import PostgresCluster

        cluster = PostgresCluster().start()
        try:
            yield lambda: cluster.new_database("eocic_bench")
        finally:
            cluster.stop()
    else:
        yield lambda: choice


def run(n: int, database_url: str, prepare=None) -> tuple[tuple[float, float], float, dict]:
    """((baseline before, after), intake, what the stand-ins received) for n mails in a fresh mailbox.
    The baseline reads the same mails before intake (in the inbox) and after (in the folder intake
    moved them to): on a machine whose speed drifts, their mean is what intake ran against."""
    server, user, password = dovecot_mailbox()
    try:
        append_all(server, user, password, [make_request(i) for i in range(n)])
        before = baseline(server, user, password)
        with Standins() as standins:
            env = {**standins.env, **({"EOCIC_DATABASE_URL": database_url} if database_url else {})}
            ours, folder = asyncio.run(intake(server, user, password, n, env, prepare))
        after = baseline(server, user, password, folder)
        return (before, after), ours, standins.report
    finally:
        server.stop()


def arguments(description: str, default_n: int) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("n", nargs="?", type=int, default=default_n, help="mails to ingest")
    parser.add_argument("--history", type=int, default=0, help="also measure into a database with this many earlier tickets")
    parser.add_argument("--database", default="sqlite",
                        help="sqlite (default), postgres (a throw-away cluster) or a postgresql:// URL of an empty database")
    return parser.parse_args()


def main() -> None:
    args = arguments("Intake throughput against raw fetch + parse of the same mails.", 2000)
    with databases(args.database) as new_database:
        (before, after), ours, received = run(args.n, new_database())
        base = (before + after) / 2
        figures = {
            "bench": "intake", "mails": args.n, "database": "sqlite" if args.database == "sqlite" else "postgresql",
            "baseline_fetch_parse_per_s": round(base, 1), "baseline_before_per_s": round(before, 1),
            "baseline_after_per_s": round(after, 1), "intake_per_s": round(ours, 1),
            "ratio": round(ours / base, 3), "while_running": received,
        }
        if args.history:
            async def prepare(settings):
                await asyncio.to_thread(seed_history, settings.db_url, args.history, settings.desk_address)

            _, grown, _ = run(args.n, new_database(), prepare)
            figures.update(history=args.history, intake_with_history_per_s=round(grown, 1),
                           history_ratio=round(grown / ours, 3))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
