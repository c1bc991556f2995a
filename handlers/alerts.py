"""Alerts for the operator: a part of the desk that cannot go on (a refused mailbox credential,
a mailbox not read for too long) says so in the log, in the Slack triage channel, and, while it
lasts, in `/healthz` (which then answers 503 "degraded")."""

from __future__ import annotations

import logging
import time

from handlers.context import Deps
from handlers.mrkdwn import escape
from handlers.slack_notify import post_text

log = logging.getLogger(__name__)


async def alert(deps: Deps, part: str, text: str, *, fault: bool = False) -> None:
    """Tell the operator; with `fault`, `part` ("mailbox", "outbox") is stopped until a restart."""
    log.error("%s: %s", part, text)
    if fault:
        deps.faults[part] = text
    async with deps.db.transaction() as session:
        await post_text(session, deps.settings, f"alert:{part}:{time.time_ns()}", f":rotating_light: *{part}*: {escape(text)}")
