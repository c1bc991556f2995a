"""The schema: migrations match the models on SQLite and PostgreSQL, and de-duplication holds on both."""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlmodel import SQLModel, select

import models.schema  # noqa: F401  (every table)
from bot.desk import open_desk
from config.settings import load_settings
from handlers.intake import Source, ingest
from models import migrate
from models.db import sync_url
from models.tickets import Message, Ticket
from tests.desk import count
from tests.test_intake import mail


def _schema_diff(url: str) -> list:
    migrate.upgrade(url)
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()
    return [d for d in diff if not _is_scheduler_table(d)]


def _is_scheduler_table(diff) -> bool:
    """APScheduler creates and owns its job table; it is not one of our models."""
    return "apscheduler_jobs" in repr(diff)


def test_migrations_create_exactly_the_models_on_sqlite(tmp_path):
    assert _schema_diff(f"sqlite:///{tmp_path / 'schema.sqlite3'}") == []


@pytest.mark.postgres
def test_migrations_create_exactly_the_models_on_postgresql(postgres_db_url):
    assert _schema_diff(postgres_db_url) == []


@pytest.mark.postgres
async def test_same_mail_twice_at_once_is_recorded_once_on_postgresql(postgres_db_url, tmp_path):
    settings = load_settings(data_dir=tmp_path, database_url=postgres_db_url)
    desk = await open_desk(settings)
    raw = mail(message_id="<twice@inovcluster.example>")
    results = await asyncio.gather(*(ingest(raw, desk.deps, Source(f"race-{i}")) for i in range(4)))
    assert sorted(r.kind for r in results) == ["duplicate", "duplicate", "duplicate", "ticket"]
    assert await count(desk.db, Message) == 1
    assert await count(desk.db, Ticket) == 1
    async with desk.db.session() as session:
        ticket = (await session.exec(select(Ticket))).one()
    assert ticket.ref == "EOCIC-00001"
    await desk.db.dispose()


def test_the_head_revisions_read_from_the_files_are_alembics(tmp_path):
    """`at_newest_schema` (which lets `eocic-desk tickets` skip Alembic) knows the same heads as Alembic."""
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_heads()
    assert migrate.head_revisions() == set(heads) and len(heads) >= 1


async def test_a_database_is_at_the_newest_schema_only_after_every_migration(tmp_path):
    from models.db import Database

    url = f"sqlite:///{tmp_path / 'desk.sqlite3'}"
    db = Database(url)
    try:
        async with db.read() as session:
            assert not await migrate.at_newest_schema(session)  # a new, empty database
        await asyncio.to_thread(migrate.upgrade, url, "d62713ae1a2d")  # the first migration only
        async with db.read() as session:
            assert not await migrate.at_newest_schema(session)
        await asyncio.to_thread(migrate.upgrade, url)
        async with db.read() as session:
            assert await migrate.at_newest_schema(session)
    finally:
        await db.dispose()


def test_contacts_recorded_before_the_domain_column_get_their_domain(tmp_path):
    """The migration that adds `contact.email_domain` fills it in for the contacts already there, so an
    organisation's earlier contacts still tell which partnership a new colleague writes for."""
    from alembic import command

    url = f"sqlite:///{tmp_path / 'desk.sqlite3'}"
    migrate.upgrade(url)
    command.downgrade(migrate.alembic_config(url), "contact_domain@-1")
    engine = create_engine(sync_url(url))
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO contact (email, name, organisation, failing, soft_bounces, created_at) VALUES "
                             "('ana@Baltic-Forge.example', '', '', 0, 0, '2026-01-01'), ('\"a@b\"@quoted.example', '', '', 0, 0, '2026-01-01'), "
                             "('no-at-sign', '', '', 0, 0, '2026-01-01')")
    migrate.upgrade(url)
    with engine.connect() as conn:
        rows = dict(conn.exec_driver_sql("SELECT email, email_domain FROM contact").all())
    engine.dispose()
    assert rows == {"ana@Baltic-Forge.example": "baltic-forge.example", '"a@b"@quoted.example': "quoted.example", "no-at-sign": "no-at-sign"}


async def test_rows_inserted_together_get_their_defaults_and_a_wrong_field_is_named(tmp_path):
    from models.base import insert_all
    from models.db import Database

    url = f"sqlite:///{tmp_path / 'desk.sqlite3'}"
    migrate.upgrade(url)
    db = Database(url)
    try:
        async with db.transaction() as session:
            first, second = await insert_all(session, Ticket, [{"subject": "one"}, {"subject": "two", "reasons": ["x"]}])
            assert first.id < second.id and (first.subject, second.subject) == ("one", "two")
            assert first.reasons == [] and second.reasons == ["x"] and first.received_at.tzinfo is not None
            with pytest.raises(TypeError, match="no field subjet"):
                await insert_all(session, Ticket, [{"subjet": "typo"}])
            with pytest.raises(TypeError, match="Message.mailbox has no default"):
                await insert_all(session, Message, [{"dedup_key": "k"}])
        async with db.read() as session:
            assert [t.subject for t in (await session.exec(select(Ticket).order_by(Ticket.id))).all()] == ["one", "two"]
    finally:
        await db.dispose()
