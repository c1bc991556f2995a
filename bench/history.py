"""Earlier work for the growth benchmark: N tickets, each with its inbound message and its sent
acknowledgement, spread over the last 30 days (some within the hour the acknowledgement cap counts),
from up to 5,000 known contacts of 40 partnerships, written with bulk SQL in a few seconds, so that
intake can be measured against a database with history."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import create_engine, insert, text

from models.base import utcnow
from models.db import sync_url
from models.migrate import upgrade
from models.outbox import OutboxMail, OutboxState
from models.partnerships import Contact, Partnership
from models.tickets import Message, MessageState, Ticket, TicketStatus

CHUNK = 5000
SENDERS = 5000
PARTNERSHIPS = 40


def seed_history(url: str, n: int, mailbox: str) -> None:
    """Migrate the database at `url`, then add n earlier tickets with their mail and acknowledgement."""
    upgrade(url)
    now = utcnow()
    engine = create_engine(sync_url(url))
    senders = min(n, SENDERS)
    try:
        with engine.begin() as conn:
            conn.execute(insert(Partnership.__table__), [
                {"id": p, "acronym": f"HIST{p:02d}", "name": f"Earlier partnership {p}", "type": "ESCP-4i", "sectors": [],
                 "target_countries": [], "aliases": [], "domains": [], "created_at": now, "updated_at": now}
                for p in range(1, PARTNERSHIPS + 1)])
            if senders:
                conn.execute(insert(Contact.__table__), [
                    {"id": c + 1, "email": f"earlier{c}@partner{c % PARTNERSHIPS}.example",
                     "email_domain": f"partner{c % PARTNERSHIPS}.example", "name": f"Earlier {c}",
                     "organisation": "", "partnership_id": c % PARTNERSHIPS + 1, "failing": False,
                     "created_at": now, "last_contact_at": now}
                    for c in range(senders)])
        for start in range(0, n, CHUNK):
            ids = range(start + 1, min(start + CHUNK, n) + 1)
            when = {i: now - timedelta(seconds=(n - i) * 30 * 86400 / max(n, 1)) for i in ids}
            sender = {i: f"earlier{i % senders}@partner{i % senders % PARTNERSHIPS}.example" for i in ids}
            with engine.begin() as conn:
                conn.execute(insert(Ticket.__table__), [
                    {"id": i, "ref": f"EOCIC-{i:05d}", "status": TicketStatus.closed if i < n * 0.9 else TicketStatus.open, "intent": "service-request",
                     "requester_email": sender[i], "requester_id": i % senders + 1,
                     "partnership_id": i % senders % PARTNERSHIPS + 1, "subject": f"Earlier request {i}", "language": "en", "needs_review": False,
                     "confidence": {}, "reasons": [], "received_at": when[i], "updated_at": when[i]} for i in ids])
                conn.execute(insert(Message.__table__), [
                    {"mailbox": mailbox, "dedup_key": f"<earlier-{i}@partner.example>", "content_hash": hashlib.sha256(b"%d" % i).hexdigest(),
                     "reused_message_id": False, "direction": "in", "message_id": f"<earlier-{i}@partner.example>", "ticket_id": i,
                     "from_addr": sender[i], "from_name": "", "subject": f"Earlier request {i}", "text": "An earlier request.",
                     "raw": b"", "raw_size": 0, "source": "history", "state": MessageState.recorded, "kind": "ticket",
                     "classification": {}, "to": [], "cc": [], "references": "", "received_at": when[i]} for i in ids])
                conn.execute(insert(OutboxMail.__table__), [
                    {"key": f"ack:{i}", "kind": "ack", "ticket_id": i, "message_id": f"<ack-{i}@desk.example>",
                     "mail_from": mailbox, "recipient": sender[i], "rcpt_to": [sender[i]], "raw": b"", "state": OutboxState.sent,
                     "attempts": 1, "next_attempt_at": when[i], "created_at": when[i], "sent_at": when[i]} for i in ids])
        if engine.dialect.name == "postgresql":  # rows given their ids: move the id sequences past them
            with engine.begin() as conn:
                for table in ("partnership", "contact", "ticket"):
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
        with engine.begin() as conn:  # planner statistics, as a database that grew over months has them
            conn.execute(text("ANALYZE"))
    finally:
        engine.dispose()
