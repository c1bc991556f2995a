"""`eocic-desk tickets` and `ticket REF` read a SQLite desk through sqlite3 alone (models/sqlite_read.py):
the same bytes as through SQLAlchemy (the path a PostgreSQL desk, or a SQLite URL with options, takes),
for every option, on tickets of every kind; and hostile references get one line, never a traceback."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from bot.desk import open_desk
from config.settings import load_settings
from models.outbox import OutboxMail, OutboxState
from models.partnerships import Partnership
from models.tickets import Attachment, Message, Ticket, TicketStatus
from tests.desk import run_cli

T0 = datetime(2026, 11, 30, 8, 15, 0, tzinfo=timezone.utc)  # whole seconds: SQLite stores ".000000"
# Run as the entry point does, then refuse to have loaded the database stack: the quick path was taken.
QUICK = ("import sys; from bot.cli import main; code = main(sys.argv[1:]); "
         "loaded = [m for m in ('sqlalchemy', 'sqlmodel', 'aiosqlite', 'psycopg') if m in sys.modules]; "
         "sys.exit(f'loaded {loaded}') if loaded else sys.exit(code)")


async def seed(desk) -> list[str]:
    """Tickets of every kind, the same on every database: unicode, NULLs, each status, several partnerships,
    messages with and without a Date, attachments, outgoing mail pending, sent and failed. Their refs."""
    async with desk.db.transaction() as session:
        acronyms = [p.acronym for p in (await session.exec(select(Partnership).order_by(Partnership.id))).all()[:3]]
        ids = {a: (await session.exec(select(Partnership.id).where(Partnership.acronym == a))).one() for a in acronyms}
        kinds = [
            dict(subject="Förderung für 🚀 Cluster — «dringend»", category="eu-funding", partnership=acronyms[0],
                 language="de", reasons=["größe", "tüv \"quoted\""], needs_review=True, status=TicketStatus.open,
                 assignee="U1", first=T0 + timedelta(hours=5, microseconds=123456)),
            dict(subject="", category=None, partnership=None, language=None, reasons=[], needs_review=False,
                 status=TicketStatus.new, assignee=None, first=None),
            dict(subject="Closed one\twith a tab and a very long subject " + "x" * 120, category="webinars",
                 partnership=acronyms[1], language="fr", reasons=["a\nnewline"], needs_review=False,
                 status=TicketStatus.closed, assignee="U2", first=T0 + timedelta(days=1), closed=T0 + timedelta(days=2)),
            dict(subject="日本語の件名", category="other", partnership=acronyms[2], language="ja", reasons=[],
                 needs_review=True, status=TicketStatus.waiting, assignee=None, first=T0 + timedelta(minutes=1)),
        ]
        for i, kind in enumerate(kinds):
            ticket = Ticket(ref=f"EOCIC-{i + 1:05d}", subject=kind["subject"], category=kind["category"],
                            partnership_id=ids.get(kind["partnership"]), language=kind["language"],
                            reasons=kind["reasons"], needs_review=kind["needs_review"], status=kind["status"],
                            assignee=kind["assignee"], requester_email=f"p{i}@örg{i}.example",
                            received_at=T0 + timedelta(hours=i, microseconds=i * 1001),
                            first_response_at=kind["first"], closed_at=kind.get("closed"), updated_at=T0)
            session.add(ticket)
            await session.flush()
            for j in range(i):  # none, one, two, three messages
                message = Message(mailbox="desk@eocic.example", dedup_key=f"k{i}.{j}", ticket_id=ticket.id,
                                  direction="in" if j % 2 == 0 else "out", kind="ticket" if j == 0 else "reply",
                                  from_addr=f"p{i}@örg{i}.example", subject=f"Re: {kind['subject']}"[:998],
                                  date=None if j == 1 else T0 + timedelta(minutes=j, microseconds=7),
                                  received_at=T0 + timedelta(hours=i, minutes=j), message_id=f"<{i}.{j}@x>" if j else None)
                session.add(message)
                await session.flush()
                session.add(Attachment(message_id=message.id, filename="übersicht.pdf", content_type="application/pdf",
                                       size=3, content=b"pdf"))
            for j, state in enumerate([OutboxState.sent, OutboxState.failed, OutboxState.pending][:i]):
                session.add(OutboxMail(key=f"o{i}.{j}", kind="ack", ticket_id=ticket.id, message_id=f"<o{i}.{j}@d>",
                                       mail_from="desk@eocic.example", recipient=f"p{i}@örg{i}.example", state=state,
                                       attempts=j, created_at=T0 + timedelta(hours=i, seconds=j),
                                       next_attempt_at=T0, sent_at=T0 + timedelta(hours=i, seconds=30) if j == 0 else None,
                                       last_error="550 5.1.1 no such\n  user  —  ünknown" if j == 1 else None))
    return [f"EOCIC-{i + 1:05d}" for i in range(len(kinds))]


def commands(refs: list[str]) -> list[list[str]]:
    listings = [["tickets"], *(["tickets", "--status", s.value] for s in TicketStatus)]
    shown = [["ticket", ref] for ref in [*refs, "3", "eocic-4", "[EOCIC-00002]", "EOCIC-00099"]]
    return [*listings, *shown, *([*args, "--json"] for args in listings + shown)]


def quick(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", QUICK, *args], env=env, capture_output=True, timeout=120)


def full(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env, capture_output=True, timeout=120)


async def seeded(settings) -> list[str]:
    desk = await open_desk(settings)
    try:
        return await seed(desk)
    finally:
        await desk.db.dispose()


@pytest.fixture
def sqlite_env(tmp_path):
    refs = asyncio.run(seeded(load_settings(data_dir=tmp_path)))
    env = {**os.environ, "EOCIC_DATA_DIR": str(tmp_path)}
    env.pop("EOCIC_DATABASE_URL", None)
    return env, refs


def outcome(result: subprocess.CompletedProcess) -> tuple[int, bytes, bytes]:
    return result.returncode, result.stdout, result.stderr


def test_the_quick_read_prints_what_sqlalchemy_reads(sqlite_env):
    """Every option, on both paths: the same exit code, the same bytes on stdout and stderr."""
    env, refs = sqlite_env
    through_sqlalchemy = {**env, "EOCIC_DATABASE_URL": f"sqlite:///{env['EOCIC_DATA_DIR']}/desk.sqlite3?timeout=30"}
    for args in commands(refs):
        fast = quick(env, *args)
        assert fast.returncode in (0, 1), (args, fast.stderr[-2000:])  # 1: EOCIC-00099 does not exist
        assert outcome(fast) == outcome(full(through_sqlalchemy, *args)), args
    listed = json.loads(quick(env, "tickets", "--json").stdout)
    assert [t["status"] for t in listed] == ["open", "new", "closed", "waiting"]
    assert listed[0]["subject"] == "Förderung für 🚀 Cluster — «dringend»" and listed[0]["reasons"][1] == 'tüv "quoted"'
    assert listed[1]["category"] is None and listed[1]["partnership"] is None and listed[0]["messages"] == 0
    assert listed[2]["closed_at"] == "2026-12-02T08:15:00+00:00" and listed[3]["messages"] == 3
    assert [t["ref"] for t in json.loads(quick(env, "tickets", "--status", "closed", "--json").stdout)] == ["EOCIC-00003"]
    shown = json.loads(quick(env, "ticket", "eocic-4", "--json").stdout)
    assert [m["date"] for m in shown["messages"]] == ["2026-11-30T08:15:00.000007+00:00", "2026-11-30T11:16:00+00:00",
                                                      "2026-11-30T08:17:00.000007+00:00"]
    assert [(o["state"], o["sent_at"]) for o in shown["outgoing"]] == [
        ("sent", "2026-11-30T11:15:30+00:00"), ("failed", None), ("pending", None)]
    text = quick(env, "ticket", "EOCIC-00004").stdout.decode()
    assert "failed   attempts 1  (550 5.1.1 no such user — ünknown)" in text and "     subject: 日本語の件名" in text


@pytest.mark.postgres
async def test_postgresql_prints_what_the_quick_sqlite_read_prints(sqlite_env, postgres_db_url, tmp_path):
    """The same tickets in PostgreSQL (read through SQLAlchemy and psycopg) show byte for byte the same."""
    env, refs = sqlite_env
    await seeded(load_settings(data_dir=tmp_path / "pg", database_url=postgres_db_url))
    pg_env = {**env, "EOCIC_DATABASE_URL": postgres_db_url}
    for args in commands(refs):
        assert outcome(quick(env, *args)) == outcome(full(pg_env, *args)), args


HOSTILE = {
    "100,000 characters": "E" * 100_000,
    "non-ASCII letters": "EOCIC-ÄÖÜ-ß-日本",
    "SQL metacharacters": "EOCIC-1' OR '1'='1'; DROP TABLE ticket; --",
    "LIKE and quote characters": "%_\"\\'[]",
    "an undecodable byte (a lone surrogate)": b"EOCIC-\xff\xfe".decode("utf-8", "surrogateescape"),
}


@pytest.mark.parametrize("path", ["quick", "sqlalchemy"])
@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_a_hostile_reference_gets_one_line(case, path, sqlite_env):
    env, _ = sqlite_env
    if path == "sqlalchemy":
        env = {**env, "EOCIC_DATABASE_URL": f"sqlite:///{env['EOCIC_DATA_DIR']}/desk.sqlite3?timeout=30"}
    run = quick if path == "quick" else full
    for args in (["ticket", HOSTILE[case]], ["ticket", HOSTILE[case], "--json"]):
        result = run(env, *args)
        err = result.stderr.decode(errors="replace")
        assert result.returncode == 1 and result.stdout == b"", err[-500:]
        assert err.startswith("eocic-desk: there is no ticket ") and err.count("\n") == 1 and len(err) < 200, err[-500:]
    listed = run(env, "tickets")
    assert listed.returncode == 0 and listed.stdout.endswith(b"4 ticket(s)\n"), listed.stderr[-500:]  # nothing changed


def test_a_megabyte_reference_gets_one_line(sqlite_env, monkeypatch, capsys):
    """A megabyte is past what one command-line argument may hold (128 KiB on Linux): given to main() directly."""
    from bot.cli import main

    env, _ = sqlite_env
    monkeypatch.setenv("EOCIC_DATA_DIR", env["EOCIC_DATA_DIR"])
    assert main(["ticket", "EOCIC-" + "9" * 2**20]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("eocic-desk: there is no ticket 'EOCIC-999")
    assert captured.err.count("\n") == 1 and len(captured.err) < 200


def test_the_quick_read_does_not_wait_for_a_writer(sqlite_env):
    """As `Database.read()`: a transaction holding the write lock (BEGIN IMMEDIATE, a change not committed)
    neither delays the listing nor shows in it."""
    env, _ = sqlite_env
    writer = sqlite3.connect(f"{env['EOCIC_DATA_DIR']}/desk.sqlite3", isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE ticket SET subject = 'changing' WHERE id = 2")
        started = time.monotonic()
        result = quick(env, "tickets", "--json")
        assert time.monotonic() - started < 20 and result.returncode == 0, result.stderr[-500:]  # the busy timeout is 30 s
        assert "changing" not in [t["subject"] for t in json.loads(result.stdout)]
    finally:
        writer.close()
