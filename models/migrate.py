"""Apply Alembic migrations programmatically (`eocic-desk db upgrade`, start-up, tests), and tell cheaply whether they are all applied.

`at_newest_schema` lets a read-only command skip the migration step without loading Alembic (a
third of a second): the head revisions are read from the migration files' `revision` /
`down_revision` lines, and the database's from one SELECT of `alembic_version` (`VERSIONS_SQL`). The module
imports only the standard library at the top: `models/sqlite_read.py` asks the same question through sqlite3.
"""

from __future__ import annotations

import re
from pathlib import Path

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_REVISION = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(.+)$", re.M)
_QUOTED = re.compile(r"""['"]([^'"]+)['"]""")
VERSIONS_SQL = "SELECT version_num FROM alembic_version"


def alembic_config(url: str):
    from alembic.config import Config  # Alembic loads only where migrations run

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def head_revisions() -> set[str]:
    """The revisions no other migration builds on: what `upgrade(url, "heads")` brings a database to."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for name, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            found = set(_QUOTED.findall(value))
            (revisions if name == "revision" else parents).update(found)
    return revisions - parents


def is_newest(versions) -> bool:
    """True if the `VERSIONS_SQL` rows are the head revisions: every migration is applied."""
    return {row[0] for row in versions} == head_revisions()


async def at_newest_schema(session) -> bool:
    """True if every migration is applied (the database's revisions are the heads). False if not, if it
    was never migrated, or if it cannot be reached now (the caller then opens it the usual way, which
    waits for it and says what is wrong)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    try:
        connection = await session.connection()
        rows = await connection.execute(text(VERSIONS_SQL))
    except (DBAPIError, OSError):  # no such table (a new database), or not reachable
        return False
    return is_newest(rows)
