"""The staff queues (`/eocic queue`, App Home): the oldest tickets first, the same ones whatever the
database's size, read from `ticket_queue_index` rather than by sorting every open ticket."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
from sqlalchemy import insert, text
from sqlmodel import select

from bot.desk import open_desk
from config.settings import load_settings
from handlers import ticket_queries
from handlers.tickets import describe, get_ticket, list_tickets, ref_for
from models import migrate
from models.base import utcnow
from models.tickets import Ticket, TicketStatus
from tests.desk import run_cli

STATUSES = list(TicketStatus)
CATEGORIES = ["eu-funding", "webinars", None]
ASSIGNEES = ["U1", "U2", None]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def desk(request, tmp_path):
    url = request.getfixturevalue("postgres_db_url") if request.param == "postgresql" else ""
    desk = await open_desk(load_settings(data_dir=tmp_path, database_url=url))
    yield desk
    await desk.db.dispose()


@pytest.fixture
async def sqlite_desk(tmp_path):
    desk = await open_desk(load_settings(data_dir=tmp_path))
    yield desk
    await desk.db.dispose()


async def seed(desk, n: int) -> list[dict]:
    """n tickets in every status, with ties in their arrival time (same minute), a few assigned."""
    rng, now = random.Random(13), utcnow()
    rows = [{"ref": ref_for(i), "status": rng.choice(STATUSES), "category": rng.choice(CATEGORIES),
             "assignee": rng.choice(ASSIGNEES), "requester_email": f"p{i}@c.example", "subject": f"Request {i}",
             "received_at": now - timedelta(days=40) + timedelta(minutes=rng.randrange(300)), "updated_at": now,
             "confidence": {}, "reasons": []} for i in range(1, n + 1)]
    async with desk.db.transaction() as session:
        await (await session.connection()).execute(insert(Ticket), rows)
    return [{**row, "id": i} for i, row in enumerate(rows, start=1)]


def expected(rows: list[dict], which: str, category: str | None, limit: int) -> tuple[int, list[str]]:
    """What the queue must hold, from every ticket sorted here: (total, the refs shown)."""
    wanted = {"mine": ("new", "open", "waiting"), "unassigned": ("new", "open"), "waiting": ("waiting",),
              "all": ("new", "open", "waiting")}[which]
    matching = [r for r in rows if r["status"].value in wanted and (category is None or r["category"] == category)
                and (which != "mine" or r["assignee"] == "U1") and (which != "unassigned" or r["assignee"] is None)]
    matching.sort(key=lambda r: (r["received_at"], r["id"]))
    return len(matching), [r["ref"] for r in matching[:limit]]


@pytest.mark.parametrize("limit", [1, 15, 500])
async def test_each_queue_holds_the_oldest_matching_tickets(desk, limit):
    rows = await seed(desk, 400)
    for which in ("mine", "unassigned", "waiting", "all"):
        for category in ("eu-funding", None):
            async with desk.db.read() as session:
                data = await ticket_queries.queue(session, desk.settings, which, user_id="U1", category=category,
                                                  limit=limit)
            total, refs = expected(rows, which, category, limit)
            assert (data["total"], [t["ref"] for t in data["tickets"]]) == (total, refs), (which, category)


async def test_the_oldest_of_a_status_are_read_from_the_queue_index(sqlite_desk):
    await seed(sqlite_desk, 50)
    async with sqlite_desk.db.read() as session:
        plan = (await session.exec(text(
            "EXPLAIN QUERY PLAN SELECT id FROM ticket WHERE status = 'open' ORDER BY received_at, id LIMIT 15"))).all()
    details = " ".join(str(row[-1]) for row in plan)
    assert "ticket_queue_index" in details and "TEMP B-TREE" not in details, details


async def test_a_read_does_not_wait_for_a_writer(sqlite_desk):
    """`Database.read()` takes no write lock: a queue is answered while another transaction holds it."""
    await seed(sqlite_desk, 20)
    async with sqlite_desk.db.transaction() as writer:
        await (await writer.connection()).execute(text("UPDATE ticket SET subject = 'changing' WHERE id = 1"))
        async with sqlite_desk.db.read() as session:
            data = await ticket_queries.queue(session, sqlite_desk.settings, "all", limit=50)
    assert "changing" not in [t["subject"] for t in data["tickets"]]  # the read sees the last commit


async def test_tickets_and_ticket_read_a_migrated_database_and_migrate_an_older_one(desk, tmp_path):
    """The CLI's read path (no desk opened when the schema is the newest) lists what the desk holds;
    a database of an older schema is migrated first, as by every other command."""
    env = {"EOCIC_DATA_DIR": str(tmp_path), "EOCIC_DATABASE_URL": desk.settings.database_url}
    await seed(desk, 3)
    listed = json.loads(run_cli(env, "tickets", "--json").stdout)
    assert [t["ref"] for t in listed] == ["EOCIC-00001", "EOCIC-00002", "EOCIC-00003"]
    shown = json.loads(run_cli(env, "ticket", "2", "--json").stdout)
    assert shown["ref"] == "EOCIC-00002" and shown["messages"] == [] and shown["outgoing"] == []

    async with desk.db.transaction() as session:  # every kind of value: answered, closed, with reasons
        for i, ticket in enumerate((await session.exec(select(Ticket).order_by(Ticket.id))).all()):
            ticket.first_response_at = ticket.received_at + timedelta(hours=i + 1) if i else None
            ticket.closed_at = utcnow().replace(microsecond=0) if i == 2 else None
            ticket.reasons, ticket.needs_review = (["größe", "tüv"], True) if i == 1 else ([], False)
            session.add(ticket)
    async with desk.db.read() as session:
        listed = await list_tickets(session)
        described = [await describe(session, await get_ticket(session, t["ref"]), with_messages=False) for t in listed]
    assert listed == described  # the untyped columns of the list read back as the ORM reads them
    assert json.loads(run_cli(env, "tickets", "--json").stdout) == json.loads(json.dumps(described))

    async with desk.db.transaction() as session:  # as before the queue index's migration
        connection = await session.connection()
        await connection.execute(text("DROP INDEX ticket_queue_index"))
        await connection.execute(text("DELETE FROM alembic_version WHERE version_num = 'h12_ticket_queue_index'"))
    async with desk.db.read() as session:
        assert not await migrate.at_newest_schema(session)
    result = run_cli(env, "tickets")
    assert result.returncode == 0 and result.stdout.endswith("3 ticket(s)\n"), result.stderr
    async with desk.db.read() as session:
        assert await migrate.at_newest_schema(session)
