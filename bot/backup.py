"""`eocic-desk db backup FILE`: SQLite's online backup (consistent while the desk writes)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.startup import StartupError


def backup(db_url: str, target: Path) -> str:
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite":
        raise StartupError(
            "db backup copies SQLite databases; for PostgreSQL use its own tool, e.g. "
            f"`pg_dump --format=custom --file {target} '{url.render_as_string(hide_password=True)}'` "
            "(restore with pg_restore)"
        )
    source = Path(url.database or "")
    if not source.is_file():
        raise StartupError(f"EOCIC_DATABASE_URL: no database file at {source}")
    if target.exists():
        raise StartupError(f"{target} exists already; give a new file name")
    with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    return f"backed up {source} to {target} ({target.stat().st_size} bytes)"
