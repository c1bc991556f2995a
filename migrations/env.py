"""Alembic environment: the URL comes from the desk's settings (or -x url=…), the schema from models."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool, text
from sqlmodel import SQLModel

import models.schema  # noqa: F401  (registers every table)
from models.db import sync_url

config = context.config
url = config.attributes.get("url") or context.get_x_argument(as_dictionary=True).get("url")
if not url:
    from config.settings import load_settings

    url = load_settings().db_url

target_metadata = SQLModel.metadata
MIGRATION_LOCK = 0x45_4F_43_49_4D  # desks starting together on one PostgreSQL migrate one after the other


def run_migrations() -> None:
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            connection.commit()  # the lock is the session's: it holds until this connection closes
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
