"""Slack ack latency: from sending a signed request to /slack/events to its HTTP response, p50/p99,
20 concurrent clients, against a database of 10,000 tickets.

Measured: `/eocic queue` (slash command) and an "Assign to me" button; the baseline, measured in
the same run on the same server, is a signed request that Bolt verifies and routes to no
listener. For the slash command, when the last answer reached its response_url is given too
(`answers_done_after_ms`, `answers_per_second`: the queue query itself, done after the ack).

    python bench/slack_ack.py [REQUESTS_PER_MEASUREMENT]   # one JSON line per measurement
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from common import median, percentile
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

SECRET = "bench-signing-secret"
STAFF = "U0BENCH"
TICKETS = 10_000
CONCURRENCY = 20
CATEGORIES = ["eu-funding", "webinars", "peer-review", "missions-events", "sme-engagement"]


def signed(body: str) -> dict[str, str]:
    ts = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}",
            "Content-Type": "application/x-www-form-urlencoded"}


async def seed(desk) -> None:
    now = utcnow()
    rows = [{"ref": ref_for(i), "status": TicketStatus.new if i % 3 else TicketStatus.open, "intent": "service-request",
             "category": CATEGORIES[i % len(CATEGORIES)], "requester_email": f"person{i}@cluster{i % 97}.example",
             "subject": f"Request number {i}", "received_at": now, "updated_at": now, "needs_review": False,
             "confidence": {}, "reasons": []} for i in range(1, TICKETS + 1)]
    async with desk.db.transaction() as session:
        await session.execute(insert(Ticket), rows)


async def measure(url: str, bodies: list[str], sent: dict[str, float] | None = None) -> list[float]:
    """Send every body once, CONCURRENCY at a time; latencies in milliseconds. `sent`: each body's send time (monotonic)."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []

    async def client(http: aiohttp.ClientSession) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            started = time.perf_counter()
            if sent is not None:
                sent[body] = time.monotonic()
            async with http.post(url, data=body.encode(), headers=signed(body)) as resp:
                await resp.read()
                assert resp.status in (200, 404), resp.status
            latencies.append((time.perf_counter() - started) * 1000)

    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as http:
        await asyncio.gather(*(client(http) for _ in range(CONCURRENCY)))
    return latencies


def command(text: str, api: FakeSlackApi, name: str, command_name: str = "/eocic") -> str:
    return urlencode({"command": command_name, "text": text, "user_id": STAFF, "user_name": "bench", "channel_id": "C0B",
                      "team_id": "T0B", "response_url": api.response_url(name), "trigger_id": f"trig.{name}"})


def button(ref: str, n: int) -> str:
    payload = {"type": "block_actions", "user": {"id": STAFF}, "team": {"id": "T0B"}, "trigger_id": f"trig.b{n}",
               "channel": {"id": "C0B"}, "actions": [{"type": "button", "action_id": "ticket_assign_me", "value": ref,
                                                      "block_id": f"ticket:{ref}", "action_ts": str(time.time())}]}
    return urlencode({"payload": json.dumps(payload)})


def line(name: str, values: list[float], base: list[float], **extra) -> str:
    p50, p99, b50, b99 = percentile(values, 50), percentile(values, 99), percentile(base, 50), percentile(base, 99)
    return json.dumps({
        "measurement": name, "requests": len(values), "concurrency": CONCURRENCY, "tickets": TICKETS,
        "p50_ms": round(p50, 2), "p99_ms": round(p99, 2),
        "baseline": "signed request, verified by Bolt, no listener (same server, same run)",
        "baseline_p50_ms": round(b50, 2), "baseline_p99_ms": round(b99, 2),
        "ratio_p50": round(p50 / b50, 2), "ratio_p99": round(p99 / b99, 2), **extra,
    })


async def main(n: int) -> None:
    logging.getLogger("slack_bolt").setLevel(logging.ERROR)  # the baseline is unhandled on purpose: no warnings
    api = await FakeSlackApi(token="xoxb-bench", channels={"C0B": "triage"}).start()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            data_dir=Path(tmp), secret_key="bench", slack_bot_token="xoxb-bench", slack_signing_secret=SECRET,
            slack_api_url=api.url, slack_triage_channel="C0B", staff=[STAFF],
        )
        desk = await open_desk(settings)
        await seed(desk)
        edge = SlackEdge(desk, web_client(settings))
        desk.slack = edge
        runner = web.AppRunner(build_app(desk), access_log=None)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        url = f"http://127.0.0.1:{port}/slack/events"
        try:
            await measure(url, [command("help", api, f"warm{i}") for i in range(20)])
            await edge.drain()
            base = await measure(url, [command("x", api, f"base{i}", "/not-ours") for i in range(n)])

            sent_at = time.monotonic()
            names = [f"q{i}" for i in range(n)]
            queue_ms = await measure(url, [command("queue", api, name) for name in names])
            await edge.drain()
            answered = {c.args["_name"]: c.at for c in api.of("response") if c.args["_name"].startswith("q")}
            assert len(answered) == n, f"{len(answered)} of {n} answers"
            # Time from the start of the run to each answer, less the ack: how long the work after the ack took at most.
            finish = sorted((at - sent_at) * 1000 for at in answered.values())
            print(line("slash_command_queue_ack", queue_ms, base,
                       answers_done_after_ms=round(finish[-1], 1), answers_per_second=round(n / (finish[-1] / 1000), 1)))

            base = await measure(url, [command("x", api, f"base2{i}", "/not-ours") for i in range(n)])
            button_ms = await measure(url, [button(ref_for(i + 1), i) for i in range(n)])
            await edge.drain()
            print(line("button_assign_to_me_ack", button_ms, base, median_ms=round(median(button_ms), 2)))
        finally:
            await runner.cleanup()
            await desk.db.dispose()
            await api.stop()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 400))
