"""Who watches the mailbox and runs the timetable when several desks share one database.

On PostgreSQL, two or three `eocic-desk run` may serve the same database behind one load
balancer. Every instance answers HTTP and Slack and sends from the outbox (its claims skip rows
another instance holds); exactly one, the leader, watches the mailbox and runs the scheduler.
The leader is whoever holds a PostgreSQL advisory lock on a connection of its own: the lock is a
lease that dies with the process (the server drops it when the connection ends, at once on a
crash, after the TCP keepalives below when a machine vanishes). Followers try to take the lock
every half `EOCIC_LEADER_TAKEOVER_SECONDS`; the leader checks its connection as often and stops
watching and scheduling the moment the check fails.

On SQLite the desk is one process (`single`): a second `eocic-desk run` on the same file is
refused at start-up, since two watchers would read the same mailbox.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import time
from pathlib import Path
from typing import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.startup import StartupError

log = logging.getLogger(__name__)

LOCK_KEY = 0x45_4F_43_49_43  # "EOCIC": the one advisory lock the desks contend for
SEED_LOCK_KEY = LOCK_KEY + 1
KEEPALIVES = ("SET tcp_keepalives_idle = 5", "SET tcp_keepalives_interval = 2", "SET tcp_keepalives_count = 2")

Lead = Callable[[asyncio.Event], Awaitable[None]]  # the leader's work; returns when its event is set


class Leadership:
    """The role of this instance (`single`, `leader` or `follower`) and the loop that keeps it."""

    def __init__(self, db, takeover_seconds: float) -> None:
        self.db = db
        self.interval = takeover_seconds / 2
        self.role = "single" if db.is_sqlite else "follower"
        self.since = time.time()

    async def run(self, stop: asyncio.Event, lead: Lead) -> None:
        """Run `lead` while this instance leads, until `stop` is set."""
        if self.role == "single":
            await lead(stop)
            return
        while not stop.is_set():
            try:
                async with self.db.engine.connect() as conn:
                    if await self._take(conn):
                        await self._hold(conn, stop, lead)
            except Exception as exc:  # the database went away: try again, as a follower
                log.warning("leader election: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            self._become("follower")
            await _wait(stop, self.interval)

    async def _take(self, conn) -> bool:
        for statement in KEEPALIVES:
            await conn.execute(text(statement))
        taken = (await conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY})).scalar()
        await conn.commit()  # end the implicit transaction: the session-level lock stays
        return bool(taken)

    async def _hold(self, conn, stop: asyncio.Event, lead: Lead) -> None:
        self._become("leader")
        lead_stop = asyncio.Event()
        work = asyncio.create_task(lead(lead_stop), name="leader")
        try:
            while not stop.is_set() and not work.done():
                await _wait(stop, self.interval)
                if stop.is_set() or work.done():
                    break
                try:
                    await asyncio.wait_for(conn.execute(text("SELECT 1")), self.interval)
                    await conn.commit()
                except Exception:
                    log.error("lost the leader's database connection: stopping the mailbox watcher and the timetable")
                    await conn.invalidate()  # the lock goes with the connection
                    return
            if work.done() and not stop.is_set():
                log.error("the leader's work ended (%s): handing over", work.exception() or "returned")
            await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
            await conn.commit()
        finally:
            lead_stop.set()
            await asyncio.gather(work, return_exceptions=True)

    def _become(self, role: str) -> None:
        if role != self.role:
            log.info("this instance is now %s", role)
            self.role, self.since = role, time.time()


def wait_for_start_up_turn(connection) -> None:
    """Desks starting together on one PostgreSQL do what follows in this transaction one after the
    other (its lock ends with it), so that the second finds what the first one made: the seed rows,
    the scheduler's job table. Nothing to wait for on SQLite, where one desk owns the file."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEED_LOCK_KEY})


async def seed_in_turn(session) -> None:
    """`wait_for_start_up_turn` before the seed rows are added."""
    await session.run_sync(lambda sync_session: wait_for_start_up_turn(sync_session.connection()))


def claim_sqlite_file(db_url: str):
    """Hold an exclusive lock beside the SQLite file for the life of the process (an open file the
    caller keeps). A second desk on the same file stops with one line; None for in-memory."""
    try:
        url = make_url(db_url)
    except Exception:  # opening the database names the setting
        return None
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    path = Path(database).with_name(Path(database).name + ".lock")
    handle = open(path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise StartupError(
            f"EOCIC_DATABASE_URL: another eocic-desk run ({holder}) already uses the SQLite database {database}; "
            "SQLite serves one desk process: stop the other one, or use PostgreSQL to run several instances"
        ) from None
    handle.truncate(0)
    handle.write(f"pid {os.getpid()}\n")
    handle.flush()
    return handle


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except asyncio.TimeoutError:
        pass
