"""`eocic-desk tickets --json` on a large SQLite database: the whole command as a user runs it.

Seeds N tickets (default 50,000), each with two messages, then times the command (a subprocess:
start-up, query, JSON out; the median of RUNS after one untimed run, which writes the bytecode an
installed desk has) and, as the same-run baseline, one joined query of the same columns with raw
sqlite3 plus `json.dumps` of the rows in this process.

    python bench/tickets_list.py [TICKETS] [RUNS]   # one JSON line (defaults 50,000, 3)
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, median
from sqlalchemy import insert

from bot.desk import opened_desk
from config.settings import load_settings
from handlers.tickets import ref_for
from models.base import utcnow
from models.tickets import Message, Ticket, TicketStatus

BASELINE_SQL = """
SELECT t.ref, t.status, t.intent, t.category, p.acronym, t.requester_email, t.subject, t.language, t.assignee,
       t.needs_review, t.reasons, t.received_at, t.first_response_at, t.closed_at, COALESCE(m.n, 0)
FROM ticket t LEFT JOIN partnership p ON p.id = t.partnership_id
LEFT JOIN (SELECT ticket_id, COUNT(*) AS n FROM message GROUP BY ticket_id) m ON m.ticket_id = t.id
ORDER BY t.id
"""


async def seed(data_dir: Path, tickets: int) -> str:
    os.environ["EOCIC_DATA_DIR"] = str(data_dir)
    settings = load_settings(http_port=0)
    now = utcnow()
    async with opened_desk(settings) as desk:
        rows = [{"ref": ref_for(i), "status": TicketStatus.new if i % 3 else TicketStatus.closed,
                 "intent": "service-request", "category": "eu-funding", "requester_email": f"p{i}@c{i % 97}.example",
                 "subject": f"Request number {i}", "received_at": now, "updated_at": now, "needs_review": False,
                 "confidence": {}, "reasons": []} for i in range(1, tickets + 1)]
        messages = [{"mailbox": "bench", "dedup_key": f"<{i}.{direction}@b>", "ticket_id": i, "direction": direction,
                     "kind": "request", "message_id": f"<{i}.{direction}@b>", "references": "", "text": "",
                     "from_addr": f"p{i}@c{i % 97}.example", "subject": f"Request number {i}", "raw": b"",
                     "to": [], "cc": [], "classification": {}, "received_at": now} for i in range(1, tickets + 1) for direction in ("in", "out")]
        async with desk.db.transaction() as session:
            conn = await session.connection()
            await conn.execute(insert(Ticket), rows)
            await conn.execute(insert(Message), messages)
    return settings.db_url


def main() -> None:
    tickets = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        db_url = asyncio.run(seed(data_dir, tickets))
        env = {**os.environ, "EOCIC_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        times = []
        for _ in range(runs + 1):
            started = time.perf_counter()
            out = subprocess.run([sys.executable, "-m", "bot.cli", "tickets", "--json"], env=env, capture_output=True,
                                 check=True).stdout
            times.append(time.perf_counter() - started)
            listed = len(json.loads(out))
        command_s = median(times[1:])
        started = time.perf_counter()
        with sqlite3.connect(db_url.split("///", 1)[1]) as conn:
            json.dumps(conn.execute(BASELINE_SQL).fetchall())
        baseline_s = time.perf_counter() - started
    assert listed == tickets, (listed, tickets)
    print(json.dumps({"measurement": "tickets --json", "tickets": tickets, "runs": runs, "seconds": round(command_s, 3),
                      "baseline_raw_query_seconds": round(baseline_s, 3), "ratio": round(baseline_s / command_s, 3),
                      "goal_seconds": 1.0}))


if __name__ == "__main__":
    main()
