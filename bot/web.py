"""The HTTP server (aiohttp): health and metrics for the operator, Slack's requests, and the features' routes."""

from __future__ import annotations

import time

from aiohttp import web
from sqlmodel import func, select

from bot import slack_http
from bot.features import FEATURES
from bot.startup import port_problem
from bot.web_pages import DESK_KEY
from models.outbox import OutboxMail, OutboxState
from models.slack import notice_figures
from models.tickets import Message, MessageState

def build_app(desk) -> web.Application:
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app[DESK_KEY] = desk
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    slack_http.add_routes(app)  # POST /slack/events
    for feature in FEATURES:
        if feature.routes is not None:
            feature.routes(app)
    return app


async def start_http(desk) -> web.AppRunner:
    runner = web.AppRunner(build_app(desk), access_log=None)
    await runner.setup()
    host, port = desk.settings.http_host, desk.settings.http_port
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise port_problem(exc, host, port) from None
    return runner


async def _figures(desk) -> dict:
    async with desk.db.session() as session:
        outbox = dict((await session.exec(select(OutboxMail.state, func.count()).group_by(OutboxMail.state))).all())
        quarantined = (await session.exec(select(func.count()).where(Message.state == MessageState.quarantined))).one()
        received = (await session.exec(select(func.count()).where(Message.direction == "in"))).one()
        slack = await notice_figures(session)
    watcher = desk.watcher
    delivery = desk.slack_delivery
    slack["api_errors"] = dict(delivery.errors) if delivery is not None else {}
    return {
        "role": desk.leadership.role if desk.leadership else "single",  # leader, follower or single (bot/leader.py)
        "role_since": desk.leadership.since if desk.leadership else None,  # Unix time the role began
        "messages_received": received,
        "messages_quarantined": quarantined,
        "outbox": {state.value: outbox.get(state, 0) for state in OutboxState},
        "mailbox_seconds_since_read": round(time.monotonic() - watcher.last_success, 1) if watcher else None,
        "slack": slack,
        "faults": dict(desk.deps.faults),
    }


async def healthz(request: web.Request) -> web.Response:
    desk = request.app[DESK_KEY]
    figures = await _figures(desk)
    stale = figures["mailbox_seconds_since_read"]
    held = figures["slack"]["notices"]["held"]  # Slack refused them: a person must act (figures["slack"]["problem"])
    healthy = ((stale is None or stale < desk.settings.imap_stale_alert_seconds) and not held
               and not figures["faults"])
    return web.json_response({"status": "ok" if healthy else "degraded", **figures}, status=200 if healthy else 503)


async def metrics(request: web.Request) -> web.Response:
    figures = await _figures(request.app[DESK_KEY])
    lines = [
        "# TYPE eocic_messages_received counter", f"eocic_messages_received {figures['messages_received']}",
        "# TYPE eocic_messages_quarantined gauge", f"eocic_messages_quarantined {figures['messages_quarantined']}",
        "# TYPE eocic_outbox gauge",
        *(f'eocic_outbox{{state="{state}"}} {count}' for state, count in figures["outbox"].items()),
    ]
    slack = figures["slack"]
    lines += ["# TYPE eocic_slack_notices gauge",
              *(f'eocic_slack_notices{{state="{state}"}} {count}' for state, count in slack["notices"].items())]
    if slack["api_errors"]:
        lines += ["# TYPE eocic_slack_api_errors_total counter",
                  *(f'eocic_slack_api_errors_total{{error="{error}"}} {count}' for error, count in sorted(slack["api_errors"].items()))]
    if figures["mailbox_seconds_since_read"] is not None:
        lines += ["# TYPE eocic_mailbox_seconds_since_read gauge",
                  f"eocic_mailbox_seconds_since_read {figures['mailbox_seconds_since_read']}"]
    return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")
