"""The database: one async engine per process, and `transaction()` for one unit of work.

Users configure a plain URL (`sqlite:///…`, `postgresql://…`); the async driver is chosen
here. SQLite runs in WAL mode, and every transaction starts with BEGIN IMMEDIATE so that two
writers (the bot and a CLI command) queue on the busy timeout instead of failing; `read()` starts
with a plain (deferred) BEGIN instead, so a read sees one snapshot and never waits for a writer. It also runs
with `secure_delete`, so deleted and overwritten content is zeroed rather than left in free
pages; `reclaim()` (after an erasure) vacuums and empties the write-ahead log.
"""

from __future__ import annotations

import logging
import sqlite3
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

log = logging.getLogger(__name__)


def async_url(url: str) -> str:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return str(parsed.set(drivername="sqlite+aiosqlite"))
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")


def sync_url(url: str) -> str:
    """The same database through a synchronous driver (Alembic, APScheduler's job store)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return str(parsed.set(drivername="sqlite"))


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA secure_delete=ON")
    cur.close()


def _sqlite_begin(conn) -> None:
    conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


READ_ONLY = "eocic_read_only"  # an execution option: this transaction only reads


def driver_rows(session: AsyncSession):
    """`fetch(sql, params) -> rows` in the session's transaction: the SQL text run as it is, the rows as the
    driver returns them (no column types applied), as `models/sqlite_read.py`'s fetch gives them from sqlite3,
    so that one reading of them (handlers/ticket_views.py) serves both. The session's pending changes are
    flushed first, as for any query it runs."""
    async def fetch(sql: str, params: dict):
        result = await session.exec(text(sql), params=params)
        try:
            return result.cursor.fetchall()
        finally:
            result.close()

    return fetch


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs = {} if self.is_sqlite else {"pool_size": 10, "max_overflow": 10, "pool_pre_ping": True}
        self.engine: AsyncEngine = create_async_engine(async_url(url), echo=echo, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin)
        self._reads = self.engine.execution_options(**{READ_ONLY: True})  # the same pool, for `read()`

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: committed when the block ends, rolled back on any error."""
        async with AsyncSession(self.engine, expire_on_commit=False) as session:
            async with session.begin():
                yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A transaction that only reads: on SQLite it takes no write lock, so it never queues behind a writer
        (WAL readers see the last commit). It is rolled back when the block ends."""
        async with AsyncSession(self._reads, expire_on_commit=False) as session:
            yield session

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A read-mostly session; the caller commits if it writes."""
        async with AsyncSession(self.engine, expire_on_commit=False) as session:
            yield session

    async def reclaim(self, tables: list[str]) -> bool:
        """Vacuum, outside any transaction, so erased bytes leave the database files. False if it failed.

        SQLite: VACUUM rebuilds the file, then the write-ahead log is checkpointed and truncated.
        PostgreSQL: VACUUM of each table in `tables` (the dead row versions are removed).
        """
        try:
            async with self.engine.connect() as conn:
                if self.is_sqlite:
                    driver = (await conn.get_raw_connection()).driver_connection
                    for sql in ("VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"):
                        await (await driver.execute(sql)).close()
                    return True
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                for table in tables:
                    await conn.exec_driver_sql(f'VACUUM "{table}"')
                return True
        except (DBAPIError, sqlite3.Error) as exc:  # e.g. busy for longer than the timeout
            log.warning("vacuum failed; erased bytes may stay in free pages until the next one: %s", exc)
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()
