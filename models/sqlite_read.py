"""A read of the SQLite desk through the standard library's sqlite3 alone: the read-only commands' quick path.

`eocic-desk tickets` and `ticket REF` answer from here when the database is a SQLite file at the
newest schema, without SQLAlchemy, aiosqlite or an event loop: importing SQLAlchemy alone takes longer than the
whole answer. The connection is opened read-only and reads in one deferred transaction, as `Database.read()`
does (one snapshot, no write lock, so it never waits for a writer). Anything else (PostgreSQL, a URL
with options or escapes, a missing, new or older database) gives None, and the caller reads through
`Database` as every command does (which creates or migrates the database first).
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterator

from models.migrate import VERSIONS_SQL, is_newest

Fetch = Callable[[str, dict], Awaitable[list[tuple[Any, ...]]]]  # (sql, params) -> the driver's rows
PLAIN = "sqlite:///"


def _path(url: str) -> Path | None:
    """The file of a plain `sqlite:///path` URL (what `EOCIC_DATA_DIR` gives); None for any other URL."""
    if not url.startswith(PLAIN) or any(c in url for c in "?%#") or url[len(PLAIN):] in ("", ":memory:"):
        return None
    return Path(url[len(PLAIN):])


@contextmanager
def sqlite_read(url: str) -> Iterator[Fetch | None]:
    """`fetch(sql, params)` in one read-only transaction on the database at `url`, or None (see the module).

    The fetch is a coroutine function, as `models.db.driver_rows`'s, so that the same reading code takes
    either; it never waits, so a caller may run it without an event loop."""
    path = _path(url)
    if path is None or not path.is_file():
        yield None
        return
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30, isolation_level=None)
    except sqlite3.Error:
        yield None
        return
    try:
        connection.execute("BEGIN")
        try:
            newest = is_newest(connection.execute(VERSIONS_SQL))
        except sqlite3.Error:  # no alembic_version: never migrated
            newest = False

        async def fetch(sql: str, params: dict):
            return connection.execute(sql, params).fetchall()

        yield fetch if newest else None
    finally:
        connection.close()
