"""The service report on many tickets: figures and the self-contained HTML, against reading the rows.

Prints ONE JSON line:
  tickets                 service requests in the database (a year of them, ten services, 34 partnerships)
  report_s                handlers.service_report.service_report() (best of N rounds, wall clock)
  baseline_s              the same columns of the same tickets read by one SELECT, same database, same run
  ratio                   report_s / baseline_s (the cost of the counting and working-day arithmetic)
  html_s                  report_files.service_file(…, "html"): the four charts drawn + the template
  html_bytes              size of that one file

    python bench/reports.py [--tickets N] [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


async def run(n: int, rounds: int) -> dict:
    from sqlmodel import select

    from bot.desk import open_desk
    from config.settings import load_settings
    from handlers.report_files import service_file
    from handlers.service_report import COLUMNS, service_report
    from config.catalogue import CATEGORIES
    from models.partnerships import Partnership
    from models.tickets import Ticket

    with tempfile.TemporaryDirectory() as folder:
        desk = await open_desk(load_settings(data_dir=Path(folder), secret_key="bench"))
        rng = random.Random(11)
        start = datetime(2025, 1, 1, tzinfo=timezone.utc)
        async with desk.db.transaction() as session:
            ids = list(await session.exec(select(Partnership.id)))
            for i in range(n):
                received = start + timedelta(minutes=rng.randrange(365 * 24 * 60))
                answered = received + timedelta(hours=rng.randrange(1, 120)) if rng.random() < 0.9 else None
                closed = answered + timedelta(hours=rng.randrange(1, 400)) if answered and rng.random() < 0.8 else None
                session.add(Ticket(ref=f"B-{i}", intent="service-request", category=rng.choice(list(CATEGORIES)),
                                   partnership_id=rng.choice(ids), requester_email=f"r{i % 300}@x.example",
                                   language=rng.choice(["en", "fr", "de", "es", "it", "pl", "pt"]),
                                   received_at=received, first_response_at=answered, closed_at=closed))
        period = (date(2025, 1, 1), date(2025, 12, 31))

        async def best(work) -> float:
            times = []
            for _ in range(rounds):
                t = time.perf_counter()
                await work()
                times.append(time.perf_counter() - t)
            return min(times)

        async def baseline():
            async with desk.db.session() as session:
                list(await session.exec(select(*COLUMNS).where(Ticket.intent == "service-request")))

        async def report():
            async with desk.db.session() as session:
                return await service_report(session, desk.settings, *period)

        report_s, baseline_s = await best(report), await best(baseline)
        data = await report()
        t = time.perf_counter()
        html = await service_file(data, "html")
        html_s = time.perf_counter() - t
        await desk.db.dispose()
    return {"tickets": n, "report_s": round(report_s, 3), "baseline_s": round(baseline_s, 3),
            "ratio": round(report_s / baseline_s, 2), "html_s": round(html_s, 3), "html_bytes": len(html)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    print(json.dumps(asyncio.run(run(args.tickets, args.rounds))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
