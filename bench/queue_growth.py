"""`/eocic queue` answered as the database grows: 50,000 tickets against the baseline of 1,000.

Two desks run side by side in this process, each with its HTTP server and Bolt app, one seeded
with 1,000 tickets and one with 50,000 (a realistic mix: received over the past months, most of the
older ones closed, a quarter still new, open or waiting). Signed slash-command requests go over
real HTTP, 20 at a time; a request is answered when its response_url post (the queue itself,
composed after the ack) reaches the Slack stand-in. The two desks are measured in alternating
rounds, so a busy moment of the machine slows both alike.

    python bench/queue_growth.py [REQUESTS_PER_ROUND] [ROUNDS]   # one JSON line (defaults 100, 4)
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from aiohttp import web
from common import percentile
from slack_ack import CATEGORIES, SECRET, STAFF, command, measure
from sqlalchemy import insert

from bot.desk import open_desk
from bot.slack.app import SlackEdge, web_client
from bot.web import build_app
from config.settings import load_settings
from handlers.tickets import ref_for
from models.base import utcnow
from models.tickets import Ticket, TicketStatus
from tests.servers import free_port
from tests.slack_api import FakeSlackApi

SIZES = (1_000, 50_000)
NOT_CLOSED = (TicketStatus.new, TicketStatus.open, TicketStatus.waiting)


def rows(tickets: int) -> list[dict]:
    """One ticket every 10 minutes up to now; the newest quarter not closed, the rest closed (every 13th still open)."""
    now = utcnow()
    out = []
    for i in range(1, tickets + 1):
        recent = i > tickets * 3 // 4
        status = NOT_CLOSED[i % 3] if recent or i % 13 == 0 else TicketStatus.closed
        out.append({"ref": ref_for(i), "status": status, "intent": "service-request",
                    "category": CATEGORIES[i % len(CATEGORIES)], "requester_email": f"person{i}@cluster{i % 97}.example",
                    "subject": f"Request number {i}", "received_at": now - timedelta(minutes=10 * (tickets - i)),
                    "updated_at": now, "needs_review": False, "confidence": {}, "reasons": []})
    return out


async def start_desk(tmp: Path, tickets: int, api: FakeSlackApi):
    settings = load_settings(
        data_dir=tmp, secret_key="bench", slack_bot_token="xoxb-bench", slack_signing_secret=SECRET,
        slack_api_url=api.url, slack_triage_channel="C0B", staff=[STAFF],
    )
    desk = await open_desk(settings)
    async with desk.db.transaction() as session:
        await (await session.connection()).execute(insert(Ticket), rows(tickets))
    desk.slack = SlackEdge(desk, web_client(settings))
    runner = web.AppRunner(build_app(desk), access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return desk, runner, f"http://127.0.0.1:{port}/slack/events"


async def answer_ms(url: str, desk, api: FakeSlackApi, prefix: str, n: int) -> list[float]:
    """Send n `/eocic queue` requests; for each, the milliseconds from sending it to its answer's arrival."""
    names = [f"{prefix}.{i}" for i in range(n)]
    bodies = {command("queue", api, name): name for name in names}
    sent: dict[str, float] = {}
    await measure(url, list(bodies), sent=sent)
    await desk.slack.drain()
    answered = {c.args["_name"]: c.at for c in api.of("response") if c.args["_name"].startswith(prefix + ".")}
    assert len(answered) == n, f"{len(answered)} of {n} answers"
    assert all("Queue `all`" in c.args.get("text", "") for c in api.of("response") if c.args["_name"] in answered)
    return [(answered[name] - sent[body]) * 1000 for body, name in bodies.items()]


async def main(n: int, rounds: int) -> None:
    logging.getLogger("slack_bolt").setLevel(logging.ERROR)
    api = await FakeSlackApi(token="xoxb-bench", channels={"C0B": "triage"}).start()
    desks = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for size in SIZES:
                (Path(tmp) / str(size)).mkdir()
                desks.append(await start_desk(Path(tmp) / str(size), size, api))
            for (desk, _, url), size in zip(desks, SIZES):  # warm-up: connections, caches
                await answer_ms(url, desk, api, f"warm{size}", 20)
            latencies: dict[int, list[float]] = {size: [] for size in SIZES}
            for r in range(rounds):
                for (desk, _, url), size in zip(desks, SIZES):
                    latencies[size] += await answer_ms(url, desk, api, f"r{r}.{size}", n)
        finally:
            for desk, runner, _ in desks:
                await runner.cleanup()
                await desk.db.dispose()
            await api.stop()
    small, large = (latencies[size] for size in SIZES)
    p50, p99, b50, b99 = percentile(large, 50), percentile(large, 99), percentile(small, 50), percentile(small, 99)
    print(json.dumps({
        "measurement": "/eocic queue answered (response_url post arrived)", "requests": len(large), "concurrency": 20,
        "tickets": SIZES[1], "p50_ms": round(p50, 2), "p99_ms": round(p99, 2),
        "baseline": f"the same at {SIZES[0]:,} tickets (same run, alternating rounds)",
        "baseline_p50_ms": round(b50, 2), "baseline_p99_ms": round(b99, 2),
        "ratio_p50": round(p50 / b50, 2), "ratio_p99": round(p99 / b99, 2), "goal_ratio_p99": 1.2,
    }))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100, int(sys.argv[2]) if len(sys.argv) > 2 else 4))
